// Dropout by a mask drawn from the in-graph counter RNG (inverted scaling, as PyTorch), alone or
// fused with the ReLU before it.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import { bernoulliLike, randomUniformLike } from '../rng.ts';
import type { Forward } from './params.ts';

function isStatic(x: Value): boolean {
  return x.shape?.every((d) => typeof d === 'number') ?? false;
}

/**
 * The float mask of one site with `x`'s static shape: `scale` where the draw is kept (and, with
 * `positiveOnly`, where x > 0), else 0. The bool mask becomes float in one Cast (and one Mul unless
 * `scale` is 1), cheaper in ONNX Runtime than a Where between two scalars.
 */
function scaleMask(f: Forward, x: Value, p: number, positiveOnly: boolean, scale: number): Value {
  let kept =
    f.dropoutMasks && f.dropoutMasks.p === p
      ? f.dropoutMasks.take(x.shape as number[])
      : op.not(bernoulliLike(f.random!(), x, p));
  if (positiveOnly) kept = op.and(op.greater(x, op.scalarLike(x, 0)), kept);
  const mask = op.cast(kept, x.dtype);
  return scale === 1 ? mask : op.mul(mask, op.scalarLike(x, scale));
}

/**
 * Zeroes each element with probability `p` and scales the rest by 1/(1−p); identity in eval mode.
 * Static shapes (the train step) draw the mask from 16-bit halves of the hash, so p is rounded to
 * a multiple of 1/65536.
 */
export function dropout(f: Forward, x: Value, p: number): Value {
  if (!f.train || p <= 0 || !f.random) return x;
  if (isStatic(x)) return op.mul(x, scaleMask(f, x, p, false, 1 / (1 - p)));
  const u = randomUniformLike(f.random(), x, x.dtype === 'float64' ? 'float64' : 'float32');
  const keep = op.cast(op.greaterOrEqual(u, op.scalarLike(u, p)), x.dtype);
  return op.mul(x, op.stopGradient(op.mul(keep, op.scalarLike(x, 1 / (1 - p)))));
}

/**
 * dropout(relu(x)) with the ReLU folded into the mask: keep = [x > 0 and kept]·1/(1−p), y = x·keep
 * and dx = dy·keep.
 */
export function reluDropout(f: Forward, x: Value, p: number): Value {
  if (!f.train || p <= 0 || !f.random || !isStatic(x)) return dropout(f, op.relu(x), p);
  return maskedRelu(f, x, p, 1 / (1 - p));
}

/**
 * reluDropout's output times (1−p), and the 1/(1−p) left to apply, for a consumer that scales its
 * input for free (a Linear's Gemm, by its alpha): one full-size pass fewer. `scale` is 1 where nothing
 * is dropped.
 */
export function reluDropoutUnscaled(f: Forward, x: Value, p: number): { y: Value; scale: number } {
  if (!f.train || p <= 0 || !f.random || !isStatic(x)) return { y: reluDropout(f, x, p), scale: 1 };
  return { y: maskedRelu(f, x, p, 1), scale: 1 / (1 - p) };
}

/** y = x·keep with keep = [x > 0 and kept]·scale, and dx = dy·keep. */
function maskedRelu(f: Forward, x: Value, p: number, scale: number): Value {
  const [y] = f.b.customGrad(
    f.b.qualified('relu_dropout'),
    [x],
    () => {
      const keep = scaleMask(f, x, p, true, scale);
      return [op.mul(x, keep), keep];
    },
    ([dy]) => {
      const keep = y!.producer!.region!.outputs[1]!;
      return [op.mul(dy!, keep)];
    },
  );
  return y!;
}
