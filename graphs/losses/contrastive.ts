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
 * NT-Xent over the stacked views z = [view 1; view 2] (2B × d): L2-normalise, similarities / τ
 * with the diagonal at −∞, cross-entropy where row i's target is its other view, mean over 2B rows.
 * Returns the loss and the mean cosine similarity of positive pairs (a cheap health metric).
 */
export function ntXent(z: Value, temperature: number): { loss: Value; positiveSimilarity: Value } {
  const b = z.builder;
  const zn = l2Normalize(z);
  const sim = scaledGram(zn, 1 / temperature);
  const n2 = op.shape(zn, 0, 1);
  const half = op.div(n2, b.ints([2]));
  const idx = op.range(b, op.squeeze(n2, [0]), 'int64');
  const cols = op.unsqueeze(idx, [0]);
  const diagonal = op.equal(op.unsqueeze(idx, [1]), cols);
  const target = op.unsqueeze(op.mod(op.add(idx, op.squeeze(half, [0])), op.squeeze(n2, [0])), [1]);
  const positive = op.equal(target, cols);
  // −∞ added on the diagonal rather than selected: the offsets depend on shapes alone, so ONNX Runtime
  // folds them into a constant for a static batch and an Add (which passes the gradient through;
  // it is 0 on the diagonal) replaces a Where forward and backward.
  const offsets = op.where(diagonal, op.scalarLike(sim, Number.NEGATIVE_INFINITY), op.scalarLike(sim, 0));
  const masked = op.add(sim, offsets);
  const logp = op.logSoftmax(masked, 1);
  const total = op.reduceSum(op.where(positive, logp, op.scalarLike(logp, 0)), undefined, false);
  const loss = op.neg(op.div(total, op.cast(op.squeeze(n2, [0]), zn.dtype)));
  const [zn1, zn2] = b.opMulti(
    'Split',
    [op.stopGradient(zn), op.concat([half, half], 0)],
    { axis: 0 },
    { outputs: 2 },
  );
  const cosines = op.reduceSum(op.mul(zn1!, zn2!), [1], false);
  return { loss, positiveSimilarity: op.reduceMean(cosines, undefined, false) };
}
