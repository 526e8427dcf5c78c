// Gradient of Squeeze: reshape back to the input's shape.
import type { GradRule } from '../grad.ts';
import { shapeOf } from './util.ts';

export const Squeeze: GradRule = {
  opType: 'Squeeze',
  vjp: ({ b, I, GO }) => [b.op('Reshape', [GO(0)!, shapeOf(I(0))], {}, { shape: I(0).shape }), null],
};
