// Gradient of Expand: sum over the broadcast axes.
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Expand: GradRule = { opType: 'Expand', vjp: ({ I, GO }) => [unbroadcast(GO(0)!, I(0)), null] };
