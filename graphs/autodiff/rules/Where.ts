// Gradient of Where: g routed to the branch each element came from.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Where: GradRule = {
  opType: 'Where',
  vjp: ({ I, GO, needs }) => {
    const [c, g] = [I(0), GO(0)!];
    const zero = op.scalarLike(g, 0);
    return [
      null,
      needs(1) ? unbroadcast(op.where(c, g, zero), I(1)) : null,
      needs(2) ? unbroadcast(op.where(c, zero, g), I(2)) : null,
    ];
  },
};
