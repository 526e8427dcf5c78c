// A 2-D projection of embeddings for the page's plot: principal components by power iteration on the
// covariance matrix (with deflation), and the projection of rows onto them. Portable, no DOM.

/** Two principal axes of a set of rows, and how much of the variance each explains. */
export interface Pca2 {
  /** Width of the rows. */
  d: number;
  /** Column means of the rows the axes were fitted on. */
  mean: Float64Array;
  /** The axes, row-major [2, d], unit length. */
  axes: Float64Array;
  /** Variance along each axis. */
  variances: [number, number];
  /** Total variance of the rows (trace of the covariance). */
  totalVariance: number;
}

/** Options for {@link fitPca2}. */
export interface PcaOptions {
  /** Power iterations per axis at most (default 200). */
  iterations?: number;
  /** Stop once the axis moves less than this between iterations (default 1e-9). */
  tolerance?: number;
}

function covariance(x: ArrayLike<number>, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= Math.max(1, n);
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!;
    }
  }
  const scale = 1 / Math.max(1, n - 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! * scale;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  return { mean, cov };
}

function topEigen(cov: Float64Array, d: number, seed: number, iterations: number, tolerance: number) {
  let v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = 1 + ((j * 7919 + seed * 104729) % 97) / 97;
  let norm = Math.hypot(...v);
  for (let j = 0; j < d; j++) v[j]! /= norm;
  let next = new Float64Array(d);
  let lambda = 0;
  for (let it = 0; it < iterations; it++) {
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += cov[a * d + b]! * v[b]!;
      next[a] = s;
    }
    norm = Math.hypot(...next);
    if (norm === 0) return { vector: v, value: 0 };
    let moved = 0;
    for (let j = 0; j < d; j++) {
      next[j]! /= norm;
      moved = Math.max(moved, Math.abs(next[j]! - v[j]!));
    }
    lambda = norm;
    [v, next] = [next, v];
    if (moved < tolerance) break;
  }
  let largest = 0;
  for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!)) largest = j;
  if (v[largest]! < 0) for (let j = 0; j < d; j++) v[j] = -v[j]!;
  return { vector: v, value: lambda };
}

/**
 * Fits the two leading principal axes of `x` (row-major [n, d]). Axes are deterministic: the same rows give
 * the same axes, each signed so that its largest component is positive.
 */
export function fitPca2(x: ArrayLike<number>, n: number, d: number, options: PcaOptions = {}): Pca2 {
  if (x.length !== n * d) throw new RangeError(`expected ${n}×${d} values, got ${x.length}`);
  const iterations = options.iterations ?? 200;
  const tolerance = options.tolerance ?? 1e-9;
  const { mean, cov } = covariance(x, n, d);
  let totalVariance = 0;
  for (let j = 0; j < d; j++) totalVariance += cov[j * d + j]!;
  const first = topEigen(cov, d, 1, iterations, tolerance);
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) cov[a * d + b]! -= first.value * first.vector[a]! * first.vector[b]!;
  }
  const second =
    d > 1 ? topEigen(cov, d, 2, iterations, tolerance) : { vector: new Float64Array(d), value: 0 };
  const axes = new Float64Array(2 * d);
  axes.set(first.vector, 0);
  axes.set(second.vector, d);
  return { d, mean, axes, variances: [first.value, second.value], totalVariance };
}

/** Coordinates of rows `x` [n, d] on the two axes, row-major [n, 2]. */
export function project(pca: Pca2, x: ArrayLike<number>, n: number): Float32Array {
  const { d, mean, axes } = pca;
  if (x.length !== n * d) throw new RangeError(`expected ${n}×${d} values, got ${x.length}`);
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    let p = 0;
    let q = 0;
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j]! - mean[j]!;
      p += c * axes[j]!;
      q += c * axes[d + j]!;
    }
    out[i * 2] = p;
    out[i * 2 + 1] = q;
  }
  return out;
}
