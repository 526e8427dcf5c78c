// Gradient of Split: the outputs' gradients concatenated (zeros where none arrives).
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { zerosLike } from '../grad.ts';

export const Split: GradRule = {
  opType: 'Split',
  vjp: ({ node, O, GO, attr }) => {
    const parts = node.outputs.map((_, i) => GO(i) ?? zerosLike(O(i)));
    return [op.concat(parts, attr('axis', 0)), null];
  },
};
