// Gradient of ReduceSum: the incoming gradient broadcast back over the reduced axes.
import { constInts } from '../../onnx/opdefs.ts';
import type { GradRule } from '../grad.ts';
import { expandTo, keepDims } from './util.ts';

export const ReduceSum: GradRule = {
  opType: 'ReduceSum',
  vjp: ({ I, GO, attr, node }) => {
    const axes = node.inputs[1] ? constInts(node.inputs[1]) : null;
    return [expandTo(keepDims(GO(0)!, I(0), axes, attr('keepdims', 1) === 1), I(0)), null];
  },
};
