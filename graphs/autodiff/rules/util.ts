// Helpers shared by gradient rules: shapes as values, broadcasting a reduced gradient back.
import type { Value } from '../../onnx/builder.ts';
import * as op from '../../onnx/ops.ts';

/** `x`'s shape as an int64 tensor: a constant when static, a Shape node otherwise. */
export function shapeOf(x: Value): Value {
  if (x.shape?.every((d) => typeof d === 'number')) return x.builder.ints(x.shape as number[]);
  return op.shape(x);
}

/** Expands `g` (already of a shape broadcastable to `x`) to `x`'s shape. */
export function expandTo(g: Value, x: Value): Value {
  return g.builder.op('Expand', [g, shapeOf(x)], {}, { shape: x.shape });
}

/** Restores the axes a keepdims=0 reduction removed, so `g` broadcasts against the input again. */
export function keepDims(g: Value, x: Value, axes: number[] | null, keepdims: boolean): Value {
  if (keepdims) return g;
  const rank = x.rank;
  const all = axes === null || axes.length === 0 ? Array.from({ length: rank }, (_, i) => i) : axes;
  return op.unsqueeze(
    g,
    all.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b),
  );
}

/** Number of elements of `big` per element of `small`, as a scalar of `big`'s dtype. */
export function ratioOfSizes(big: Value, small: Value): Value {
  const b = big.builder;
  const known = (v: Value) => v.shape?.every((d) => typeof d === 'number');
  if (known(big) && known(small)) {
    const n = (v: Value) => (v.shape as number[]).reduce((p, d) => p * d, 1);
    return b.scalar(big.dtype, n(big) / n(small));
  }
  return op.div(op.cast(b.op('Size', [big]), big.dtype), op.cast(b.op('Size', [small]), big.dtype));
}
