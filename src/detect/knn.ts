// Exact cosine k-nearest-neighbour search: the similarity matmul on ONNX Runtime, each row's top k picked by
// ONNX Runtime's TopK in the same graph when k is small, else by a partial selection in TypeScript, the chunked
// run loop over queries and reference rows, the merge of partial top-k lists, and k-NN distance scores.
import type { Tensor, TensorConstructor } from 'onnxruntime-common';
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';

/** The part of an ONNX Runtime `InferenceSession` the k-NN search uses. */
export interface KnnSession {
  run(feeds: Record<string, Tensor>): Promise<Readonly<Record<string, unknown>>>;
  release?(): Promise<void>;
}

/**
 * The runtime the search runs on, injected so that the same code runs on onnxruntime-node and
 * onnxruntime-web: a session factory for model bytes and that runtime's `Tensor` class.
 * `knn.node.ts` provides one for Node.
 */
export interface KnnRuntime {
  createSession(model: Uint8Array): Promise<KnnSession>;
  Tensor: TensorConstructor;
}

/** How a k-NN search runs. */
export interface KnnOptions {
  /** Neighbours per query (capped at the number of reference rows available). */
  k: number;
  /**
   * The queries are the reference rows themselves (same count, same order): each row's own index is left
   * out of its neighbours (leave-one-out).
   */
  excludeSelf?: boolean;
  /** For queries that are some of the reference rows: query i's own reference index, or -1 for none. */
  selfIndex?: ArrayLike<number>;
  /** The rows are already unit length; skips normalisation. */
  normalized?: boolean;
  /**
   * Queries per session run (default 1024). Bounds memory together with `referenceChunk`: each run returns
   * a [queries, reference rows] similarity block, split into blocks of at most 4M values.
   */
  queryChunk?: number;
  /** Reference rows per session run (default 8192); partial top-k lists are merged in TypeScript. */
  referenceChunk?: number;
}

/** Neighbours of each query, nearest first. */
export interface KnnResult {
  /** Neighbours per query actually returned: `min(k, reference rows, less self)`. */
  k: number;
  /** Cosine distances `1 − cos`, [q, k], ascending per row, clamped at 0. */
  distances: Float32Array;
  /** Reference row indices, [q, k]; equal similarities list the lower index first. */
  indices: Int32Array;
}

/** k-NN distance scores with a few nearest neighbours per query for explanations. */
export interface KnnScores {
  /** Neighbours averaged per query. */
  k: number;
  /** Mean cosine distance to the k nearest reference rows, one per query. */
  scores: Float32Array;
  /** Distance to the k-th nearest reference row, one per query. */
  kDistances: Float32Array;
  /** Neighbours kept per query for explanations (`explain`, capped at k). */
  explain: number;
  /** The nearest `explain` reference indices per query, [q, explain]. */
  neighbours: Int32Array;
  /** Their cosine distances, [q, explain]. */
  neighbourDistances: Float32Array;
}

const DEFAULT_QUERY_CHUNK = 1024;
const DEFAULT_REFERENCE_CHUNK = 8192;

const BLOCK_VALUES = 1 << 22;

let modelBytes: Uint8Array | undefined;
let topKModelBytes: Uint8Array | undefined;

/**
 * The similarity model: inputs `queries` [q, d] and `reference` [n, d] (both unit rows); output
 * `similarities` [q, n], the cosine similarity of every query to every reference row. The top k of each row
 * is selected in TypeScript (`selectTopK`): ONNX Runtime's TopK sorts k in the hundreds far slower.
 */
export function knnModel(): Uint8Array {
  if (!modelBytes) {
    const b = new Builder('knn');
    const q = b.input('queries', 'float32', ['q', 'd']);
    const r = b.input('reference', 'float32', ['n', 'd']);
    b.output(op.gemm(q, r, null, { transB: 1 }), 'similarities');
    modelBytes = encodeModel(b);
  }
  return modelBytes;
}

/**
 * The similarity model followed by ONNX Runtime's TopK, for small k: inputs `queries` [q, d], `reference`
 * [n, d] and `k` (int64 [1]); outputs `values` [q, k] (descending, equal values by ascending position, as
 * `selectTopK` orders them) and `indices` (int64). The [q, n] similarities never leave ONNX Runtime.
 */
