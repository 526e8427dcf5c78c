// The anomaly scorer: fits one of the scoring methods (k-NN, relative k-NN, LOF, isolation forest, rank
// ensemble) on reference embeddings, sets the threshold from the reference's own scores, scores queries,
// and converts the fitted state to and from JSON (the reference embeddings are kept separately).

import type { FittedSpec, RawFeatures } from '../features/types.ts';
import { neighbourSurprise, type ReferenceFeatures, referenceRaw } from './explain.ts';
import {
  fitIsolationForest,
  type IsolationForest,
  type IsolationForestJSON,
  isolationForestFromJSON,
  isolationForestToJSON,
  isolationScores,
} from './iforest.ts';
import { type KnnOptions, type KnnRuntime, knnScore, knnSearch, normalizeRows, rowCount } from './knn.ts';
import { ecdfRank, percentile, sortedCopy } from './threshold.ts';

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
 * - `conditional`: the event scored relative to its own kind: the higher of its `knn` rank and the rank
 *   of its field surprise — how unusual its most unusual field is among its 20 nearest reference events
 *   (a categorical value they never hold, a numeric robust z-score against them; see
 *   `neighbourSurprise`) — each rank among the reference rows' own. Needs the events' fields
 *   (`FieldContext`).
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
   * its most anomalous member says). Default `max`.
   */
  combine?: 'mean' | 'max';
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

const LRD_EPSILON = 1e-10;

/** Fills in the defaults for `opts`. */
export function resolveOptions(opts: ScorerOptions = {}, withFields = false): ResolvedScorerOptions {
  const method = opts.method ?? (withFields ? DEFAULT_FIELDS_METHOD : DEFAULT_METHOD);
  const methods: ScoringMethod[] = ['knn', 'knn-relative', 'lof', 'iforest', 'ensemble', 'conditional'];
  if (!methods.includes(method)) {
    throw new RangeError(`unknown scoring method '${String(method)}': use one of ${methods.join(', ')}`);
  }
  const resolved: ResolvedScorerOptions = {
    method,
    k: opts.k ?? 20,
    kFraction:
      opts.kFraction ?? (method === 'knn-relative' || method === 'ensemble' ? DEFAULT_K_FRACTION : 0),
    seed: opts.seed ?? 0,
    trees: opts.trees ?? 100,
    sampleSize: opts.sampleSize ?? 256,
    components: [...(opts.components ?? DEFAULT_COMPONENTS)],
    combine: opts.combine ?? 'max',
    thresholdPercentile: opts.thresholdPercentile ?? 95,
    queryChunk: opts.queryChunk ?? 1024,
    referenceChunk: opts.referenceChunk ?? 16384,
  };
  if (!Number.isInteger(resolved.k) || resolved.k < 1)
    throw new RangeError(`k must be a whole number >= 1, got ${resolved.k}`);
  if (!(resolved.kFraction >= 0 && resolved.kFraction < 1)) {
    throw new RangeError(`kFraction must be within [0, 1), got ${resolved.kFraction}`);
  }
  if (!(resolved.thresholdPercentile >= 0 && resolved.thresholdPercentile <= 100)) {
    throw new RangeError(`thresholdPercentile must be within 0–100, got ${resolved.thresholdPercentile}`);
  }
  if (method === 'ensemble') {
    if (resolved.components.length === 0)
      throw new RangeError('an ensemble needs at least one component method');
    for (const c of resolved.components) {
      if (
        !methods.includes(c) ||
        (c as ScoringMethod) === 'ensemble' ||
        (c as ScoringMethod) === 'conditional'
      ) {
        throw new RangeError(
          `ensemble components must be among knn, knn-relative, lof, iforest; got '${String(c)}'`,
        );
      }
    }
  }
  return resolved;
}

/** Neighbours a k-NN-based method uses for `n` reference rows: max(k, ⌈kFraction·n⌉), at most n − 1. */
export function effectiveK(options: ResolvedScorerOptions, n: number): number {
  return Math.max(1, Math.min(n - 1, Math.max(options.k, Math.ceil(options.kFraction * n))));
}

