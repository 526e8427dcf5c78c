// Gradient of Reshape: reshape back.
import type { GradRule } from '../grad.ts';
import { shapeOf } from './util.ts';

export const Reshape: GradRule = {
  opType: 'Reshape',
  vjp: ({ b, I, GO }) => [b.op('Reshape', [GO(0)!, shapeOf(I(0))], {}, { shape: I(0).shape }), null],
};
