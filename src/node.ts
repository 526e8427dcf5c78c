// The library API in Node (`import … from 'ocsf-embed'` under the `node` condition): the portable API,
// plus training into run directories, opening runs and models from disk, and ONNX Runtime for Node.
import { LoadedModel, type OpenOptions } from './run/model.node.ts';

export { type LoadedEvents, type LoadOptions, loadEvents } from './dataset/load.node.ts';
export { nodeKnnRuntime } from './detect/knn.node.ts';
export { loadEmbedder, loadReconstructor } from './embed/embedder.node.ts';
export * from './index.ts';
export { LoadedModel, type OpenOptions } from './run/model.node.ts';
export { availableDevices, createSession } from './runtime/session.node.ts';
export {
  type BatchProgress,
  type CommonTrainOptions,
  type TrainDatasetOptions,
  type TrainedModel,
  type TrainedRun,
  type TrainingConfigInput,
  type TrainOptions,
  train,
  trainDataset,
} from './train/api.node.ts';
export { type ExportResult, exportRun } from './train/export-run.node.ts';

/**
 * Opens a run directory written by {@link train} (or `ocsf-embed train`) for embedding and scoring, or
 * a model.onnx file for embedding only. Release it when done.
 */
export function openRun(path: string, options: OpenOptions = {}): Promise<LoadedModel> {
  return LoadedModel.open(path, { flag: 'path', ...options });
}
