// Gradient of Relu, from its output: g·[y > 0].
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Relu: GradRule = {
  opType: 'Relu',
  vjp: ({ O, GO }) => {
    const y = O(0);
    return [op.where(op.greater(y, op.scalarLike(y, 0)), GO(0)!, op.scalarLike(y, 0))];
  },
};
