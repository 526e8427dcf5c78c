// The library API in a browser (`import … from 'ocsf-embed'` under the `browser` condition, which
// bundlers apply): the portable API, plus opening models and runs from bytes on onnxruntime-web (an
// optional peer dependency that this entry needs). Point `env.wasm.wasmPaths` of onnxruntime-web at its
// .wasm files when the bundler does not serve them beside the bundle.
import { UserError } from './core/errors.ts';
import { webKnnRuntime } from './detect/knn.web.ts';
import { loadEmbedder } from './embed/embedder.web.ts';
import { Reconstructor } from './embed/reconstruction.ts';
import { RunModel } from './run/run-model.ts';
import { decodeRunScoring, MISSING_RECONSTRUCTION, withThresholdPercentile } from './run/scoring.ts';
import { createSession, type SessionConfig } from './runtime/session.web.ts';

export { webKnnRuntime } from './detect/knn.web.ts';
export { loadEmbedder } from './embed/embedder.web.ts';
export * from './index.ts';
export { availableDevices, createSession } from './runtime/session.web.ts';

/**
 * The files of a run, as bytes: model.onnx, and for scoring the run's reference.safetensors and
 * scorer.json, with its reconstruction.onnx when the scorer ranks reconstruction surprise.
 */
export interface RunFiles {
  model: Uint8Array;
  reference?: Uint8Array;
  scorer?: Uint8Array | string;
  reconstruction?: Uint8Array;
}

/** Options of {@link openRun}: the sessions', and where the threshold sits. */
export interface OpenRunOptions extends SessionConfig {
  /**
   * Flag events above this percentile (above 0, below 100) of the reference events' own scores instead of
   * the scorer's own threshold (95 unless it was fitted otherwise).
   */
  thresholdPercentile?: number;
}

/**
 * Opens a run from its files' bytes (fetched, or picked by the user) on onnxruntime-web: embedding with
 * model.onnx, and scoring when the reference set and scorer are given too. Release it when done.
 */
export async function openRun(files: RunFiles, options: OpenRunOptions = {}): Promise<RunModel> {
  const { thresholdPercentile, ...config } = options;
  const decoded = files.reference && files.scorer ? decodeRunScoring(files.reference, files.scorer) : null;
  const scoring =
    decoded && thresholdPercentile !== undefined
      ? withThresholdPercentile(decoded, thresholdPercentile)
      : decoded;
  if (scoring?.scorer.reconstructionScale && !files.reconstruction) {
    throw new UserError(MISSING_RECONSTRUCTION);
  }
  const embedder = await loadEmbedder(files.model, config);
  const reconstructor =
    files.reconstruction && scoring?.scorer.reconstructionScale
      ? await Reconstructor.fromBytes(
          files.reconstruction,
          async (b) => (await createSession(b, config)).session,
        )
      : null;
  return new RunModel(
    embedder,
    scoring,
    webKnnRuntime({ ...config, device: config.device ?? 'cpu' }),
    reconstructor,
  );
}
