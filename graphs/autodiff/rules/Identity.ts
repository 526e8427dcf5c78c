// Gradient of Identity.
import type { GradRule } from '../grad.ts';

export const Identity: GradRule = { opType: 'Identity', vjp: ({ GO }) => [GO(0)] };
