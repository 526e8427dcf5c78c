// A model loaded once for serving and batch scoring: the embedding session, and for a run directory its
// reference embeddings, their uids and the fitted scorer, all kept in memory and reused for every batch.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/errors.ts';
import { compilePathGetter } from '../data/flatten.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { releaseKnnSession } from '../detect/knn.ts';
import { loadRunScorer } from '../detect/run.node.ts';
import { EXPLAIN, type FittedScorer, score } from '../detect/scorer.ts';
import { loadEmbedder } from '../embed/embedder.node.ts';
import type { Embedder } from '../embed/embedder.ts';
import type { SessionConfig } from '../runtime/session.node.ts';
import { RUN_FILES } from '../train/run.node.ts';

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
    if (!existsSync(modelPath)) {
      throw new UserError(
        `${path} holds no ${RUN_FILES.model}: it is written when training finishes (\`ocsf-embed train --resume ${path}\`), or export one with \`ocsf-embed export ${path} --out ${modelPath}\``,
      );
    }
    return { modelPath, runDir: path };
  }
  return { modelPath: path, runDir: null };
}

/** Anomaly scores of a batch of events. */
export interface ScoredBatch {
  /** Each event's uid (the spec's uid path), null when it has none. */
  uids: (string | null)[];
  scores: Float32Array;
  /** 1 where the score is above the threshold. */
  isAnomaly: Uint8Array;
  /** Uids of the nearest reference events, nearest first, per event. */
  nearest: string[][];
  threshold: number;
}

/** The scoring half of a run, in memory. */
export interface RunScoringState {
  scorer: FittedScorer;
  reference: Float32Array;
  referenceUids: string[];
}

/** Options for {@link LoadedModel.open}. */
export interface OpenOptions extends SessionConfig {
  /** Fail unless the path is a run directory with a fitted scorer. */
  requireScorer?: boolean;
  /** Load the run's scorer when there is one (default true); embedding alone does not need it. */
  loadScorer?: boolean;
  flag?: string;
}

/** An embedder plus, for a run directory, its scorer; open once, then embed and score batches. */
export class LoadedModel {
  private readonly uidOf: ((record: object) => unknown) | null;
  private readonly knn = nodeKnnRuntime({ device: 'cpu' });

  private constructor(
    readonly location: ModelLocation,
    readonly embedder: Embedder,
    readonly device: string,
    readonly notice: string | undefined,
    readonly scoring: RunScoringState | null,
  ) {
    this.uidOf = embedder.spec.uidPath ? compilePathGetter(embedder.spec.uidPath) : null;
  }

  /** Loads model.onnx (and the run's scorer when `path` is a run directory). */
  static async open(path: string, options: OpenOptions = {}): Promise<LoadedModel> {
    const { requireScorer, loadScorer = true, flag, ...session } = options;
    const location = locateModel(path, flag);
    if (requireScorer && !location.runDir) {
      throw new UserError(
        `${flag ?? '--model'} ${path} is a model file; scoring needs the run directory it came from (reference embeddings and scorer), e.g. ${flag ?? '--model'} runs/first`,
      );
    }
    const scoring =
      location.runDir && (requireScorer || (loadScorer && existsSync(join(location.runDir, 'scorer.json'))))
        ? loadRunScorer(location.runDir)
        : null;
    const { embedder, device, notice } = await loadEmbedder(location.modelPath, session);
    if (scoring && scoring.d !== embedder.dimension) {
      await embedder.release();
      throw new UserError(
        `${location.runDir}: the scorer was fitted on embeddings of width ${scoring.d} but model.onnx gives ${embedder.dimension}; re-export the model with \`ocsf-embed export ${location.runDir} --out ${location.modelPath}\``,
      );
    }
    return new LoadedModel(
      location,
      embedder,
      device,
      notice,
      scoring ? { scorer: scoring.scorer, reference: scoring.reference, referenceUids: scoring.uids } : null,
    );
  }

  /** Width of the embeddings. */
  get dimension(): number {
    return this.embedder.dimension;
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

  /** Embeddings of the events, row-major [events, dimension]. */
  embed(events: readonly object[], normalized = false): Promise<Float32Array> {
    return this.embedder.embed(events, { normalized, batchSize: Math.max(1, events.length) });
  }

  /** Anomaly scores of the events against the run's reference embeddings. */
  async score(events: readonly object[]): Promise<ScoredBatch> {
    const s = this.scoring;
    if (!s) throw new UserError('scoring needs a run directory (reference embeddings and scorer)');
    const d = this.dimension;
    const queries = await this.embed(events, true);
    const result = await score(s.scorer, s.reference, queries, d, this.knn);
    const nearest: string[][] = [];
    for (let i = 0; i < events.length; i++) {
      const row: string[] = [];
      for (let j = 0; j < EXPLAIN; j++) {
        const r = result.neighbours[i * EXPLAIN + j]!;
        if (r >= 0) row.push(s.referenceUids[r] ?? String(r));
      }
      nearest.push(row);
    }
    return {
      uids: this.uidsOf(events),
      scores: result.scores,
      isAnomaly: result.isAnomaly,
      nearest,
      threshold: s.scorer.threshold,
    };
  }

  /** Releases the ONNX Runtime sessions. */
  async release(): Promise<void> {
    await releaseKnnSession(this.knn);
    await this.embedder.release();
  }
}
