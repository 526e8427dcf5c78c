// Gradient of MatMul (rank ≥ 2, batch dims broadcast): dA = G·Bᵀ, dB = Aᵀ·G.
import type { Value } from '../../onnx/builder.ts';
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

function swapLast(x: Value): Value {
  const r = x.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return op.transpose(x, perm);
}

export const MatMul: GradRule = {
  opType: 'MatMul',
  vjp: ({ I, GO, needs, node }) => {
    const [a, b, g] = [I(0), I(1), GO(0)!];
    if (a.rank < 2 || b.rank < 2)
      throw new Error(`grad: MatMul node ${node.name} has a 1-D input; reshape it to 2-D`);
    if (a.rank === 2 && b.rank === 2) {
      return [
        needs(0) ? op.gemm(g, b, null, { transB: 1 }) : null,
        needs(1) ? op.gemm(a, g, null, { transA: 1 }) : null,
      ];
    }
    return [
      needs(0) ? unbroadcast(op.matMul(g, swapLast(b)), a) : null,
      needs(1) ? unbroadcast(op.matMul(swapLast(a), g), b) : null,
    ];
  },
};
