// Gradient of Sum (variadic add).
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Sum: GradRule = {
  opType: 'Sum',
  vjp: ({ node, I, GO, needs }) => node.inputs.map((_, i) => (needs(i) ? unbroadcast(GO(0)!, I(i)) : null)),
};
