// Gradient of ReduceMax: shared equally among the elements equal to the maximum.
import { constInts } from '../../onnx/opdefs.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { keepDims } from './util.ts';

export const ReduceMax: GradRule = {
  opType: 'ReduceMax',
  vjp: ({ I, O, GO, attr, node }) => {
    const x = I(0);
    const axes = node.inputs[1] ? constInts(node.inputs[1]) : null;
    const keep = attr('keepdims', 1) === 1;
    const isMax = op.cast(op.equal(x, keepDims(O(0), x, axes, keep)), x.dtype);
    const ties = op.reduceSum(isMax, axes ?? undefined, true);
    return [op.mul(isMax, op.div(keepDims(GO(0)!, x, axes, keep), ties)), null];
  },
};
