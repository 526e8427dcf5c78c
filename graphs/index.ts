// The graph builders as a library (`ocsf-embed/graphs`): training configurations, the train-step,
// eval-step and encoder graphs with their manifest, and the ONNX builder they are written with.
export {
  type Artifacts,
  buildArtifacts,
  buildEncoder,
  buildEvalStep,
  buildTrainStep,
  type GraphManifest,
  type GraphTarget,
  type IoSpec,
  type Manifest,
  trainingSpecs,
} from './artifacts.ts';
export {
  ConfigError,
  type InputWidths,
  type ModelChoices,
  OBJECTIVE_DEFAULTS,
  type ObjectiveConfig,
  REFERENCE_OBJECTIVE,
  resolveTrainingChoices,
  resolveTrainingConfig,
  type TrainingChoices,
  type TrainingConfig,
  validateConfig,
  withInputs,
} from './config.ts';
export { MODEL_DEFAULTS, type ModelConfig } from './models/tabular-resnet.ts';
export { Builder, type Shape, type TensorData, Value } from './onnx/builder.ts';
export { encodeModel } from './onnx/encode.ts';
export { GraphError, validate } from './onnx/validate.ts';
export { ADAMW_DEFAULTS, type AdamWConfig } from './optim/adamw.ts';
