// Gradient of Gemm: Y = α·A'·B' + β·C, where A' and B' are optionally transposed.
import * as op from '../../onnx/ops.ts';
import type { GradRule } from '../grad.ts';
import { unbroadcast } from '../grad.ts';

export const Gemm: GradRule = {
  opType: 'Gemm',
  vjp: ({ I, GO, needs, attr, node }) => {
    const [a, b, g] = [I(0), I(1), GO(0)!];
    const alpha = attr('alpha', 1);
    const beta = attr('beta', 1);
    const tA = attr('transA', 0);
    const tB = attr('transB', 0);
    let da = null;
    let db = null;
    if (needs(0)) {
      da = tA
        ? op.gemm(b, g, null, { alpha, transA: tB ? 1 : 0, transB: 1 })
        : op.gemm(g, b, null, { alpha, transB: tB ? 0 : 1 });
    }
    if (needs(1)) {
      db = tB
        ? op.gemm(g, a, null, { alpha, transA: 1, transB: tA ? 1 : 0 })
        : op.gemm(a, g, null, { alpha, transA: tA ? 0 : 1 });
    }
    const c = node.inputs[2] ?? null;
    const dc = c && needs(2) ? unbroadcast(beta === 1 ? g : op.mul(g, op.scalarLike(g, beta)), c) : null;
    return [da, db, dc];
  },
};
