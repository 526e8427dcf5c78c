// The portable library API (`import … from 'ocsf-embed'` where neither the `node` nor the `browser`
// condition applies): everything that runs on any JavaScript runtime. src/node.ts and src/browser.ts add
// the runtime-specific loaders on top of this; see docs/api.md.

export { UserError, type UserErrorKind } from './core/errors.ts';
export {
  DEFAULT_START,
  type GenerateOptions,
  generate,
  generateEvents,
  type Label,
  type LabelledEvent,
  SCENARIOS,
} from './data/generate/index.ts';
export { parseEventBytes } from './data/parse.ts';
export {
  type EncodedDataset,
  encodeDataset,
  splitTrainVal,
  subsetDataset,
} from './dataset/dataset.ts';
export type { KnnRuntime } from './detect/knn.ts';
export { type Evaluation, evaluate } from './detect/metrics.ts';
export { Embedder, type EmbedOptions, type RawBatch } from './embed/embedder.ts';
export { Reconstructor } from './embed/reconstruction.ts';
export {
  fitSpec,
  parseSpec,
  parseSpecOptions,
  type SpecOptions,
  serializeSpec,
  specTable,
} from './features/spec.ts';
export type { FittedSpec } from './features/types.ts';
export type { Checkpoint, TrainerPosition } from './run/checkpoint.ts';
export { RUN_FILES } from './run/layout.ts';
export type { EpochRecord, StepRecord } from './run/metrics.ts';
export { RunModel } from './run/run-model.ts';
export {
  decodeRunScoring,
  eventUids,
  type RunScoringState,
  type ScoredBatch,
  scoreEmbeddings,
} from './run/scoring.ts';
export type { Device, SessionConfig, SessionFactory } from './runtime/session.ts';
export {
  FIT_DEFAULTS,
  type FitCallbacks,
  type FitOptions,
  type FitResult,
  Trainer,
} from './train/trainer.ts';