const normalizedCache = new WeakMap<Float32Array, { d: number; rows: Float32Array }>();

function unitRows(x: Float32Array, d: number): Float32Array {
  const hit = normalizedCache.get(x);
  if (hit && hit.d === d) return hit.rows;
  const rows = normalizeRows(x, d);
  normalizedCache.set(x, { d, rows });
  return rows;
}

function lofScores(
  k: number,
  distances: Float32Array,
  indices: Int32Array,
  state: LofState,
  q: number,
): Float32Array {
  const out = new Float32Array(q);
  for (let i = 0; i < q; i++) {
    let reach = 0;
    let neighbourLrd = 0;
    for (let j = 0; j < k; j++) {
      const o = indices[i * k + j]!;
      reach += Math.max(state.kDistances[o]!, distances[i * k + j]!);
      neighbourLrd += state.lrd[o]!;
    }
    const lrd = 1 / (reach / k + LRD_EPSILON);
    out[i] = neighbourLrd / k / lrd;
  }
  return out;
}

async function fitComponent(
  method: ComponentMethod,
  ref: Float32Array,
  n: number,
  d: number,
  options: ResolvedScorerOptions,
  runtime: KnnRuntime,
): Promise<Omit<FittedScorer, 'threshold'>> {
  const base = { method, options: { ...options, method }, n, d };
  const knnOpts = {
    normalized: true,
    queryChunk: options.queryChunk,
    referenceChunk: options.referenceChunk,
  };
  if (method === 'iforest') {
    const forest = fitIsolationForest(ref, d, {
      trees: options.trees,
      sampleSize: options.sampleSize,
      seed: options.seed,
    });
    return { ...base, k: 0, forest, referenceScores: isolationScores(forest, ref, d) };
  }
  const resolved =
    method === 'knn-relative' && !(base.options.kFraction > 0)
      ? { ...base.options, kFraction: DEFAULT_K_FRACTION }
      : base.options;
  const k = effectiveK(resolved, n);
  if (method === 'lof') {
    const { distances, indices } = await knnSearch(
      ref,
      ref,
      d,
      { ...knnOpts, k, excludeSelf: true },
      runtime,
    );
    const kDistances = new Float32Array(n);
    for (let i = 0; i < n; i++) kDistances[i] = distances[i * k + k - 1]!;
    const lrd = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let reach = 0;
      for (let j = 0; j < k; j++) reach += Math.max(kDistances[indices[i * k + j]!]!, distances[i * k + j]!);
      lrd[i] = 1 / (reach / k + LRD_EPSILON);
    }
    const lof = { kDistances, lrd };
    return { ...base, options: resolved, k, lof, referenceScores: lofScores(k, distances, indices, lof, n) };
  }
  const { scores } = await knnScore(ref, ref, d, { ...knnOpts, k, excludeSelf: true, explain: 0 }, runtime);
  return { ...base, options: resolved, k, referenceScores: scores };
}

function combineRanks(
  parts: { sorted: Float64Array; scores: Float32Array }[],
  q: number,
  combine: 'mean' | 'max',
): Float32Array {
  const out = new Float32Array(q).fill(combine === 'max' ? Number.NEGATIVE_INFINITY : 0);
  for (const { sorted, scores } of parts) {
    for (let i = 0; i < q; i++) {
      const r = ecdfRank(sorted, scores[i]!);
      out[i] = combine === 'max' ? Math.max(out[i]!, r) : out[i]! + r / parts.length;
    }
  }
  return out;
}

const sortedReference = new WeakMap<Float32Array, Float64Array>();

function sortedScores(s: FittedScorer): Float64Array {
  let sorted = sortedReference.get(s.referenceScores);
  if (!sorted) {
    sorted = sortedCopy(s.referenceScores);
    sortedReference.set(s.referenceScores, sorted);
  }
  return sorted;
}

