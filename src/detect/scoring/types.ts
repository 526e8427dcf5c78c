// The scorer's types: the methods, their options, a fitted scorer, and the shape every scoring method in
// the registry (`registry.ts`) implements.
import type { FittedSpec, RawFeatures } from '../../features/types.ts';
import type { ReferenceFeatures } from '../explain.ts';
import type { FieldSpace } from '../field-space.ts';
import type { IsolationForest } from '../iforest.ts';
import type { KnnRuntime } from '../knn.ts';

/**
 * How rows are scored (all on cosine geometry, rows normalised to unit length):
 * - `knn`: mean cosine distance to the k nearest reference rows (k = 20).
 * - `knn-relative`: the same with k = max(k, ⌈kFraction · n⌉) (kFraction 0.03), so that groups of
 *   near-identical rows smaller than k cannot be each other's only neighbours.
 * - `lof`: local outlier factor: the row's local reachability density relative to its neighbours'.
 * - `iforest`: isolation forest (100 trees, 256 rows each); a burst is isolated as a whole.
 * - `ensemble`: the components' scores, each mapped to its rank among its own reference scores, then
 *   combined by their maximum (default) or their mean (`combine: 'mean'`, rank average). Default members:
 *   `knn` and `knn-relative`.
 * - `conditional`: the event scored relative to its own kind and its own fields: the highest of its `knn`
 *   rank, the rank of its field surprise — how unusual its most unusual field is among its 20 nearest
 *   reference events (a categorical value they never hold, a numeric robust z-score against them; see
 *   `neighbourSurprise`) — and its k-NN rank in field space (`field-space.ts`), each rank among the
 *   reference rows' own; and, for runs with a reconstruction model, the rank of the event's summed
 *   reconstruction surprise (`reconstruction.ts`). Needs the events' fields (`FieldContext`).
 */
export type ScoringMethod = 'knn' | 'knn-relative' | 'lof' | 'iforest' | 'ensemble' | 'conditional';

/** The methods an ensemble can combine. */
export type ComponentMethod = Exclude<ScoringMethod, 'ensemble' | 'conditional'>;

/**
 * The events' fields, for `conditional` scoring: the spec, the reference rows' stage-1 features (same
 * rows and order as the reference embeddings) and, when scoring, the queries' stage-1 features.
 */
export interface FieldContext {
  spec: FittedSpec;
  reference: ReferenceFeatures;
  queries?: readonly RawFeatures[];
  /**
   * Per-field reconstruction surprise ([rows, columns], from the run's reconstruction.onnx) of the
   * reference events when fitting, of the queries when scoring. Without it, `conditional` leaves out its
   * reconstruction part.
   */
  reconstruction?: { reference?: Float32Array; queries?: Float32Array };
}

/**
 * The default method on embeddings alone (docs/scoring.md): the rank ensemble of k-NN and relative k-NN.
 */
export const DEFAULT_METHOD: ScoringMethod = 'ensemble';

/**
 * The default method when the events' fields are at hand, as in a training run, `score`, `serve` and the
 * page (docs/scoring.md, "Evaluation protocol"): `conditional`.
 */
export const DEFAULT_FIELDS_METHOD: ScoringMethod = 'conditional';

/** The default neighbour fraction of `knn-relative` (docs/scoring.md). */
export const DEFAULT_K_FRACTION = 0.03;

/** The default ensemble members, combined by `max` (docs/scoring.md). */
export const DEFAULT_COMPONENTS: readonly ComponentMethod[] = ['knn', 'knn-relative'];

/** Scorer settings; every field is optional. */
export interface ScorerOptions {
  /** Scoring method (default `DEFAULT_FIELDS_METHOD` when the events' fields are given, else `DEFAULT_METHOD`). */
  method?: ScoringMethod;
  /** Neighbours for `knn` and `lof`, the minimum for `knn-relative` (default 20). */
  k?: number;
  /**
   * Neighbours as a fraction of the reference rows: k = max(k, ⌈kFraction · n⌉). Default 0.03 for
   * `knn-relative` (which never uses 0), 0 (fixed k) for `knn` and `lof`. In an ensemble it applies to the
   * `knn-relative` member only; `knn` and `lof` members use the fixed k.
   */
  kFraction?: number;
  /** Seed for the isolation forest (default 0). */
  seed?: number;
  /** Isolation trees (default 100). */
  trees?: number;
  /** Rows per isolation tree (default 256). */
  sampleSize?: number;
  /** Ensemble members (default `DEFAULT_COMPONENTS`). */
  components?: ComponentMethod[];
  /**
   * How an ensemble combines its members' ranks: `mean` (rank average) or `max` (a row is as anomalous as
   * its most anomalous member says); default `max`. How `conditional` combines its parts: `grouped` (the
   * default: the rank of the summed −log tail shares of its field-space distance and of the mean of its two
   * field-surprise parts), `fisher` (the three parts summed alike; scorers saved before `grouped`) or `max`
   * (the highest rank over all its parts, the embedding k-NN part included; scorers saved before `fisher`).
   */
  combine?: 'mean' | 'max' | 'fisher' | 'grouped';
  /** Threshold = this percentile (0–100) of the reference rows' own scores (default 95). */
  thresholdPercentile?: number;
  /** Queries per k-NN session run (default 1024). */
  queryChunk?: number;
  /** Reference rows per k-NN session run (default 16384: one run covers the whole default reference sample). */
  referenceChunk?: number;
}

