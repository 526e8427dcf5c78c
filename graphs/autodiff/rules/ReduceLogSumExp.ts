// Gradient of ReduceLogSumExp: g·exp(x − y), the softmax over the reduced axes.
import { constInts } from '../../onnx/opdefs.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { keepDims } from './util.ts';

export const ReduceLogSumExp: GradRule = {
  opType: 'ReduceLogSumExp',
  vjp: ({ I, O, GO, attr, node }) => {
    const x = I(0);
    const axes = node.inputs[1] ? constInts(node.inputs[1]) : null;
    const keep = attr('keepdims', 1) === 1;
    const p = op.exp(op.sub(x, keepDims(O(0), x, axes, keep)));
    return [op.mul(p, keepDims(GO(0)!, x, axes, keep)), null];
  },
};