/**
 * Fits a scorer on the reference embeddings [n, d] (normally the training rows' embeddings): scores every
 * reference row with itself left out, and sets `threshold` to the `thresholdPercentile`-th percentile of
 * those scores. k-NN searches run on `runtime` (ONNX Runtime).
 */
export async function fitScorer(
  reference: Float32Array,
  d: number,
  opts: ScorerOptions,
  runtime: KnnRuntime,
  fields?: FieldContext,
): Promise<FittedScorer> {
  const options = resolveOptions(opts, fields !== undefined);
  const n = rowCount(reference, d, 'reference');
  if (n < 2) throw new RangeError(`fitting a scorer needs at least 2 reference rows, got ${n}`);
  const ref = unitRows(reference, d);
  let fitted: Omit<FittedScorer, 'threshold'>;
  if (options.method === 'conditional') {
    const f = checkFields(fields, n, n, false);
    const knnOptions = { ...options, method: 'knn' as const, kFraction: 0 };
    const k = effectiveK(knnOptions, n);
    const found = await conditionalSearch(ref, ref, d, k, true, options, runtime);
    const base: FittedScorer = {
      method: 'knn',
      options: knnOptions,
      n,
      d,
      k,
      referenceScores: found.knn,
      threshold: percentile(found.knn, options.thresholdPercentile),
    };
    const raws = Array.from({ length: n }, (_, i) => referenceRaw(f.spec, f.reference, i));
    const fieldSurprise = surprises(f, raws, found.context);
    const referenceScores = conditionalScores(
      found.knn,
      fieldSurprise,
      sortedScores(base),
      sortedCopy(fieldSurprise),
    );
    fitted = {
      method: 'conditional',
      options,
      n,
      d,
      k: 0,
      referenceScores,
      components: [base],
      fieldSurprise,
    };
  } else if (options.method === 'ensemble') {
    const components: FittedScorer[] = [];
    if (allKnn(options.components)) {
      const members = options.components.map((c) => {
        const kFraction = c === 'knn-relative' ? options.kFraction || DEFAULT_K_FRACTION : 0;
        const resolved = { ...options, method: c, kFraction };
        return { method: c, options: resolved, k: effectiveK(resolved, n) };
      });
      const knnOpts = {
        normalized: true,
        excludeSelf: true,
        queryChunk: options.queryChunk,
        referenceChunk: options.referenceChunk,
      };
      const shared = await sharedKnnScores(
        ref,
        ref,
        d,
        members.map((m) => m.k),
        knnOpts,
        runtime,
      );
      members.forEach((m, i) => {
        const referenceScores = shared.scores[i]!;
        components.push({
          ...m,
          n,
          d,
          referenceScores,
          threshold: percentile(referenceScores, options.thresholdPercentile),
        });
      });
    } else {
      for (const c of options.components) {
        const kFraction = c === 'knn-relative' ? options.kFraction : 0;
        const part = await fitComponent(c, ref, n, d, { ...options, kFraction }, runtime);
        components.push({
          ...part,
          threshold: percentile(part.referenceScores, options.thresholdPercentile),
        });
      }
    }
    const referenceScores = combineRanks(
      components.map((c) => ({ sorted: sortedScores(c), scores: c.referenceScores })),
      n,
      options.combine,
    );
    fitted = { method: 'ensemble', options, n, d, k: 0, referenceScores, components };
  } else {
    fitted = await fitComponent(options.method, ref, n, d, options, runtime);
  }
  return { ...fitted, threshold: percentile(fitted.referenceScores, options.thresholdPercentile) };
}

function checkFields(fields: FieldContext | undefined, n: number, q: number, scoring: boolean): FieldContext {
  if (!fields) throw new RangeError("conditional scoring needs the events' fields (a FieldContext)");
  if (fields.reference.rows !== n) {
    throw new RangeError(`the reference features hold ${fields.reference.rows} rows; the reference has ${n}`);
  }
  if (scoring && fields.queries?.length !== q) {
    throw new RangeError(
      `conditional scoring needs the ${q} queries' features, got ${fields.queries?.length ?? 0}`,
    );
  }
  return fields;
}

