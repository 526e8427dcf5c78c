// Thresholds from reference scores (percentiles) and the empirical-CDF transform that puts scores of
// different methods on one scale for rank averaging.

/** Sorted ascending copy of `values`. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * The p-th percentile (0–100) of `values`, interpolating linearly between closest ranks (NumPy's default).
 * NaN for no values.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
  const s = sortedCopy(values);
  if (s.length === 0) return Number.NaN;
  const h = ((s.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

function lowerBound(s: Float64Array, x: number): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(s: Float64Array, x: number): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Where `x` falls among the sorted reference scores `sorted`: the mid-rank empirical CDF
 * (#below + #equal/2) / n, within [0, 1] inside the reference range. Beyond the range it continues
 * linearly (1 + (x − max)/(max − min) above, (x − min)/(max − min) below), so scores outside the
 * reference still rank among themselves.
 */
export function ecdfRank(sorted: Float64Array, x: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const span = max - min || 1;
  if (x > max) return 1 + (x - max) / span;
  if (x < min) return (x - min) / span;
  const below = lowerBound(sorted, x);
  const equal = upperBound(sorted, x) - below;
  return (below + equal / 2) / n;
}
