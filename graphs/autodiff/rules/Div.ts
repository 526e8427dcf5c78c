// Gradient of Div: d(a/b) = da/b − (a/b)·db/b.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Div: GradRule = {
  opType: 'Div',
  vjp: ({ I, O, GO, needs }) => {
    const gOverB = op.div(GO(0)!, I(1));
    return [
      needs(0) ? unbroadcast(gOverB, I(0)) : null,
      needs(1) ? unbroadcast(op.neg(op.mul(gOverB, O(0))), I(1)) : null,
    ];
  },
};
