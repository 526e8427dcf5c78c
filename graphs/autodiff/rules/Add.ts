// Gradient of Add.
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Add: GradRule = {
  opType: 'Add',
  vjp: ({ I, GO, needs }) => [
    needs(0) ? unbroadcast(GO(0)!, I(0)) : null,
    needs(1) ? unbroadcast(GO(0)!, I(1)) : null,
  ],
};
