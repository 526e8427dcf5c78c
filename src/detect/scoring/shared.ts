// What the scoring methods share: the neighbour count of each method, one k-NN search for several k,
// mean distances from a search, the CONTEXT-wide neighbour lists and the sorted reference scores that
// ranks are read from.
import { knnSearch } from '../knn.ts';
import { sortedCopy } from '../threshold.ts';
import {
  CONTEXT,
  DEFAULT_K_FRACTION,
  type FittedScorer,
  type ResolvedScorerOptions,
  type ScoringMethod,
  type SharedSearch,
} from './types.ts';

/**
 * The options a method runs with, its neighbour fraction settled in this one place: `knn-relative` uses
 * `kFraction` (0 means the default 3 %); inside an ensemble or `conditional`, the other k-NN methods use
 * the fixed k; alone, `knn` and `lof` use what was asked (0 by default).
 */
export function methodOptions(
  method: ScoringMethod,
  options: ResolvedScorerOptions,
  member = false,
): ResolvedScorerOptions {
  if (method === 'knn-relative')
    return { ...options, method, kFraction: options.kFraction || DEFAULT_K_FRACTION };
  return { ...options, method, kFraction: member ? 0 : options.kFraction };
}

/** Neighbours a k-NN-based method uses for `n` reference rows: max(k, ⌈kFraction·n⌉), at most n − 1. */
export function effectiveK(options: ResolvedScorerOptions, n: number): number {
  return Math.max(1, Math.min(n - 1, Math.max(options.k, Math.ceil(options.kFraction * n))));
}

/** One exact k-NN search of `qs` against `ref` (both unit length) with `k` neighbours. */
export function searchOnce(
  ref: Float32Array,
  qs: Float32Array,
  d: number,
  k: number,
  excludeSelf: boolean,
  options: ResolvedScorerOptions,
  runtime: Parameters<typeof knnSearch>[4],
): Promise<SharedSearch> {
  return knnSearch(
    ref,
    qs,
    d,
    {
      k,
      normalized: true,
      excludeSelf,
      queryChunk: options.queryChunk,
      referenceChunk: options.referenceChunk,
    },
    runtime,
  );
}

/** Mean of each query's first `k` distances (ascending) in a search: the k-NN score for that k. */
export function meanDistances(search: SharedSearch, k: number, q: number): Float32Array {
  const kk = Math.min(k, search.k);
  const out = new Float32Array(q);
  for (let i = 0; i < q; i++) {
    let sum = 0;
    for (let j = 0; j < kk; j++) sum += search.distances[i * search.k + j]!;
    out[i] = kk > 0 ? sum / kk : 0;
  }
  return out;
}

/** The first `width` of each query's `k` neighbour indices, −1 padded: [q, width]. */
export function firstNeighbours(indices: Int32Array, k: number, q: number, width = CONTEXT): Int32Array {
  const out = new Int32Array(q * width).fill(-1);
  const m = Math.min(k, width);
  for (let i = 0; i < q; i++) for (let j = 0; j < m; j++) out[i * width + j] = indices[i * k + j]!;
  return out;
}

const sortedReference = new WeakMap<Float32Array, Float64Array>();

/** The scores sorted ascending (cached per array), for ranks among them. */
export function sortedOf(scores: Float32Array): Float64Array {
  let sorted = sortedReference.get(scores);
  if (!sorted) {
    sorted = sortedCopy(scores);
    sortedReference.set(scores, sorted);
  }
  return sorted;
}

/** A fitted method's reference scores, sorted ascending. */
export function sortedScores(s: FittedScorer): Float64Array {
  return sortedOf(s.referenceScores);
}