/** One k-NN search for `conditional`: mean distance to the k nearest, and the CONTEXT nearest per query. */
async function conditionalSearch(
  ref: Float32Array,
  qs: Float32Array,
  d: number,
  k: number,
  excludeSelf: boolean,
  options: ResolvedScorerOptions,
  runtime: KnnRuntime,
): Promise<{ knn: Float32Array; context: Int32Array }> {
  const r = await knnSearch(
    ref,
    qs,
    d,
    {
      k: Math.max(k, CONTEXT),
      normalized: true,
      excludeSelf,
      queryChunk: options.queryChunk,
      referenceChunk: options.referenceChunk,
    },
    runtime,
  );
  const q = qs.length / d;
  const knn = new Float32Array(q);
  const kk = Math.min(k, r.k);
  for (let i = 0; i < q; i++) {
    let sum = 0;
    for (let j = 0; j < kk; j++) sum += r.distances[i * r.k + j]!;
    knn[i] = kk > 0 ? sum / kk : 0;
  }
  return { knn, context: firstNeighbours(r.indices, r.k, q) };
}

/** Fields that count towards the field surprise of `conditional` (its strongest one; docs/scoring.md). */
export const SURPRISE_FIELDS = 1;

/** Each row's field surprise among its CONTEXT nearest reference rows. */
function surprises(f: FieldContext, raws: readonly RawFeatures[], context: Int32Array): Float32Array {
  return Float32Array.from(raws, (raw, i) =>
    neighbourSurprise(
      f.spec,
      raw,
      f.reference,
      context.subarray(i * CONTEXT, (i + 1) * CONTEXT),
      SURPRISE_FIELDS,
    ),
  );
}

/** The higher of each row's k-NN rank and field-surprise rank, each among the reference rows' own. */
function conditionalScores(
  knn: Float32Array,
  surprise: Float32Array,
  sortedKnn: Float64Array,
  sortedSurprise: Float64Array,
): Float32Array {
  return Float32Array.from(knn, (x, i) =>
    Math.max(ecdfRank(sortedKnn, x), ecdfRank(sortedSurprise, surprise[i]!)),
  );
}

const sortedSurprises = new WeakMap<Float32Array, Float64Array>();

/** Options for `score`. */
export interface ScoreOptions {
  /**
   * The queries are the reference rows (same order): leave each row out of its own neighbours.
   * Implied when `queries` is the very array passed as `reference`.
   */
  excludeSelf?: boolean;
  /** The events' fields; `conditional` scorers need them (with `queries`). */
  fields?: FieldContext;
}

/** Component scores, with the nearest reference rows when the method found them on the way. */
interface Scored {
  scores: Float32Array;
  /** [q, CONTEXT] */
  neighbours?: Int32Array;
}

/** Whether every member of an ensemble is a k-NN distance (so one search serves them all). */
function allKnn(methods: readonly ComponentMethod[]): boolean {
  return methods.every((m) => m === 'knn' || m === 'knn-relative');
}

/**
 * k-NN mean-distance scores for several k from one search with the largest k: the mean of each
 * row's first k distances (ascending), the same numbers `knnScore` gives for each k alone.
 */
async function sharedKnnScores(
  ref: Float32Array,
  qs: Float32Array,
  d: number,
  ks: number[],
  knnOpts: Omit<KnnOptions, 'k'>,
  runtime: KnnRuntime,
): Promise<{ scores: Float32Array[]; neighbours: Int32Array }> {
  const q = qs.length / d;
  const r = await knnSearch(ref, qs, d, { ...knnOpts, k: Math.max(...ks) }, runtime);
  const scores = ks.map((wanted) => {
    const k = Math.min(wanted, r.k);
    const out = new Float32Array(q);
    for (let i = 0; i < q; i++) {
      let sum = 0;
      for (let j = 0; j < k; j++) sum += r.distances[i * r.k + j]!;
      out[i] = k > 0 ? sum / k : 0;
    }
    return out;
  });
  return { scores, neighbours: firstNeighbours(r.indices, r.k, q) };
}

