// Gradient of Mul.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Mul: GradRule = {
  opType: 'Mul',
  vjp: ({ I, GO, needs }) => [
    needs(0) ? unbroadcast(op.mul(GO(0)!, I(1)), I(0)) : null,
    needs(1) ? unbroadcast(op.mul(GO(0)!, I(0)), I(1)) : null,
  ],
};
