// Gradient of Transpose: transpose by the inverse permutation.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Transpose: GradRule = {
  opType: 'Transpose',
  vjp: ({ I, GO, attr }) => {
    const rank = I(0).rank;
    const perm = attr<number[]>(
      'perm',
      Array.from({ length: rank }, (_, i) => rank - 1 - i),
    );
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [op.transpose(GO(0)!, inverse)];
  },
};
