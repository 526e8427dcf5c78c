// A model loaded once for serving and batch scoring: the embedding session, and for a run directory its
// reference embeddings, their uids and the fitted scorer, all kept in memory and reused for every batch.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { compilePathGetter } from '../data/flatten.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { loadEmbedder } from '../embed/embedder.node.ts';
import type { Embedder } from '../embed/embedder.ts';
import type { Reconstructor } from '../embed/reconstruction.ts';
import type { ScoreRow } from '../io/writers.node.ts';
import type { Provider, SessionConfig } from '../runtime/session.node.ts';
import { RUN_FILES } from './layout.ts';
import { RunModel } from './run-model.ts';
import { loadRunReconstructor, loadRunScorer } from './scoring.node.ts';
import { type RunScoringState, type ScoredBatch, withThresholdPercentile } from './scoring.ts';

/** Where a `--model` argument points: the model file, and the run directory when it names one. */
export interface ModelLocation {
  modelPath: string;
  runDir: string | null;
}

/** Resolves a `--model` argument (a run directory or a model.onnx file); errors say what to pass. */
export function locateModel(path: string, flag = '--model'): ModelLocation {
  if (typeof path !== 'string') throw new UserError(`give ${flag} once, e.g. ${flag} runs/first`);
  if (!existsSync(path)) {
    throw new UserError(
      `${flag} ${path} does not exist: give a run directory written by \`ocsf-embed train\` or a model.onnx file`,
    );
  }
  if (statSync(path).isDirectory()) {
    const modelPath = join(path, RUN_FILES.model);
    if (!existsSync(modelPath) && !existsSync(join(path, RUN_FILES.config))) {
      throw new UserError(
        `${flag} ${path} is not a run directory (no ${RUN_FILES.config}): give the --out directory of \`ocsf-embed train\`, e.g. ${flag} runs/first`,
      );
    }
    if (!existsSync(modelPath)) {
      throw new UserError(
        `${path} holds no ${RUN_FILES.model}: it is written when training finishes (\`ocsf-embed train --resume ${path}\`), or export one with \`ocsf-embed export ${path} --out ${modelPath}\``,
      );
    }
    return { modelPath, runDir: path };
  }
  return { modelPath: path, runDir: null };
}

/** One score row per event of a scored batch. */
export function scoreRows(s: ScoredBatch): ScoreRow[] {
  return s.uids.map((uid, i) => ({
    uid,
    score: s.scores[i]!,
    threshold: s.threshold,
    is_anomaly: s.isAnomaly[i] === 1,
    nearest: s.nearest[i]!,
    why: s.why[i]!,
    reasons: s.reasons[i]!.map(({ field, value, reason }) => ({ field, value, reason })),
  }));
}

/** Options for {@link LoadedModel.open}. */
export interface OpenOptions extends SessionConfig {
  /** Fail unless the path is a run directory with a fitted scorer. */
  requireScorer?: boolean;
  /** Load the run's scorer when there is one (default true); embedding alone does not need it. */
  loadScorer?: boolean;
  flag?: string;
  /**
   * Flag events above this percentile (above 0, below 100) of the reference events' own scores instead of
   * the scorer's own threshold (95 unless it was fitted otherwise).
   */
  thresholdPercentile?: number;
}

/**
 * A {@link RunModel} opened from disk: an embedder plus, for a run directory, its scorer; open once, then
 * embed and score batches. The k-NN search runs where the embedder's session landed (device and intra-op
 * threads), so `--device` and `--threads` reach both.
 */
export class LoadedModel extends RunModel {
  private readonly uidOf: ((record: object) => unknown) | null;

  private constructor(
    readonly location: ModelLocation,
    embedder: Embedder,
    readonly device: Provider,
    readonly threads: number | undefined,
    readonly notice: string | undefined,
    scoring: RunScoringState | null,
    reconstructor: Reconstructor | null,
    /** The options it was opened with (a copy of the model elsewhere opens the same way). */
    readonly openOptions: OpenOptions,
  ) {
    super(
      embedder,
      scoring,
      nodeKnnRuntime({ device: device === 'wasm' ? 'cpu' : device, threads }),
      reconstructor,
    );
    this.uidOf = embedder.spec.uidPath ? compilePathGetter(embedder.spec.uidPath) : null;
  }

  /** Loads model.onnx (and the run's scorer when `path` is a run directory). */
  static async open(path: string, options: OpenOptions = {}): Promise<LoadedModel> {
    const { requireScorer, loadScorer = true, flag, thresholdPercentile, ...session } = options;
    const location = locateModel(path, flag);
    if (requireScorer && !location.runDir) {
      const f = flag ?? '--model';
      throw new UserError(
        /\.onnx$/i.test(path)
          ? `${f} ${path} is a model file; scoring needs the run directory it came from (reference embeddings and scorer), e.g. ${f} runs/first`
          : `${f} ${path} is not a run directory: give the --out directory of \`ocsf-embed train\`, e.g. ${f} runs/first`,
      );
    }
    const loaded =
      location.runDir &&
      (requireScorer || (loadScorer && existsSync(join(location.runDir, RUN_FILES.scorer))))
        ? loadRunScorer(location.runDir)
        : null;
    const scoring =
      loaded && thresholdPercentile !== undefined
        ? withThresholdPercentile(loaded, thresholdPercentile)
        : loaded;
    const { embedder, device, threads, notice } = await loadEmbedder(location.modelPath, session);
    if (scoring && scoring.d !== embedder.dimension) {
      await embedder.release();
      throw new UserError(
        `${location.runDir}: the scorer was fitted on embeddings of width ${scoring.d} but model.onnx gives ${embedder.dimension}; re-export the model with \`ocsf-embed export ${location.runDir} --out ${location.modelPath}\``,
      );
    }
    let reconstructor: Reconstructor | null = null;
    if (scoring?.scorer.reconstructionScale && location.runDir) {
      const runtime = { device: device === 'wasm' ? ('cpu' as const) : device, threads };
      reconstructor = await loadRunReconstructor(location.runDir, runtime).catch(async (e: unknown) => {
        await embedder.release();
        throw e;
      });
    }
    return new LoadedModel(location, embedder, device, threads, notice, scoring, reconstructor, options);
  }

  /** The uid of each event (the spec's uid path), or null where it has none. */
  uidsOf(events: readonly object[]): (string | null)[] {
    const get = this.uidOf;
    if (!get) return events.map(() => null);
    return events.map((e) => {
      const v = get(e);
      return v === undefined || v === null ? null : String(v);
    });
  }

  /** Embeddings of the events in one session run, row-major [events, dimension]. */
  override embed(events: readonly object[], normalized = false): Promise<Float32Array> {
    return this.embedder.embed(events, { normalized, batchSize: Math.max(1, events.length) });
  }

  protected override get missingScoring(): string {
    return 'scoring needs a run directory (reference embeddings and scorer)';
  }
}
