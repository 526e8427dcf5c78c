// The anomaly scorer's public face: resolves options, fits a scoring method from the registry
// (`scoring/registry.ts`: k-NN, relative k-NN, LOF, isolation forest, rank ensemble, conditional) on
// reference embeddings, sets the threshold from the reference's own scores, scores queries (scores always
// finite), and converts the fitted state to and from JSON (the reference embeddings are kept separately).
import type { FieldSpace } from './field-space.ts';
import { type IsolationForestJSON, isolationForestFromJSON, isolationForestToJSON } from './iforest.ts';
import { type KnnRuntime, knnScore, normalizeRows, rowCount } from './knn.ts';
import { METHOD_NAMES, METHODS } from './scoring/registry.ts';
import { firstNeighbours } from './scoring/shared.ts';
import {
  CONTEXT,
  DEFAULT_COMPONENTS,
  DEFAULT_FIELDS_METHOD,
  DEFAULT_K_FRACTION,
  DEFAULT_METHOD,
  EXPLAIN,
  type FieldContext,
  type FittedScorer,
  type ResolvedScorerOptions,
  type ScoreResult,
  type ScorerOptions,
  type ScoringMethod,
} from './scoring/types.ts';
import { percentile } from './threshold.ts';

export { SURPRISE_FIELDS } from './scoring/conditional.ts';
export { effectiveK } from './scoring/shared.ts';
/** The scorer's types and defaults live in `scoring/types.ts`; this module is where callers take them from. */
export * from './scoring/types.ts';

/** Methods whose score is a rank among the reference rows' own scores (0.95: above 95% of them; > 1: beyond all). */
const RANK_METHODS: ReadonlySet<string> = new Set(['ensemble', 'conditional']);

/** Whether `method`'s scores are ranks among the reference's own scores, so that scores above 1 mean "beyond all of them". */
export function scoresAreRanks(method: string): boolean {
  return RANK_METHODS.has(method);
}

/** Fills in the defaults for `opts`. */
export function resolveOptions(opts: ScorerOptions = {}, withFields = false): ResolvedScorerOptions {
  const method = opts.method ?? (withFields ? DEFAULT_FIELDS_METHOD : DEFAULT_METHOD);
  const methods = METHOD_NAMES;
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
    combine: opts.combine ?? (method === 'conditional' ? 'grouped' : 'max'),
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
  const combinations = method === 'conditional' ? ['grouped', 'fisher', 'max'] : ['max', 'mean'];
  if (!combinations.includes(resolved.combine)) {
    throw new RangeError(
      `${method} scoring combines by ${combinations.join(' or ')}, got '${String(resolved.combine)}'`,
    );
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

const normalizedCache = new WeakMap<Float32Array, { d: number; rows: Float32Array }>();

function unitRows(x: Float32Array, d: number): Float32Array {
  const hit = normalizedCache.get(x);
  if (hit && hit.d === d) return hit.rows;
  const rows = normalizeRows(x, d);
  normalizedCache.set(x, { d, rows });
  return rows;
}

/**
 * Fits a scorer on the reference embeddings [n, d] (normally the training rows' embeddings): scores every
 * reference row with itself left out, and sets `threshold` to the `thresholdPercentile`-th percentile of
 * those scores. k-NN searches run on `runtime` (ONNX Runtime). With `fields` (the events' fields) the
 * default method is `conditional`, else `ensemble`.
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
  const fitted = await METHODS[options.method].fit({ ref, n, d, options, runtime, fields });
  return { ...fitted, threshold: percentile(fitted.referenceScores, options.thresholdPercentile) };
}

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

/**
 * Scores query embeddings [q, d] against the reference the scorer was fitted on: anomaly scores (finite),
 * the 3 and the CONTEXT nearest reference rows per query (for explanations), and `score > threshold` flags.
 * The unit-length copy of `reference` is cached per array, so do not modify a reference array in place
 * between calls.
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
  const scored = await METHODS[scorer.method].score(scorer, {
    ref,
    qs,
    q,
    d,
    excludeSelf,
    runtime,
    fields: options.fields,
  });
  let context = scored.neighbours;
  if (!context) {
    const near = await knnScore(
      ref,
      qs,
      d,
      {
        k: Math.min(CONTEXT, Math.max(1, n - (excludeSelf ? 1 : 0))),
        explain: CONTEXT,
        normalized: true,
        excludeSelf,
        queryChunk: scorer.options.queryChunk,
        referenceChunk: scorer.options.referenceChunk,
      },
      runtime,
    );
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
  fieldSpace?: FieldSpace;
  fieldKnn?: number[];
  reconstructionScale?: number[];
  reconstructionScores?: number[];
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
    ...(s.fieldSpace && { fieldSpace: s.fieldSpace }),
    ...(s.fieldKnn && { fieldKnn: [...s.fieldKnn] }),
    ...(s.reconstructionScale && { reconstructionScale: s.reconstructionScale }),
    ...(s.reconstructionScores && { reconstructionScores: [...s.reconstructionScores] }),
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
    ...(json.fieldSpace && { fieldSpace: json.fieldSpace }),
    ...(json.fieldKnn && { fieldKnn: Float32Array.from(json.fieldKnn) }),
    ...(json.reconstructionScale && { reconstructionScale: json.reconstructionScale }),
    ...(json.reconstructionScores && {
      reconstructionScores: Float32Array.from(json.reconstructionScores),
    }),
  };
}
