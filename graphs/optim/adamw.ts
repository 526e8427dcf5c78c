// AdamW with PyTorch's exact update (decoupled decay, bias correction), optional global-norm
// clipping; `lr` and `step` are graph inputs so schedules live in TypeScript.

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

/** Names of a parameter's moment buffers (inputs; their updates are outputs named `<name>.next`). */
export const momentNames = (param: string) => ({
  m: `optim.${param}.exp_avg`,
  v: `optim.${param}.exp_avg_sq`,
});

/**
 * One AdamW update of every parameter. `lr` is a float64 scalar, `step` the int64 1-based number
 * of this update. Returns the updated parameters and moments by name, and the gradient norm.
 */
export function adamw(
  params: Trainable[],
  lr: Value,
  step: Value,
  c: AdamWConfig,
): { updates: Map<string, Value>; gradNorm: Value | null } {
  const b = lr.builder;
  const f64 = (x: number) => b.scalar('float64', x);
  const f32 = (x: number) => b.scalar('float32', x);
  const updates = new Map<string, Value>();
  return b.nodeScope('adamw', () => {
    const t = op.cast(step, 'float64');
    const bc1 = op.sub(f64(1), op.pow(f64(c.beta1), t));
    const bc2 = op.sub(f64(1), op.pow(f64(c.beta2), t));
    const stepSize = op.cast(op.div(lr, bc1), 'float32');
    const bc2Sqrt = op.cast(op.sqrt(bc2), 'float32');
    const decayFactor = op.cast(op.sub(f64(1), op.mul(lr, f64(c.weightDecay))), 'float32');

    let gradNorm: Value | null = null;
    let clipCoef: Value | null = null;
    if (c.clipNorm !== null) {
      gradNorm = op.sqrt(op.sum(params.map((p) => op.reduce('ReduceSumSquare', p.grad, undefined, false))));
      clipCoef = op.min(op.div(f32(c.clipNorm), op.add(gradNorm, f32(1e-6))), f32(1));
    }
    for (const p of params) {
      b.nodeScope(p.spec.name, () => {
        const names = momentNames(p.spec.name);
        const m = b.input(names.m, 'float32', p.spec.shape);
        const v = b.input(names.v, 'float32', p.spec.shape);
        const g = clipCoef ? op.mul(p.grad, clipCoef) : p.grad;
        const decays = c.weightDecay > 0 && (c.decay === 'all' || p.spec.isMatrix);
        const decayed = decays ? op.mul(p.value, decayFactor) : p.value;
        const m1 = op.add(op.mul(m, f32(c.beta1)), op.mul(g, f32(1 - c.beta1)));
        const v1 = op.add(op.mul(v, f32(c.beta2)), op.mul(op.mul(g, g), f32(1 - c.beta2)));
        const denom = op.add(op.div(op.sqrt(v1), bc2Sqrt), f32(c.eps));
        const next = op.sub(decayed, op.mul(op.div(m1, denom), stepSize));
        updates.set(p.spec.name, next);
        updates.set(names.m, m1);
        updates.set(names.v, v1);
      });
    }
    return { updates, gradNorm };
  });
}
