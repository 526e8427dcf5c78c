// The machine's fp32 matmul ceiling through ONNX Runtime itself: one MatMul graph per shape, timed at a
// given intra-op thread count, best of several runs.
import { Tensor } from 'onnxruntime-common';
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { median, timeRepeated } from './stats.ts';
import { openSession, Random } from './train.ts';

/** One GEMM shape: A [m, k] · B [k, n]; `constantB` bakes B in as an initializer (ORT pre-packs it). */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  constantB: boolean;
}

/** A timed shape at one thread count. */
export interface MatmulResult extends MatmulShape {
  threads: number;
  reps: number;
  bestMs: number;
  medianMs: number;
  bestGflops: number;
  medianGflops: number;
}

/** Square shapes for the ceiling plus the training step's own GEMM shapes (both views stacked: 512 rows). */
export function matmulShapes(quick: boolean): MatmulShape[] {
  if (quick) return [{ m: 64, k: 64, n: 64, constantB: false }];
  const square = [512, 1024, 2048].flatMap((s) => [
    { m: s, k: s, n: s, constantB: false },
    { m: s, k: s, n: s, constantB: true },
  ]);
  const modelShaped = [64, 256, 512].map((d) => ({ m: 512, k: d, n: d, constantB: false }));
  return [...square, ...modelShaped];
}

function randomMatrix(rows: number, cols: number, rng: Random): Float32Array {
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** Times `A·B` for each shape with onnxruntime-node on `threads` intra-op threads. */
export async function benchMatmul(
  shapes: MatmulShape[],
  threads: number,
  quick: boolean,
): Promise<MatmulResult[]> {
  const rng = new Random(11);
  const results: MatmulResult[] = [];
  for (const s of shapes) {
    const b = new Builder('matmul');
    const x = b.input('a', 'float32', [s.m, s.k]);
    const bData = randomMatrix(s.k, s.n, rng);
    const w = s.constantB
      ? b.initializer('b', { dtype: 'float32', dims: [s.k, s.n], data: bData })
      : b.input('b', 'float32', [s.k, s.n]);
    b.output(op.matMul(x, w), 'c');
    const { session } = await openSession(encodeModel(b), { runtime: 'node', threads });
    const feeds: Record<string, Tensor> = {
      a: new Tensor('float32', randomMatrix(s.m, s.k, rng), [s.m, s.k]),
    };
    if (!s.constantB) feeds.b = new Tensor('float32', bData, [s.k, s.n]);
    const times = await timeRepeated(() => session.run(feeds), quick ? 20 : 1000, quick ? 2 : 5);
    await session.release();
    const flop = 2 * s.m * s.k * s.n;
    const bestMs = Math.min(...times);
    const medianMs = median(times);
    results.push({
      ...s,
      threads,
      reps: times.length,
      bestMs,
      medianMs,
      bestGflops: flop / bestMs / 1e6,
      medianGflops: flop / medianMs / 1e6,
    });
  }
  return results;
}
