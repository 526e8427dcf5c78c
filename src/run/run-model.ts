// A run opened for embedding and scoring, on any runtime: the Embedder, the run's scoring state when it
// has one, and a k-NN runtime. Node opens runs from a directory (`LoadedModel`, built on this class); a
// browser from the bytes of the run's files (`openRun` in src/browser.ts).
import { UserError } from '../core/errors.ts';
import { type KnnRuntime, releaseKnnSession } from '../detect/knn.ts';
import type { Embedder } from '../embed/embedder.ts';
import type { Reconstructor } from '../embed/reconstruction.ts';
import { extractRaw } from '../features/encode.ts';
import {
  eventUids,
  MISSING_RECONSTRUCTION,
  type RunScoringState,
  type ScoredBatch,
  scoreEmbeddings,
} from './scoring.ts';

/** Embeds and scores events with one run's model.onnx and, when given, its reference set and scorer. */
export class RunModel {
  constructor(
    readonly embedder: Embedder,
    readonly scoring: RunScoringState | null,
    protected readonly knn: KnnRuntime,
    readonly reconstructor: Reconstructor | null = null,
  ) {
    if (scoring && scoring.d !== embedder.dimension) {
      throw new UserError(
        `the scorer was fitted on embeddings of width ${scoring.d} but the model gives ${embedder.dimension}: give model.onnx, reference.safetensors and scorer.json from the same run`,
      );
    }
    const scale = scoring?.scorer.reconstructionScale;
    if (scale && !reconstructor) {
      throw new UserError(MISSING_RECONSTRUCTION);
    }
    if (scale && reconstructor && reconstructor.width !== scale.length) {
      throw new UserError(
        `reconstruction.onnx predicts ${reconstructor.width} fields but the scorer was fitted on ${scale.length}: give reconstruction.onnx and scorer.json from the same run`,
      );
    }
  }

  /** What `score` says when the run's scoring state was not given. */
  protected get missingScoring(): string {
    return "scoring needs the run's reference.safetensors and scorer.json besides model.onnx";
  }

  /** Width of the embeddings. */
  get dimension(): number {
    return this.embedder.dimension;
  }

  /** Embeddings of OCSF events, row-major [events, dimension]; `normalized` gives unit-length rows. */
  embed(events: readonly object[], normalized = false): Promise<Float32Array> {
    return this.embedder.embed(events, { normalized });
  }

  /**
   * Anomaly scores of the events against the run's reference embeddings, with each event's nearest
   * reference events and the fields that make it unusual, and the batch's schema coverage. `firstRow`
   * numbers events that have no uid.
   */
  async score(events: readonly object[], firstRow = 0): Promise<ScoredBatch> {
    if (!this.scoring) throw new UserError(this.missingScoring);
    const spec = this.embedder.spec;
    // Stage 1 once: the embedding, the reconstruction and the field comparisons all read these.
    const raws = events.map((e) => extractRaw(spec, e));
    const queries = await this.embedder.embedExtracted(raws, { normalized: true });
    const uids = eventUids(events, spec.uidPath, firstRow);
    const surprise = this.scoring.scorer.reconstructionScale
      ? await this.reconstructor!.surpriseExtracted(raws)
      : undefined;
    return scoreEmbeddings(this.scoring, queries, uids, this.knn, { spec, events, raws, surprise });
  }

  /** Releases the ONNX Runtime sessions. */
  async release(): Promise<void> {
    await releaseKnnSession(this.knn);
    await this.embedder.release();
    await this.reconstructor?.release();
  }
}