function firstNeighbours(indices: Int32Array, k: number, q: number, width = CONTEXT): Int32Array {
  const out = new Int32Array(q * width).fill(-1);
  const m = Math.min(k, width);
  for (let i = 0; i < q; i++) for (let j = 0; j < m; j++) out[i * width + j] = indices[i * k + j]!;
  return out;
}

async function componentScores(
  s: FittedScorer,
  ref: Float32Array,
  qs: Float32Array,
  q: number,
  excludeSelf: boolean,
  runtime: KnnRuntime,
): Promise<Scored> {
  const knnOpts = {
    normalized: true,
    excludeSelf,
    queryChunk: s.options.queryChunk,
    referenceChunk: s.options.referenceChunk,
  };
  switch (s.method) {
    case 'iforest':
      return { scores: isolationScores(s.forest!, qs, s.d) };
    case 'lof': {
      const { k, distances, indices } = await knnSearch(ref, qs, s.d, { ...knnOpts, k: s.k }, runtime);
      return {
        scores: lofScores(k, distances, indices, s.lof!, q),
        neighbours: firstNeighbours(indices, k, q),
      };
    }
    case 'ensemble': {
      const members = s.components!;
      if (allKnn(members.map((c) => c.method as ComponentMethod))) {
        const shared = await sharedKnnScores(
          ref,
          qs,
          s.d,
          members.map((c) => c.k),
          knnOpts,
          runtime,
        );
        const parts = members.map((c, i) => ({ sorted: sortedScores(c), scores: shared.scores[i]! }));
        return { scores: combineRanks(parts, q, s.options.combine), neighbours: shared.neighbours };
      }
      const parts = [];
      let neighbours: Int32Array | undefined;
      for (const c of members) {
        const part = await componentScores(c, ref, qs, q, excludeSelf, runtime);
        neighbours ??= part.neighbours;
        parts.push({ sorted: sortedScores(c), scores: part.scores });
      }
      return { scores: combineRanks(parts, q, s.options.combine), neighbours };
    }
    default: {
      const r = await knnScore(ref, qs, s.d, { ...knnOpts, k: s.k, explain: CONTEXT }, runtime);
      return { scores: r.scores, neighbours: firstNeighbours(r.neighbours, r.explain, q) };
    }
  }
}

/**
 * Scores query embeddings [q, d] against the reference the scorer was fitted on: anomaly scores, the 3
 * nearest reference rows per query (for explanations), and `score > threshold` flags. The unit-length copy
 * of `reference` is cached per array, so do not modify a reference array in place between calls.
 */
export async function score(
  scorer: FittedScorer,
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  runtime: KnnRuntime,
  options: ScoreOptions = {},
): Promise<ScoreResult> {
  if (d !== scorer.d)
    throw new RangeError(`the scorer was fitted on embeddings of width ${scorer.d}, got ${d}`);
  const n = rowCount(reference, d, 'reference');
  if (n !== scorer.n) {
    throw new RangeError(`the scorer was fitted on ${scorer.n} reference rows; this reference has ${n}`);
  }
  const q = rowCount(queries, d, 'queries');
  const excludeSelf = options.excludeSelf ?? queries === reference;
  const ref = unitRows(reference, d);
  const qs = queries === reference ? ref : normalizeRows(queries, d);
  let scored: Scored;
  if (scorer.method === 'conditional') {
    const f = checkFields(options.fields, n, q, true);
    const base = scorer.components![0]!;
    const found = await conditionalSearch(ref, qs, d, base.k, excludeSelf, scorer.options, runtime);
    const refSurprise = scorer.fieldSurprise!;
    let sortedSurprise = sortedSurprises.get(refSurprise);
    if (!sortedSurprise) {
      sortedSurprise = sortedCopy(refSurprise);
      sortedSurprises.set(refSurprise, sortedSurprise);
    }
    const surprise = surprises(f, f.queries!, found.context);
    scored = {
      scores: conditionalScores(found.knn, surprise, sortedScores(base), sortedSurprise),
      neighbours: found.context,
    };
  } else scored = await componentScores(scorer, ref, qs, q, excludeSelf, runtime);
  let context = scored.neighbours;
  if (!context) {
    const knnOpts = {
      k: Math.min(CONTEXT, Math.max(1, n - (excludeSelf ? 1 : 0))),
      explain: CONTEXT,
      normalized: true,
      excludeSelf,
      queryChunk: scorer.options.queryChunk,
      referenceChunk: scorer.options.referenceChunk,
    };
    const near = await knnScore(ref, qs, d, knnOpts, runtime);
    context = firstNeighbours(near.neighbours, near.explain, q);
  }
  const scores = finiteScores(scored.scores);
  const isAnomaly = new Uint8Array(q);
  for (let i = 0; i < q; i++) isAnomaly[i] = scores[i]! > scorer.threshold ? 1 : 0;
  return { scores, neighbours: firstNeighbours(context, CONTEXT, q, EXPLAIN), context, isAnomaly };
}