export function knnTopKModel(): Uint8Array {
  if (!topKModelBytes) {
    const b = new Builder('knn-topk');
    const q = b.input('queries', 'float32', ['q', 'd']);
    const r = b.input('reference', 'float32', ['n', 'd']);
    const k = b.input('k', 'int64', [1]);
    const similarities = op.gemm(q, r, null, { transB: 1 });
    const [values, indices] = b.opMulti(
      'TopK',
      [similarities, k],
      { axis: -1, largest: 1, sorted: 1 },
      { outputs: 2 },
    );
    b.output(values!, 'values');
    b.output(indices!, 'indices');
    topKModelBytes = encodeModel(b);
  }
  return topKModelBytes;
}

/**
 * Largest k picked by ONNX Runtime's TopK inside the search graph; larger k are selected in TypeScript.
 * At k = 20 on a 16,384-row reference the graph's TopK costs less than copying the similarities out
 * (docs/decisions.md, "k-NN: small k picked in the graph"); its cost grows with k, the selection's does not.
 */
export const GRAPH_TOPK_MAX = 64;

/** Reference rows per session run at most: a row's position must fit the low bits of a selection key. */
export const MAX_REFERENCE_CHUNK = 1 << 21;

/** Values sampled per row to guess the top-k threshold. */
const SAMPLE = 1024;

/** Scratch space reused by `selectTopK` (grown on demand). */
export interface TopKScratch {
  keys: Float64Array;
  positions: Int32Array;
  sample: Float64Array;
}

/** Fresh scratch space for `selectTopK`. */
export function topKScratch(): TopKScratch {
  return { keys: new Float64Array(0), positions: new Int32Array(0), sample: new Float64Array(SAMPLE) };
}

/**
 * Hoare partition of `x[lo..hi]` around the median of three: afterwards every value at or before `j` is
 * ≤ the pivot, every value at or after `i` is ≥ it, and `j < i`.
 */
function partition(x: Float64Array, lo: number, hi: number): [number, number] {
  const a = x[lo]!;
  const b = x[(lo + hi) >>> 1]!;
  const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), x[hi]!)); // the median of three
  let i = lo;
  let j = hi;
  while (i <= j) {
    while (x[i]! < pivot) i++;
    while (x[j]! > pivot) j--;
    if (i <= j) {
      const t = x[i]!;
      x[i] = x[j]!;
      x[j] = t;
      i++;
      j--;
    }
  }
  return [i, j];
}