/** Scorer settings with every default filled in. */
export type ResolvedScorerOptions = Required<ScorerOptions>;

/** What LOF keeps per reference row. */
export interface LofState {
  /** Distance to each reference row's k-th neighbour (self excluded). */
  kDistances: Float32Array;
  /** Local reachability density of each reference row. */
  lrd: Float32Array;
}

/** A fitted scorer. The reference embeddings it was fitted on are needed again to score; they are not stored here. */
export interface FittedScorer {
  method: ScoringMethod;
  options: ResolvedScorerOptions;
  /** Reference rows and their width. */
  n: number;
  d: number;
  /** Neighbours used by k-NN-based methods (0 for `iforest` and `ensemble`). */
  k: number;
  /** Rows scoring above this are anomalies. */
  threshold: number;
  /** Each reference row's score, self excluded (leave-one-out). */
  referenceScores: Float32Array;
  lof?: LofState;
  forest?: IsolationForest;
  /** The fitted ensemble members (`conditional`: its k-NN part). */
  components?: FittedScorer[];
  /** `conditional`: each reference row's field surprise among its nearest other reference rows. */
  fieldSurprise?: Float32Array;
  /** `conditional`: how the events' fields become vectors for the field-space k-NN. */
  fieldSpace?: FieldSpace;
  /** `conditional`: each reference row's mean distance to its k nearest other rows in field space. */
  fieldKnn?: Float32Array;
  /** `conditional`: per reconstruction column, the factor its surprise is multiplied by (`reconstruction.ts`). */
  reconstructionScale?: number[];
  /** `conditional`: each reference row's summed reconstruction surprise. */
  reconstructionScores?: Float32Array;
}

/** Scores of query rows. */
export interface ScoreResult {
  /** One score per query; higher = more anomalous. */
  scores: Float32Array;
  /** The 3 nearest reference rows per query, [q, 3], −1 where the reference has fewer. */
  neighbours: Int32Array;
  /** The {@link CONTEXT} nearest reference rows per query, [q, CONTEXT], −1 where there are fewer (explanations). */
  context: Int32Array;
  /** 1 where the score is above the scorer's threshold. */
  isAnomaly: Uint8Array;
}

/** Nearest reference rows returned per query (`neighbours`). */
export const EXPLAIN = 3;

/** Nearest reference rows per query that explanations compare the query with (`context`). */
export const CONTEXT = 20;

/** What a method computed on the way to its fitted state (the threshold is set by `fitScorer`). */
export type FittedPart = Omit<FittedScorer, 'threshold'>;

/** Scores of query rows from one method, with the CONTEXT nearest reference rows when it found them. */
export interface Scored {
  scores: Float32Array;
  /** [q, CONTEXT] nearest reference rows, −1 where there are fewer. */
  neighbours?: Int32Array;
}

/** A k-NN search of queries against the reference, shared by the methods of an ensemble. */
export interface SharedSearch {
  /** Neighbours per query in the lists (at least what each method asked for, unless the reference is smaller). */
  k: number;
  distances: Float32Array;
  indices: Int32Array;
}

/** What a method is fitted with: the unit-length reference rows and everything around them. */
export interface FitContext {
  /** Unit-length reference rows [n, d]. */
  ref: Float32Array;
  n: number;
  d: number;
  options: ResolvedScorerOptions;
  runtime: KnnRuntime;
  fields?: FieldContext;
  /** The reference searched against itself (self left out), when an ensemble searched once for all. */
  search?: SharedSearch;
}

/** What a method scores queries with. */
export interface ScoreContext {
  ref: Float32Array;
  /** Unit-length queries [q, d]. */
  qs: Float32Array;
  q: number;
  d: number;
  excludeSelf: boolean;
  runtime: KnnRuntime;
  fields?: FieldContext;
  /** The queries searched against the reference, when an ensemble searched once for all. */
  search?: SharedSearch;
}

/** One scoring method of the registry: how it fits on reference rows and scores queries. */
export interface ScoringMethodDef {
  name: ScoringMethod;
  /** Neighbours it reads from a k-NN search for `n` reference rows, or 0 when it does not search. */
  neighbours(options: ResolvedScorerOptions, n: number): number;
  /** Whether its scores are mean k-NN distances (so one search with the largest k serves several). */
  meanDistance: boolean;
  fit(ctx: FitContext): Promise<FittedPart>;
  score(scorer: FittedScorer, ctx: ScoreContext): Promise<Scored>;
}
