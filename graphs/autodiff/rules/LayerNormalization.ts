// Gradient of LayerNormalization over the trailing axes, from its saved mean and inverse std:
// x̂ = (x − μ)·s,  dx = s·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·γ;  dγ = Σ g·x̂;  dβ = Σ g.
import type { Value } from '../../onnx/builder.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const LayerNormalization: GradRule = {
  opType: 'LayerNormalization',
  vjp: ({ node, I, O, GO, needs, attr }) => {
    const [x, scale] = [I(0), I(1)];
    const g = GO(0)!;
    const rank = x.rank;
    const axis = (attr('axis', -1) + rank) % rank;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    let mean: Value;
    let inv: Value;
    if (node.outputs.length === 3 && O(1).dtype === x.dtype) {
      [mean, inv] = [O(1), O(2)];
    } else {
      mean = op.reduceMean(x, axes, true);
      const c = op.sub(x, mean);
      const eps = op.scalarLike(x, attr('epsilon', 1e-5));
      inv = op.reciprocal(op.sqrt(op.add(op.reduceMean(op.mul(c, c), axes, true), eps)));
    }
    const xhat = op.mul(op.sub(x, mean), inv);
    const gh = op.mul(g, scale);
    const dx = needs(0)
      ? op.mul(
          inv,
          op.sub(
            op.sub(gh, op.reduceMean(gh, axes, true)),
            op.mul(xhat, op.reduceMean(op.mul(gh, xhat), axes, true)),
          ),
        )
      : null;
    const dscale = needs(1) ? unbroadcast(op.mul(g, xhat), scale) : null;
    const bias = node.inputs[2];
    const dbias = bias && needs(2) ? unbroadcast(g, bias) : null;
    return [dx, dscale, dbias];
  },
};