/** Largest float32: what a score that came out NaN or +∞ (an embedding that is not finite) becomes. */
const MAX_SCORE = 3.4028234663852886e38;

/** Scores with NaN and +∞ replaced by the largest float32 and −∞ by its negative: no score leaves non-finite. */
function finiteScores(scores: Float32Array): Float32Array {
  for (let i = 0; i < scores.length; i++) {
    const x = scores[i]!;
    if (!Number.isFinite(x)) scores[i] = x === Number.NEGATIVE_INFINITY ? -MAX_SCORE : MAX_SCORE;
  }
  return scores;
}

/** A fitted scorer as plain JSON data (typed arrays become number arrays). */
export interface FittedScorerJSON {
  format: 'ocsf-embed.scorer';
  version: 1;
  method: ScoringMethod;
  options: ResolvedScorerOptions;
  n: number;
  d: number;
  k: number;
  threshold: number;
  referenceScores: number[];
  lof?: { kDistances: number[]; lrd: number[] };
  forest?: IsolationForestJSON;
  components?: FittedScorerJSON[];
  fieldSurprise?: number[];
}

/** Converts a fitted scorer to plain JSON data; `JSON.stringify` it to save. Restores exactly. */
export function scorerToJSON(s: FittedScorer): FittedScorerJSON {
  return {
    format: 'ocsf-embed.scorer',
    version: 1,
    method: s.method,
    options: s.options,
    n: s.n,
    d: s.d,
    k: s.k,
    threshold: s.threshold,
    referenceScores: [...s.referenceScores],
    ...(s.lof && { lof: { kDistances: [...s.lof.kDistances], lrd: [...s.lof.lrd] } }),
    ...(s.forest && { forest: isolationForestToJSON(s.forest) }),
    ...(s.components && { components: s.components.map(scorerToJSON) }),
    ...(s.fieldSurprise && { fieldSurprise: [...s.fieldSurprise] }),
  };
}

/** Restores a scorer saved by `scorerToJSON`. */
export function scorerFromJSON(json: FittedScorerJSON): FittedScorer {
  if (json.format !== 'ocsf-embed.scorer' || json.version !== 1) {
    throw new Error(
      `not an ocsf-embed scorer (version 1): format ${String(json.format)}, version ${String(json.version)}`,
    );
  }
  return {
    method: json.method,
    options: json.options,
    n: json.n,
    d: json.d,
    k: json.k,
    threshold: json.threshold,
    referenceScores: Float32Array.from(json.referenceScores),
    ...(json.lof && {
      lof: { kDistances: Float32Array.from(json.lof.kDistances), lrd: Float32Array.from(json.lof.lrd) },
    }),
    ...(json.forest && { forest: isolationForestFromJSON(json.forest) }),
    ...(json.components && { components: json.components.map(scorerFromJSON) }),
    ...(json.fieldSurprise && { fieldSurprise: Float32Array.from(json.fieldSurprise) }),
  };
}
