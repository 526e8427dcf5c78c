// Test helpers: run a built graph on onnxruntime-node, seeded random tensors.
import * as ort from 'onnxruntime-node';
import type { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { mulberry32 } from '../../src/detect/random.ts';

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

/** A small seeded PRNG for test data (the detectors' mulberry32). */
export const rng = mulberry32;

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
