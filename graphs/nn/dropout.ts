// Dropout by a mask drawn from the in-graph counter RNG (inverted scaling, as PyTorch).
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import { bernoulliLike, randomUniformLike } from '../rng.ts';
import type { Forward } from './params.ts';

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1−p); identity in eval mode.
 * Static shapes (the train step) draw the mask from 16-bit halves of the hash, so p is rounded to
 * a multiple of 1/65536.
 */
export function dropout(f: Forward, x: Value, p: number): Value {
  if (!f.train || p <= 0 || !f.random) return x;
  const scale = op.scalarLike(x, 1 / (1 - p));
  if (x.shape?.every((d) => typeof d === 'number')) {
    const pooled = f.dropoutMasks && f.dropoutMasks.p === p;
    const dropped = pooled ? f.dropoutMasks!.take(x.shape as number[]) : bernoulliLike(f.random(), x, p);
    return op.where(dropped, op.scalarLike(x, 0), op.mul(x, scale));
  }
  const u = randomUniformLike(f.random(), x, x.dtype === 'float64' ? 'float64' : 'float32');
  const keep = op.cast(op.greaterOrEqual(u, op.scalarLike(u, p)), x.dtype);
  return op.mul(x, op.stopGradient(op.mul(keep, scale)));
}
