// Gradient of Sqrt, from its output: g / (2y).
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Sqrt: GradRule = {
  opType: 'Sqrt',
  vjp: ({ O, GO }) => [op.div(op.mul(GO(0)!, op.scalarLike(O(0), 0.5)), O(0))],
};
