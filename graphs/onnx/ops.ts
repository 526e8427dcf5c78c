// Typed helpers for the ONNX ops we emit: one function per op, attribute types spelled out.
import type { OpOptions, Value } from './builder.ts';
import { type DType, onnxCode } from './dtype.ts';

const u = (opType: string) => (x: Value, o?: OpOptions) => x.builder.op(opType, [x], {}, o);
const bin = (opType: string) => (a: Value, b: Value, o?: OpOptions) => a.builder.op(opType, [a, b], {}, o);

export const identity = u('Identity');
export const neg = u('Neg');
export const relu = u('Relu');
export const exp = u('Exp');
export const log = u('Log');
export const sqrt = u('Sqrt');
export const reciprocal = u('Reciprocal');
export const abs = u('Abs');
export const sigmoid = u('Sigmoid');
export const tanh = u('Tanh');
export const floor = u('Floor');
export const sin = u('Sin');
export const cos = u('Cos');
export const not = u('Not');
export const isNan = u('IsNaN');

export const add = bin('Add');
export const sub = bin('Sub');
export const mul = bin('Mul');
export const div = bin('Div');
export const pow = bin('Pow');
export const max = bin('Max');
export const min = bin('Min');
export const matMul = bin('MatMul');
export const equal = bin('Equal');
export const less = bin('Less');
export const greater = bin('Greater');
export const greaterOrEqual = bin('GreaterOrEqual');
export const and = bin('And');
export const or = bin('Or');
export const bitwiseXor = bin('BitwiseXor');
export const bitwiseAnd = bin('BitwiseAnd');
export const bitwiseOr = bin('BitwiseOr');

/** Shift `x` by `bits` (same dtype, unsigned); direction 'LEFT' or 'RIGHT'. */
export function bitShift(x: Value, bits: Value, direction: 'LEFT' | 'RIGHT'): Value {
  return x.builder.op('BitShift', [x, bits], { direction });
}

/**
 * Sum of any number of tensors with broadcasting, as a chain of Adds: onnxruntime-web's WebGPU
 * provider has no Sum kernel, and would run a Sum on the CPU.
 */
export function sum(xs: Value[]): Value {
  return xs.slice(1).reduce((acc, x) => add(acc, x), xs[0]!);
}

/**
 * max(x, floor) for a `floor` that gets no gradient, as Where(x < floor, floor, x): the same values
 * and gradient as Max (ties go to x), in ops the WebGPU provider has (it has no Max kernel).
 */
export function atLeast(x: Value, floor: Value): Value {
  return where(less(x, floor), floor, x);
}

export function where(cond: Value, x: Value, y: Value): Value {
  return x.builder.op('Where', [cond, x, y]);
}

export function cast(x: Value, to: DType): Value {
  if (x.dtype === to) return x;
  return x.builder.op('Cast', [x], { to: onnxCode(to) });
}

export function gemm(
  a: Value,
  b: Value,
  c: Value | null,
  attrs: { alpha?: number; beta?: number; transA?: 0 | 1; transB?: 0 | 1 } = {},
): Value {
  return a.builder.op('Gemm', [a, b, c], attrs);
}

type ReduceOp =
  | 'ReduceSum'
  | 'ReduceMean'
  | 'ReduceMax'
  | 'ReduceMin'
  | 'ReduceLogSumExp'
  | 'ReduceSumSquare'
  | 'ReduceProd'
  | 'ReduceL2';

/** A reduction over `axes` (all axes when omitted). */
export function reduce(opType: ReduceOp, x: Value, axes?: number[], keepdims = true): Value {
  const b = x.builder;
  return b.op(opType, [x, axes ? b.ints(axes) : null], { keepdims: keepdims ? 1 : 0 });
}
export const reduceSum = (x: Value, axes?: number[], keepdims = true) =>
  reduce('ReduceSum', x, axes, keepdims);
export const reduceMean = (x: Value, axes?: number[], keepdims = true) =>
  reduce('ReduceMean', x, axes, keepdims);
export const reduceMax = (x: Value, axes?: number[], keepdims = true) =>
  reduce('ReduceMax', x, axes, keepdims);

