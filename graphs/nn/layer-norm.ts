// LayerNorm over the last axis (ONNX LayerNormalization, which saves mean and inverse std for the backward).
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import type { Forward } from './params.ts';

export const LN_EPS = 1e-5;

/** LayerNorm(features) under scope `name`, parameters `name.weight` and `name.bias`. */
export function layerNorm(f: Forward, name: string, x: Value, features: number): Value {
  return f.b.scope(name, () => {
    const w = f.params.get('weight', [features], { kind: 'const', value: 1 });
    const bias = f.params.get('bias', [features], { kind: 'const', value: 0 });
    return op.layerNormalization(x, w, bias, { axis: -1, epsilon: LN_EPS }).y;
  });
}
