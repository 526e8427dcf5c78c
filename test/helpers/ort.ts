// Test helpers: run a built graph on onnxruntime-node, seeded random tensors.
import * as ort from 'onnxruntime-node';
import type { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';

export type Feeds = Record<string, ort.Tensor>;

/** Creates an onnxruntime-node session for the graph in `b` (one intra-op thread). */
export async function sessionFor(b: Builder): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(b), { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

/** Runs the graph in `b` once and returns every output. */
export async function runOnce(b: Builder, feeds: Feeds): Promise<Record<string, ort.Tensor>> {
  const s = await sessionFor(b);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** A small seeded PRNG (mulberry32) for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a seeded PRNG. */
export function randn(n: number, random: () => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = 1 - random();
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random()));
  }
  return out;
}

export { ort };