export function softmax(x: Value, axis = -1): Value {
  return x.builder.op('Softmax', [x], { axis });
}
/**
 * log(softmax(x)) along `axis`, as x − m − log Σ exp(x − m) with m the (gradient-free) maximum: the
 * WebGPU provider has no LogSoftmax kernel, and would run it on the CPU.
 */
export function logSoftmax(x: Value, axis = -1): Value {
  const b = x.builder;
  const peak = b.op('ReduceMax', [x, b.ints([axis])], { keepdims: 1 }, { noGrad: true });
  const shifted = sub(x, peak);
  return sub(shifted, log(reduceSum(exp(shifted), [axis], true)));
}

export function gather(data: Value, indices: Value, axis = 0): Value {
  return data.builder.op('Gather', [data, indices], { axis });
}
export function gatherElements(data: Value, indices: Value, axis = 0): Value {
  return data.builder.op('GatherElements', [data, indices], { axis });
}

export function concat(xs: Value[], axis: number): Value {
  if (xs.length === 1) return xs[0]!;
  return xs[0]!.builder.op('Concat', xs, { axis });
}

/** Splits `x` along `axis` into pieces of the given sizes. */
export function split(x: Value, sizes: number[], axis = 0): Value[] {
  const b = x.builder;
  return b.opMulti('Split', [x, b.ints(sizes)], { axis }, { outputs: sizes.length });
}

export function slice(x: Value, starts: number[], ends: number[], axes?: number[], steps?: number[]): Value {
  const b = x.builder;
  return b.op('Slice', [
    x,
    b.ints(starts),
    b.ints(ends),
    axes ? b.ints(axes) : null,
    steps ? b.ints(steps) : null,
  ]);
}

export function reshape(x: Value, shape: number[] | Value): Value {
  const b = x.builder;
  return b.op('Reshape', [x, Array.isArray(shape) ? b.ints(shape) : shape]);
}
export function transpose(x: Value, perm?: number[]): Value {
  return x.builder.op('Transpose', [x], { perm });
}
export function unsqueeze(x: Value, axes: number[]): Value {
  return x.builder.op('Unsqueeze', [x, x.builder.ints(axes)]);
}
export function squeeze(x: Value, axes: number[]): Value {
  return x.builder.op('Squeeze', [x, x.builder.ints(axes)]);
}
export function expand(x: Value, shape: number[] | Value): Value {
  const b = x.builder;
  return b.op('Expand', [x, Array.isArray(shape) ? b.ints(shape) : shape]);
}
export function shape(x: Value, start?: number, end?: number): Value {
  return x.builder.op('Shape', [x], { start, end });
}

/** 0, 1, …, n-1 as a 1-D tensor of `dtype`; `n` is a scalar value or a number. */
export function range(b: Value['builder'], n: Value | number, dtype: DType = 'int64'): Value {
  const limit = typeof n === 'number' ? b.scalar(dtype, n) : cast(n, dtype);
  return b.op('Range', [b.scalar(dtype, 0), limit, b.scalar(dtype, 1)]);
}

export function layerNormalization(
  x: Value,
  scale: Value,
  bias: Value | null,
  attrs: { axis?: number; epsilon?: number } = {},
): { y: Value; mean: Value; invStdDev: Value } {
  const [y, mean, invStdDev] = x.builder.opMulti('LayerNormalization', [x, scale, bias], attrs, {
    outputs: 3,
  });
  return { y: y!, mean: mean!, invStdDev: invStdDev! };
}

/** A scalar of `x`'s dtype. */
export function scalarLike(x: Value, value: number): Value {
  return x.builder.scalar(x.dtype, value);
}

/** Marks `x` as constant for autodiff: gradients stop here. */
export function stopGradient(x: Value): Value {
  return x.builder.op('Identity', [x], {}, { noGrad: true });
}

/** Integer remainder (sign of the divisor), or fmod for floats. */
export function mod(a: Value, b: Value): Value {
  return a.builder.op('Mod', [a, b], { fmod: a.dtype === 'float32' || a.dtype === 'float64' ? 1 : 0 });
}
