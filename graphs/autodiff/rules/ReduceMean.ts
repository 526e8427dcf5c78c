// Gradient of ReduceMean: the incoming gradient broadcast back, divided by the count.
import { constInts } from '../../onnx/opdefs.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { expandTo, keepDims, ratioOfSizes } from './util.ts';

export const ReduceMean: GradRule = {
  opType: 'ReduceMean',
  vjp: ({ I, O, GO, attr, node }) => {
    const axes = node.inputs[1] ? constInts(node.inputs[1]) : null;
    const g = op.div(GO(0)!, ratioOfSizes(I(0), O(0)));
    return [expandTo(keepDims(g, I(0), axes, attr('keepdims', 1) === 1), I(0)), null];
  },
};
