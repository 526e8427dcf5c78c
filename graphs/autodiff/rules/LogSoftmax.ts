// Gradient of LogSoftmax, from its output: g − exp(y)·Σ g.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const LogSoftmax: GradRule = {
  opType: 'LogSoftmax',
  vjp: ({ O, GO, attr }) => {
    const [y, g] = [O(0), GO(0)!];
    return [op.sub(g, op.mul(op.exp(y), op.reduceSum(g, [attr('axis', -1)], true)))];
  },
};
