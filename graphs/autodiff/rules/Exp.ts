// Gradient of Exp, from its output: g·y.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Exp: GradRule = { opType: 'Exp', vjp: ({ O, GO }) => [op.mul(GO(0)!, O(0))] };
