// NT-Xent (SimCLR) loss over two views' embeddings.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';

/** F.normalize's floor on the norm. */
const NORM_EPS = 1e-12;

/** Rows scaled to unit L2 norm (norms below 1e-12 are floored, as F.normalize). */
export function l2Normalize(z: Value): Value {
  const norm = op.sqrt(op.reduceSum(op.mul(z, z), [1], true));
  return op.div(z, op.atLeast(norm, op.scalarLike(z, NORM_EPS)));
}

/**
 * α·z·zᵀ with its gradient α·(G + Gᵀ)·z in one GEMM: autodiff through the Gemm would run two
 * (G·z and Gᵀ·z, each as costly as the forward) and add them.
 */
function scaledGram(z: Value, alpha: number): Value {
  const [gram] = z.builder.customGrad(
    z.builder.qualified('gram'),
    [z],
    () => [op.gemm(z, z, null, { alpha, transB: 1 })],
    ([g]) => [op.gemm(op.add(g!, op.transpose(g!, [1, 0])), z, null, { alpha })],
  );
  return gram!;
}

/**
 * log Σ exp(x) along axis 1 of [rows, n], keepdims: m + log Σ exp(x − m) with m the (gradient-free) row
 * maximum, and the gradient softmax(x)·g from the kept exponentials in one full-size pass (autodiff
 * would expand g to [rows, n] first).
 */
function rowLogSumExp(x: Value): Value {
  const b = x.builder;
  const [lse] = b.customGrad(
    b.qualified('logsumexp'),
    [x],
    () => {
      const peak = b.op('ReduceMax', [x, b.ints([1])], { keepdims: 1 }, { noGrad: true });
      const e = op.exp(op.sub(x, peak));
      const sum = op.reduceSum(e, [1], true);
      return [op.add(op.log(sum), peak), e, sum];
    },
    ([g]) => {
      const [, e, sum] = lse!.producer!.region!.outputs as [Value, Value, Value];
      return [op.mul(e, op.div(g!, sum))];
    },
  );
  return lse!;
}

/**
 * NT-Xent over the stacked views z = [view 1; view 2] (2B × d): L2-normalise, similarities / τ
 * with the diagonal at −∞, cross-entropy where row i's target is its other view, mean over 2B rows.
 * Row i's term is −(s_i,t(i) − log Σ_j exp s_ij): the positive similarities come straight from the
 * pairs' dot products (each pair counts twice), not picked out of the [2B, 2B] log-probabilities.
 * Returns the loss and the mean cosine similarity of positive pairs (a cheap health metric).
 */
export function ntXent(z: Value, temperature: number): { loss: Value; positiveSimilarity: Value } {
  const b = z.builder;
  const zn = l2Normalize(z);
  const sim = scaledGram(zn, 1 / temperature);
  const n2 = op.shape(zn, 0, 1);
  const half = op.div(n2, b.ints([2]));
  const idx = op.range(b, op.squeeze(n2, [0]), 'int64');
  const diagonal = op.equal(op.unsqueeze(idx, [1]), op.unsqueeze(idx, [0]));
  // −∞ added on the diagonal rather than selected: the offsets depend on shapes alone, so ONNX Runtime
  // folds them into a constant for a static batch and an Add (which passes the gradient through;
  // it is 0 on the diagonal) replaces a Where forward and backward.
  const offsets = op.where(diagonal, op.scalarLike(sim, Number.NEGATIVE_INFINITY), op.scalarLike(sim, 0));
  const lse = rowLogSumExp(op.add(sim, offsets));
  const [zn1, zn2] = b.opMulti('Split', [zn, op.concat([half, half], 0)], { axis: 0 }, { outputs: 2 });
  const cosines = op.reduceSum(op.mul(zn1!, zn2!), [1], false);
  const positives = op.mul(op.reduceSum(cosines, undefined, false), op.scalarLike(sim, 2 / temperature));
  const total = op.sub(positives, op.reduceSum(lse, undefined, false));
  const loss = op.neg(op.div(total, op.cast(op.squeeze(n2, [0]), zn.dtype)));
  return { loss, positiveSimilarity: op.reduceMean(op.stopGradient(cosines), undefined, false) };
}
