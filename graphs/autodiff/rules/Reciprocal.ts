// Gradient of Reciprocal, from its output: −g·y².
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Reciprocal: GradRule = {
  opType: 'Reciprocal',
  vjp: ({ O, GO }) => [op.neg(op.mul(GO(0)!, op.mul(O(0), O(0))))],
};
