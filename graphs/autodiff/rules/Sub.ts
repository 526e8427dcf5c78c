// Gradient of Sub.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Sub: GradRule = {
  opType: 'Sub',
  vjp: ({ I, GO, needs }) => [
    needs(0) ? unbroadcast(GO(0)!, I(0)) : null,
    needs(1) ? unbroadcast(op.neg(GO(0)!), I(1)) : null,
  ],
};
