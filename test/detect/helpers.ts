// Test helpers for detection: a shared CPU k-NN runtime, seeded embeddings and a brute-force k-NN reference.
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { normalizeRows } from '../../src/detect/knn.ts';
import { mulberry32, normal } from '../../src/detect/random.ts';

/** One CPU runtime shared by the detection tests (one intra-op thread). */
export const runtime = nodeKnnRuntime({ device: 'cpu', threads: 1 });

/** `n` seeded standard-normal rows of width `d`. */
export function randomRows(n: number, d: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = normal(random);
  return x;
}

/**
 * Brute-force cosine k-NN in float64 over the normalised float32 rows: neighbours sorted by distance, then
 * index; `self[i]` (when given) is left out of query i's list.
 */
export function bruteKnn(
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  k: number,
  self?: (i: number) => number,
): { distances: number[][]; indices: number[][]; scores: number[] } {
  const r = normalizeRows(reference, d);
  const q = normalizeRows(queries, d);
  const n = r.length / d;
  const distances: number[][] = [];
  const indices: number[][] = [];
  const scores: number[] = [];
  for (let i = 0; i < q.length / d; i++) {
    const all: { dist: number; idx: number }[] = [];
    for (let j = 0; j < n; j++) {
      if (self && self(i) === j) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t]! * r[j * d + t]!;
      all.push({ dist: Math.max(0, 1 - s), idx: j });
    }
    all.sort((a, b) => a.dist - b.dist || a.idx - b.idx);
    const top = all.slice(0, k);
    distances.push(top.map((t) => t.dist));
    indices.push(top.map((t) => t.idx));
    scores.push(top.reduce((a, t) => a + t.dist, 0) / top.length);
  }
  return { distances, indices, scores };
}
