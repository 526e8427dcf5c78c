// Gradient of Cast between float types: cast back. Casts from integers carry no gradient.
import { isFloat } from '../../onnx/dtype.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';

export const Cast: GradRule = {
  opType: 'Cast',
  vjp: ({ I, GO }) => [isFloat(I(0).dtype) ? op.cast(GO(0)!, I(0).dtype) : null],
};
