// Isolation forest on embeddings (Liu, Ting & Zhou 2008): seeded trees on subsamples, random axis splits,
// path lengths normalised by c(ψ); scores in (0, 1], higher = easier to isolate = more anomalous.
import { mulberry32, randomInt } from './random.ts';

/** How the forest is grown. */
export interface IsolationForestOptions {
  /** Number of trees (default 100). */
  trees?: number;
  /** Rows drawn without replacement per tree (default 256, capped at the row count). */
  sampleSize?: number;
  /** Seed for subsamples, split features and split values (default 0). */
  seed?: number;
}

/**
 * One tree as flat arrays over its nodes (node 0 is the root). An internal node sends rows with
 * `x[feature] < threshold` to `left`, the rest to `right`; a leaf has `feature` −1 and holds `size` rows.
 */
export interface IsolationTree {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  size: Int32Array;
}

/** A fitted isolation forest. */
export interface IsolationForest {
  /** Row width the forest was grown on. */
  d: number;
  /** Rows per tree actually used (ψ). */
  sampleSize: number;
  /** Depth at which growth stops: ceil(log2 ψ). */
  heightLimit: number;
  seed: number;
  trees: IsolationTree[];
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): the average path length of an unsuccessful binary-search-tree search among n points,
 * 2·H(n−1) − 2(n−1)/n with H(i) ≈ ln(i) + γ; c(2) = 1, c(n ≤ 1) = 0.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

function wholeAtLeast1(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${v}`);
  return v;
}

/** Grows an isolation forest on the rows of `x` [n, d]. The same data, options and seed give the same forest. */
export function fitIsolationForest(
  x: Float32Array,
  d: number,
  options: IsolationForestOptions = {},
): IsolationForest {
  wholeAtLeast1(d, 'd');
  const n = x.length / d;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`isolation forest needs at least one row of width ${d}`);
  const trees = wholeAtLeast1(options.trees ?? 100, 'trees');
  const sampleSize = Math.min(n, wholeAtLeast1(options.sampleSize ?? 256, 'sampleSize'));
  const seed = options.seed ?? 0;
  const heightLimit = Math.ceil(Math.log2(Math.max(2, sampleSize)));
  const random = mulberry32(seed);
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  const out: IsolationTree[] = [];
  for (let t = 0; t < trees; t++) {
    for (let i = 0; i < sampleSize; i++) {
      const j = i + randomInt(random, n - i);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    out.push(growTree(x, d, pool.slice(0, sampleSize), heightLimit, random));
  }
  return { d, sampleSize, heightLimit, seed, trees: out };
}

function growTree(
  x: Float32Array,
  d: number,
  rows: Int32Array,
  heightLimit: number,
  random: () => number,
): IsolationTree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const size: number[] = [];
  const newNode = () => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    right.push(-1);
    size.push(0);
    return feature.length - 1;
  };
  const stack: { node: number; start: number; end: number; depth: number }[] = [
    { node: newNode(), start: 0, end: rows.length, depth: 0 },
  ];
  while (stack.length > 0) {
    const { node, start, end, depth } = stack.pop()!;
    size[node] = end - start;
    if (depth >= heightLimit || end - start <= 1) continue;
    let f = -1;
    let lo = 0;
    let hi = 0;
    for (let attempt = 0; attempt < d && f < 0; attempt++) {
      const c = randomInt(random, d);
      lo = Number.POSITIVE_INFINITY;
      hi = Number.NEGATIVE_INFINITY;
      for (let i = start; i < end; i++) {
        const v = x[rows[i]! * d + c]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi > lo) f = c;
    }
    if (f < 0) continue;
    let split = lo + random() * (hi - lo);
    if (!(split > lo)) split = lo + (hi - lo) / 2;
    let mid = start;
    for (let i = start; i < end; i++) {
      if (x[rows[i]! * d + f]! < split) {
        const tmp = rows[i]!;
        rows[i] = rows[mid]!;
        rows[mid++] = tmp;
      }
    }
    feature[node] = f;
    threshold[node] = split;
    const l = newNode();
    const r = newNode();
    left[node] = l;
    right[node] = r;
    stack.push(
      { node: r, start: mid, end, depth: depth + 1 },
      { node: l, start, end: mid, depth: depth + 1 },
    );
  }
  return {
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    left: Int32Array.from(left),
    right: Int32Array.from(right),
    size: Int32Array.from(size),
  };
}

/** Path length of row `o` of `x` in `tree`: the depth reached plus c(size) of the leaf it lands in. */
function pathLength(tree: IsolationTree, x: Float32Array, o: number): number {
  let node = 0;
  let depth = 0;
  while (tree.feature[node]! >= 0) {
    node = x[o + tree.feature[node]!]! < tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
    depth++;
  }
  return depth + averagePathLength(tree.size[node]!);
}

/** Anomaly scores 2^(−E[h(x)] / c(ψ)) for the rows of `x` [q, d]: near 1 isolated, ≤ 0.5 ordinary. */
export function isolationScores(forest: IsolationForest, x: Float32Array, d: number): Float32Array {
  if (d !== forest.d) throw new RangeError(`the forest was grown on rows of width ${forest.d}, got ${d}`);
  const q = x.length / d;
  if (!Number.isInteger(q)) throw new RangeError(`${x.length} values are not whole rows of width ${d}`);
  const norm = averagePathLength(forest.sampleSize) || 1;
  const out = new Float32Array(q);
  for (let i = 0; i < q; i++) {
    let total = 0;
    for (const tree of forest.trees) total += pathLength(tree, x, i * d);
    out[i] = 2 ** -(total / forest.trees.length / norm);
  }
  return out;
}

/** The forest as plain JSON data. */
export interface IsolationForestJSON {
  d: number;
  sampleSize: number;
  heightLimit: number;
  seed: number;
  trees: { feature: number[]; threshold: number[]; left: number[]; right: number[]; size: number[] }[];
}

/** Converts a forest to plain JSON data (exact: thresholds are float64 numbers). */
export function isolationForestToJSON(forest: IsolationForest): IsolationForestJSON {
  return {
    ...forest,
    trees: forest.trees.map((t) => ({
      feature: [...t.feature],
      threshold: [...t.threshold],
      left: [...t.left],
      right: [...t.right],
      size: [...t.size],
    })),
  };
}

/** Restores a forest written by `isolationForestToJSON`. */
export function isolationForestFromJSON(json: IsolationForestJSON): IsolationForest {
  return {
    ...json,
    trees: json.trees.map((t) => ({
      feature: Int32Array.from(t.feature),
      threshold: Float64Array.from(t.threshold),
      left: Int32Array.from(t.left),
      right: Int32Array.from(t.right),
      size: Int32Array.from(t.size),
    })),
  };
}
