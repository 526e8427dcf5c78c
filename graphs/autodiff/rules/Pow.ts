// Gradient of Pow with an exponent that needs no gradient: g·p·x^(p−1).
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Pow: GradRule = {
  opType: 'Pow',
  vjp: ({ I, GO, needs, node }) => {
    if (needs(1))
      throw new Error(
        `grad: Pow node ${node.name} has an exponent that needs a gradient; only constant exponents are supported`,
      );
    const [x, p] = [I(0), op.cast(I(1), I(0).dtype)];
    const dx = op.mul(op.mul(GO(0)!, p), op.pow(x, op.sub(p, op.scalarLike(x, 1))));
    return [unbroadcast(dx, x), null];
  },
};
