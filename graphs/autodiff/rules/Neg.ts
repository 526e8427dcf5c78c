// Gradient of Neg.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Neg: GradRule = { opType: 'Neg', vjp: ({ GO }) => [op.neg(GO(0)!)] };
