// Gradient of Log: g/x.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Log: GradRule = { opType: 'Log', vjp: ({ I, GO }) => [op.div(GO(0)!, I(0))] };
