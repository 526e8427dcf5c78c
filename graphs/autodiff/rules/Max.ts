// Gradient of elementwise Max: g goes to the larger input (to the first on ties).
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Max: GradRule = {
  opType: 'Max',
  vjp: ({ I, GO, needs }) => {
    const [a, c, g] = [I(0), I(1), GO(0)!];
    const first = op.greaterOrEqual(a, c);
    const zero = op.scalarLike(g, 0);
    return [
      needs(0) ? unbroadcast(op.where(first, g, zero), a) : null,
      needs(1) ? unbroadcast(op.where(first, zero, g), c) : null,
    ];
  },
};
