// Gradient of Unsqueeze: squeeze the same axes.
import { constInts } from '../../onnx/opdefs.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Unsqueeze: GradRule = {
  opType: 'Unsqueeze',
  vjp: ({ node, GO }) => [op.squeeze(GO(0)!, constInts(node.inputs[1])!), null],
};
