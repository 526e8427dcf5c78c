// Gradient of Softmax, from its output: y·(g − Σ g·y).
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Softmax: GradRule = {
  opType: 'Softmax',
  vjp: ({ O, GO, attr }) => {
    const [y, g] = [O(0), GO(0)!];
    const axis = attr('axis', -1);
    return [op.mul(y, op.sub(g, op.reduceSum(op.mul(g, y), [axis], true)))];
  },
};
