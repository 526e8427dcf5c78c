// AdamW with PyTorch's exact update (decoupled decay, bias correction), optional global-norm
// clipping, over all parameters at once: gradients and parameters are flattened into one
// vector and the moments live as two flat vectors, so the update is a dozen ops, not hundreds.
// `lr` and `step` are graph inputs so schedules live in TypeScript.

import type { ParamSpec } from '../nn/params.ts';
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';

export interface AdamWConfig {
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 'all' decays every parameter (PyTorch's default); 'matrices' skips biases and norm weights. */
  decay: 'all' | 'matrices';
  /** Clip the global gradient norm to this value; null for no clipping. */
  clipNorm: number | null;
}

export const ADAMW_DEFAULTS: AdamWConfig = {
  weightDecay: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  decay: 'all',
  clipNorm: null,
};

export interface Trainable {
  spec: ParamSpec;
  value: Value;
  grad: Value;
}

/** Names of the flat moment vectors (inputs; their updates are outputs `<name>.next`). */
export const MOMENTS = { m: 'optim.exp_avg', v: 'optim.exp_avg_sq' } as const;

/** Suffix of a graph output that carries the next value of the input of the same name. */
export const NEXT = '.next';

/** Where each parameter lives in the flat vectors. */
export interface FlatSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** The flat layout of `specs`' parameters, in order. */
export function flatLayout(specs: ParamSpec[]): FlatSlot[] {
  let offset = 0;
  return specs
    .filter((s) => s.role === 'param')
    .map((s) => {
      const size = s.shape.reduce((a, d) => a * d, 1);
      const slot = { name: s.name, shape: s.shape, offset, size };
      offset += size;
      return slot;
    });
}

/**
 * One AdamW update of every parameter. `lr` is a float64 scalar, `step` the int64 1-based number
 * of this update. Returns the updated parameters by name, the updated flat moments, and the
 * gradient norm when clipping.
 */
export function adamw(
  params: Trainable[],
  lr: Value,
  step: Value,
  c: AdamWConfig,
): { updates: Map<string, Value>; moments: { m: Value; v: Value }; gradNorm: Value | null } {
  const b = lr.builder;
  const f64 = (x: number) => b.scalar('float64', x);
  const f32 = (x: number) => b.scalar('float32', x);
  const layout = flatLayout(params.map((p) => p.spec));
  const total = layout.reduce((a, s) => a + s.size, 0);
  return b.nodeScope('adamw', () => {
    const t = op.cast(step, 'float64');
    const bc1 = op.sub(f64(1), op.pow(f64(c.beta1), t));
    const bc2 = op.sub(f64(1), op.pow(f64(c.beta2), t));
    // PyTorch's p −= (lr/bc1)·m / (√v/√bc2 + ε), with √bc2 moved into the scalars:
    // p −= (lr·√bc2/bc1)·m / (√v + ε·√bc2), one pass fewer; both stay finite when lr = 0.
    const bc2Sqrt = op.sqrt(bc2);
    const stepSize = op.cast(op.div(op.mul(lr, bc2Sqrt), bc1), 'float32');
    const epsScaled = op.cast(op.mul(bc2Sqrt, f64(c.eps)), 'float32');

    // 1-D parameters join the flat vectors as they are; a Reshape that keeps the shape is a node for nothing.
    const flatPart = (v: Value, size: number) =>
      v.shape?.length === 1 && v.shape[0] === size ? v : op.reshape(v, [size]);
    const flat = (vs: Value[]) =>
      op.concat(
        vs.map((v, i) => flatPart(v, layout[i]!.size)),
        0,
      );
    let g = flat(params.map((p) => p.grad));
    const p0 = flat(params.map((p) => p.value));
    const m = b.input(MOMENTS.m, 'float32', [total]);
    const v = b.input(MOMENTS.v, 'float32', [total]);

    let gradNorm: Value | null = null;
    if (c.clipNorm !== null) {
      gradNorm = op.sqrt(op.reduce('ReduceSumSquare', g, undefined, false));
      g = op.mul(g, op.min(op.div(f32(c.clipNorm), op.add(gradNorm, f32(1e-6))), f32(1)));
    }
    let decayed = p0;
    if (c.weightDecay > 0) {
      const lrWd = op.cast(op.mul(lr, f64(c.weightDecay)), 'float32');
      if (c.decay === 'all') decayed = op.mul(p0, op.sub(f32(1), lrWd));
      else {
        const mask = new Float32Array(total);
        params.forEach((p, i) => {
          if (p.spec.isMatrix) mask.fill(1, layout[i]!.offset, layout[i]!.offset + layout[i]!.size);
        });
        const maskValue = b.constant('float32', [total], mask);
        decayed = op.sub(p0, op.mul(p0, op.mul(maskValue, lrWd)));
      }
    }
    // The new moments are named as the graph outputs they become, so no copy renames them.
    const m1 = b.op('Add', [op.mul(m, f32(c.beta1)), op.mul(g, f32(1 - c.beta1))], {}, {}, MOMENTS.m + NEXT);
    const v1 = b.op(
      'Add',
      [op.mul(v, f32(c.beta2)), op.mul(op.mul(g, g), f32(1 - c.beta2))],
      {},
      {},
      MOMENTS.v + NEXT,
    );
    const denom = op.add(op.sqrt(v1), epsScaled);
    const p1 = op.sub(decayed, op.mul(op.div(m1, denom), stepSize));
    // Pieces of 1-D parameters are named as their graph outputs; the others are reshaped into them.
    const oneD = (s: FlatSlot) => s.shape.length === 1;
    const pieces = b.opMulti(
      'Split',
      [p1, b.ints(layout.map((s) => s.size))],
      { axis: 0 },
      { outputs: layout.length },
      layout.map((s) => (oneD(s) ? s.name + NEXT : undefined)) as string[],
    );
    const updates = new Map<string, Value>();
    layout.forEach((s, i) => {
      const piece = pieces[i]!;
      updates.set(s.name, oneD(s) ? piece : b.op('Reshape', [piece, b.ints(s.shape)], {}, {}, s.name + NEXT));
    });
    return { updates, moments: { m: m1, v: v1 }, gradNorm };
  });
}
