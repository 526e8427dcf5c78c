// Linear layer with PyTorch's layout (weight [out, in]) and initialisation.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import { linearInit } from './init.ts';
import type { Forward } from './params.ts';

/**
 * y = (inputScale·x)·Wᵀ + b under scope `name`, parameters `name.weight` [out, in] and `name.bias`
 * [out]; `inputScale` (default 1) is the Gemm's alpha, applied at no cost.
 */
export function linear(
  f: Forward,
  name: string,
  x: Value,
  inFeatures: number,
  outFeatures: number,
  inputScale = 1,
): Value {
  return f.b.scope(name, () => {
    const init = linearInit(inFeatures);
    const w = f.params.get('weight', [outFeatures, inFeatures], init);
    const bias = f.params.get('bias', [outFeatures], init);
    return op.gemm(x, w, bias, inputScale === 1 ? { transB: 1 } : { alpha: inputScale, transB: 1 });
  });
}