/** Reorders `x[0..len)` so that its `want` smallest values come first; in place, average O(len). */
function selectSmallest(x: Float64Array, len: number, want: number): void {
  let lo = 0;
  let hi = len - 1;
  const target = want - 1;
  while (hi > lo) {
    const [i, j] = partition(x, lo, hi);
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/** Sorts `x[lo..hi]` ascending in place (quicksort, insertion sort for short runs); faster than `.sort()` here. */
function sortRange(x: Float64Array, lo: number, hi: number): void {
  while (hi - lo > 16) {
    const [i, j] = partition(x, lo, hi);
    if (j - lo < hi - i) {
      sortRange(x, lo, j);
      lo = i;
    } else {
      sortRange(x, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = x[i]!;
    let j = i - 1;
    while (j >= lo && x[j]! > v) {
      x[j + 1] = x[j]!;
      j--;
    }
    x[j + 1] = v;
  }
}

const POSITION = MAX_REFERENCE_CHUNK;
/** The selection key of −Infinity (and NaN): see `selectTopK`. */
const LOWEST = (0xffffffff - 0x007fffff) * POSITION;

/**
 * The `k` largest of `row[0..len)` in descending order, equal values by ascending position (as ONNX
 * Runtime's TopK orders them): values into `outValues`, positions into `outIndices`, both from `outOffset`.
 * NaN counts as −Infinity, −0 as 0. `len` is at most `MAX_REFERENCE_CHUNK`.
 *
 * Each candidate becomes one exact float64 key, (descending order of its float32 bits) · 2²¹ + position, so
 * a plain numeric sort orders by value and then position. Candidates are the values at or above a threshold
 * guessed from a strided sample (about 2k of them), or the whole row when fewer than k pass.
 */
export function selectTopK(
  row: Float32Array,
  len: number,
  k: number,
  outValues: Float32Array,
  outIndices: Int32Array,
  outOffset: number,
  scratch: TopKScratch,
): void {
  if (len > MAX_REFERENCE_CHUNK)
    throw new RangeError(`selectTopK takes at most ${MAX_REFERENCE_CHUNK} values`);
  if (scratch.keys.length < len) {
    scratch.keys = new Float64Array(len);
    scratch.positions = new Int32Array(len);
  }
  const { keys, positions } = scratch;
  const bits = new Uint32Array(row.buffer, row.byteOffset, len);
  let count = 0;
  if (k < len && len >= 8 * SAMPLE) {
    const sample = scratch.sample;
    const stride = Math.floor(len / SAMPLE);
    for (let s = 0; s < SAMPLE; s++) {
      const v = row[s * stride]!;
      sample[s] = Number.isNaN(v) ? Number.POSITIVE_INFINITY : -v;
    }
    const rank = Math.min(SAMPLE, Math.ceil((2 * k * SAMPLE) / len) + 4);
    selectSmallest(sample, SAMPLE, rank);
    const threshold = -sample[rank - 1]!;
    for (let i = 0; i < len; i++) if (row[i]! >= threshold) positions[count++] = i;
    if (count < k) count = 0;
  }
  if (count === 0) {
    for (let i = 0; i < len; i++) positions[i] = i;
    count = len;
  }
  for (let c = 0; c < count; c++) {
    const i = positions[c]!;
    const v = row[i]!;
    if (Number.isNaN(v)) {
      keys[c] = LOWEST + i;
      continue;
    }
    const b = v === 0 ? 0 : bits[i]!;
    // float32 bits → an unsigned integer that grows with the value; stored reversed so smaller = larger value
    const sortable = b >= 0x80000000 ? 0xffffffff - b : b + 0x80000000;
    keys[c] = (0xffffffff - sortable) * POSITION + i;
  }
  if (k < count) selectSmallest(keys, count, k);
  sortRange(keys, 0, k - 1);
  for (let j = 0; j < k; j++) {
    const key = keys[j]!;
    const i = key - Math.floor(key / POSITION) * POSITION;
    outValues[outOffset + j] = row[i]!;
    outIndices[outOffset + j] = i;
  }
}

/** Which k-NN graph: the similarities alone, or followed by TopK. */
type KnnGraph = 'similarities' | 'topk';

const sessions = new WeakMap<KnnRuntime, Map<KnnGraph, Promise<KnnSession>>>();

/**
 * The runtime's k-NN session for `graph` (default: the similarities alone), created on first use and kept
 * for the runtime's lifetime.
 */
export function knnSession(runtime: KnnRuntime, graph: KnnGraph = 'similarities'): Promise<KnnSession> {
  let byGraph = sessions.get(runtime);
  if (!byGraph) {
    byGraph = new Map();
    sessions.set(runtime, byGraph);
  }
  let s = byGraph.get(graph);
  if (!s) {
    const created = runtime.createSession(graph === 'topk' ? knnTopKModel() : knnModel());
    byGraph.set(graph, created);
    created.catch(() => byGraph.delete(graph));
    s = created;
  }
  return s;
}

/** Releases the runtime's k-NN sessions, if any were created; the next search creates new ones. */
export async function releaseKnnSession(runtime: KnnRuntime): Promise<void> {
  const byGraph = sessions.get(runtime);
  sessions.delete(runtime);
  for (const s of byGraph?.values() ?? []) await (await s).release?.();
}

/** Checks that `x` holds whole rows of width `d` and returns the row count. */
export function rowCount(x: Float32Array, d: number, what: string): number {
  if (!Number.isInteger(d) || d < 1)
    throw new RangeError(`embedding width d must be a whole number >= 1, got ${d}`);
  if (x.length % d !== 0) {
    throw new RangeError(`${what} has ${x.length} values, not a whole number of rows of width ${d}`);
  }
  return x.length / d;
}

/** A copy of `x` [n, d] with every row scaled to unit length; all-zero rows stay zero. */
export function normalizeRows(x: Float32Array, d: number): Float32Array {
  const n = rowCount(x, d, 'embeddings');
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += x[o + j]! * x[o + j]!;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < d; j++) out[o + j] = x[o + j]! * inv;
  }
  return out;
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${v}`);
  return v;
}

function selfIndices(options: KnnOptions, q: number, n: number): ArrayLike<number> | undefined {
  if (options.selfIndex) {
    if (options.selfIndex.length !== q) {
      throw new RangeError(`selfIndex has ${options.selfIndex.length} entries for ${q} queries`);
    }
    return options.selfIndex;
  }
  if (!options.excludeSelf) return undefined;
  if (q !== n)
    throw new RangeError(`excludeSelf needs the queries to be the reference rows (${q} queries, ${n} rows)`);
  return { length: q } as ArrayLike<number>;
}

/**
 * Runs the search chunk by chunk and hands each query chunk's neighbour lists (nearest first) to `sink`.
 * Equal similarities keep the lower reference index first, within a chunk (TopK or `selectTopK`) and across
 * chunks (merge).
 */
async function search(
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  options: KnnOptions,
  runtime: KnnRuntime,
  sink: (start: number, count: number, k: number, distances: Float32Array, indices: Int32Array) => void,
): Promise<number> {
  const n = rowCount(reference, d, 'reference');
  const q = rowCount(queries, d, 'queries');
  const k = positiveInt(options.k, 0, 'k');
  const rChunk = Math.min(
    n,
    MAX_REFERENCE_CHUNK,
    positiveInt(options.referenceChunk, DEFAULT_REFERENCE_CHUNK, 'referenceChunk'),
  );
  const qChunk = Math.min(
    positiveInt(options.queryChunk, DEFAULT_QUERY_CHUNK, 'queryChunk'),
    Math.max(1, Math.floor(BLOCK_VALUES / rChunk)),
  );
  const self = selfIndices(options, q, n);
  const identitySelf = self !== undefined && options.selfIndex === undefined;
  const kOut = Math.min(k, n - (self ? 1 : 0));
  if (kOut < 1) {
    throw new RangeError(
      `k-NN needs at least ${self ? 2 : 1} reference rows${self ? ' when leaving self out' : ''}, got ${n}`,
    );
  }
  if (q === 0) return kOut;
  const kk = Math.min(n, kOut + (self ? 1 : 0));
  const ref = options.normalized ? reference : normalizeRows(reference, d);
  const qs = options.normalized ? queries : normalizeRows(queries, d);
  const { Tensor } = runtime;
  const refTensors: Tensor[] = [];
  for (let r0 = 0; r0 < n; r0 += rChunk) {
    const rc = Math.min(rChunk, n - r0);
    refTensors.push(new Tensor('float32', ref.subarray(r0 * d, (r0 + rc) * d), [rc, d]));
  }
  const inGraph = kk <= GRAPH_TOPK_MAX;
  const session = await knnSession(runtime, inGraph ? 'topk' : 'similarities');
  const kTensors = new Map<number, Tensor>();
  const scratch = topKScratch();
  let bestSim = new Float32Array(Math.min(qChunk, q) * kk);
  let bestIdx = new Int32Array(bestSim.length);
  let nextSim = new Float32Array(bestSim.length);
  let nextIdx = new Int32Array(bestSim.length);
  const vals = new Float32Array(bestSim.length);
  const idx = new Int32Array(bestSim.length);
  const outDist = new Float32Array(Math.min(qChunk, q) * kOut);
  const outIdx = new Int32Array(outDist.length);
  for (let q0 = 0; q0 < q; q0 += qChunk) {
    const qc = Math.min(qChunk, q - q0);
    const qt = new Tensor('float32', qs.subarray(q0 * d, (q0 + qc) * d), [qc, d]);
    let have = 0;
    for (let c = 0; c < refTensors.length; c++) {
      const r0 = c * rChunk;
      const rc = refTensors[c]!.dims[0]!;
      const kc = Math.min(kk, rc);
      const into = have === 0 ? bestSim : vals;
      const intoIdx = have === 0 ? bestIdx : idx;
      const stride = have === 0 ? kk : kc;
      if (inGraph) {
        let kt = kTensors.get(kc);
        if (!kt) {
          kt = new Tensor('int64', BigInt64Array.of(BigInt(kc)), [1]);
          kTensors.set(kc, kt);
        }
        const out = await session.run({ queries: qt, reference: refTensors[c]!, k: kt });
        const values = (out.values as Tensor).data as Float32Array;
        const indices = (out.indices as Tensor).data as BigInt64Array;
        for (let i = 0; i < qc; i++) {
          for (let j = 0; j < kc; j++) {
            into[i * stride + j] = values[i * kc + j]!;
            intoIdx[i * stride + j] = Number(indices[i * kc + j]!) + r0;
          }
        }
      } else {
        const out = await session.run({ queries: qt, reference: refTensors[c]! });
        const sims = (out.similarities as Tensor).data as Float32Array;
        for (let i = 0; i < qc; i++) {
          selectTopK(sims.subarray(i * rc, (i + 1) * rc), rc, kc, into, intoIdx, i * stride, scratch);
          if (r0 > 0) for (let j = 0; j < kc; j++) intoIdx[i * stride + j]! += r0;
        }
      }
      if (have === 0) {
        have = kc;
        continue;
      }
      const merged = Math.min(kk, have + kc);
      for (let i = 0; i < qc; i++) {
        let a = 0;
        let b = 0;
        for (let j = 0; j < merged; j++) {
          const takeA = b >= kc || (a < have && bestSim[i * kk + a]! >= vals[i * kc + b]!);
          if (takeA) {
            nextSim[i * kk + j] = bestSim[i * kk + a]!;
            nextIdx[i * kk + j] = bestIdx[i * kk + a]!;
            a++;
          } else {
            nextSim[i * kk + j] = vals[i * kc + b]!;
            nextIdx[i * kk + j] = idx[i * kc + b]!;
            b++;
          }
        }
      }
      [bestSim, nextSim] = [nextSim, bestSim];
      [bestIdx, nextIdx] = [nextIdx, bestIdx];
      have = merged;
    }
    for (let i = 0; i < qc; i++) {
      const own = self ? (identitySelf ? q0 + i : self[q0 + i]!) : -1;
      let skipped = own < 0;
      let j = 0;
      for (let t = 0; t < have && j < kOut; t++) {
        const idx = bestIdx[i * kk + t]!;
        if (!skipped && idx === own) {
          skipped = true;
          continue;
        }
        const dist = 1 - bestSim[i * kk + t]!;
        outDist[i * kOut + j] = Math.max(dist, 0);
        outIdx[i * kOut + j] = idx;
        j++;
      }
    }
    sink(q0, qc, kOut, outDist.subarray(0, qc * kOut), outIdx.subarray(0, qc * kOut));
  }
  return kOut;
}

/**
 * Exact cosine k-NN of each query among the reference rows, computed as chunked similarity matmuls on ONNX
 * Runtime and each row's top k (ONNX Runtime's TopK up to `GRAPH_TOPK_MAX`, else a partial selection). Rows are normalised to unit length first (unless `normalized`).
 *
 * Memory is bounded by the chunk sizes, plus the [q, k] result; use `knnScore` when only scores are needed.
 */
export async function knnSearch(
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  options: KnnOptions,
  runtime: KnnRuntime,
): Promise<KnnResult> {
  const q = rowCount(queries, d, 'queries');
  let distances = new Float32Array(0);
  let indices = new Int32Array(0);
  const k = await search(reference, queries, d, options, runtime, (start, _count, kOut, dist, idx) => {
    if (distances.length === 0) {
      distances = new Float32Array(q * kOut);
      indices = new Int32Array(q * kOut);
    }
    distances.set(dist, start * kOut);
    indices.set(idx, start * kOut);
  });
  if (distances.length !== q * k) {
    distances = new Float32Array(q * k);
    indices = new Int32Array(q * k);
  }
  return { k, distances, indices };
}

/**
 * k-NN distance scores: the mean cosine distance from each query to its k nearest reference rows
 * (leave-one-out with `excludeSelf`), the k-th distance, and the nearest `explain` (default 3) neighbours.
 * Memory stays O(q · explain) beyond the chunk buffers, whatever k is.
 */
export async function knnScore(
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  options: KnnOptions & { explain?: number },
  runtime: KnnRuntime,
): Promise<KnnScores> {
  const q = rowCount(queries, d, 'queries');
  const explainWanted = options.explain ?? 3;
  if (!Number.isInteger(explainWanted) || explainWanted < 0) {
    throw new RangeError(`explain must be a whole number >= 0, got ${explainWanted}`);
  }
  const scores = new Float32Array(q);
  const kDistances = new Float32Array(q);
  let explain = explainWanted;
  let neighbours = new Int32Array(0);
  let neighbourDistances = new Float32Array(0);
  const k = await search(reference, queries, d, options, runtime, (start, count, kOut, dist, idx) => {
    if (neighbours.length === 0 && explain > 0) {
      explain = Math.min(explainWanted, kOut);
      neighbours = new Int32Array(q * explain);
      neighbourDistances = new Float32Array(q * explain);
    }
    for (let i = 0; i < count; i++) {
      let s = 0;
      for (let j = 0; j < kOut; j++) s += dist[i * kOut + j]!;
      scores[start + i] = s / kOut;
      kDistances[start + i] = dist[i * kOut + kOut - 1]!;
      for (let j = 0; j < explain; j++) {
        neighbours[(start + i) * explain + j] = idx[i * kOut + j]!;
        neighbourDistances[(start + i) * explain + j] = dist[i * kOut + j]!;
      }
    }
  });
  explain = Math.min(explainWanted, k);
  if (neighbours.length !== q * explain) {
    neighbours = new Int32Array(q * explain);
    neighbourDistances = new Float32Array(q * explain);
  }
  return { k, scores, kDistances, explain, neighbours, neighbourDistances };
}
