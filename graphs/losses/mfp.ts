// Masked feature prediction: heads on the embedding, cross-entropy on masked categorical cells
// (averaged over columns that had a masked cell) plus weighted MSE on masked numerical cells.

import { linear } from '../nn/linear.ts';
import type { Forward } from '../nn/params.ts';
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';

export interface MfpTargets {
  /** Original numericals [B, Fn] and which cells were masked (bool). */
  numerical: Value | null;
  numericalMask: Value | null;
  /** Original categorical ids [B, Fc] and which cells were masked (bool). */
  categorical: Value | null;
  categoricalMask: Value | null;
}

/**
 * Loss of the heads `mfp_heads.cat_heads.{i}` (Linear d → cardinality_i) and
 * `mfp_heads.num_head` (Linear d → Fn) on `embedding`.
 */
export function mfpLoss(
  f: Forward,
  embedding: Value,
  dModel: number,
  cardinalities: number[],
  numNumerical: number,
  t: MfpTargets,
  numericalWeight: number,
): { loss: Value; categoricalLoss: Value; numericalLoss: Value } {
  const { b } = f;
  const zero = op.scalarLike(embedding, 0);
  const one = op.scalarLike(embedding, 1);
  const floorOne = (x: Value) => op.atLeast(x, one);
  return b.scope('mfp_heads', () => {
    let categoricalLoss = zero;
    if (cardinalities.length > 0) {
      const perColumn: Value[] = [];
      const hasMask: Value[] = [];
      const masks = op.split(
        op.cast(t.categoricalMask!, embedding.dtype),
        cardinalities.map(() => 1),
        1,
      );
      const targets = op.split(
        t.categorical!,
        cardinalities.map(() => 1),
        1,
      );
      cardinalities.forEach((card, i) => {
        const logits = linear(f, `cat_heads.${i}`, embedding, dModel, card);
        const logp = op.logSoftmax(logits, 1);
        const onehot = op.cast(
          op.equal(targets[i]!, op.unsqueeze(op.range(b, card, 'int64'), [0])),
          embedding.dtype,
        );
        const nll = op.neg(op.reduceSum(op.mul(logp, onehot), [1], true));
        const m = op.stopGradient(masks[i]!);
        const count = op.reduceSum(m, undefined, false);
        perColumn.push(op.div(op.reduceSum(op.mul(nll, m), undefined, false), floorOne(count)));
        hasMask.push(op.cast(op.greater(count, zero), embedding.dtype));
      });
      categoricalLoss = op.div(op.sum(perColumn), floorOne(op.sum(hasMask)));
    }
    let numericalLoss = zero;
    if (numNumerical > 0) {
      const pred = linear(f, 'num_head', embedding, dModel, numNumerical);
      const m = op.stopGradient(op.cast(t.numericalMask!, embedding.dtype));
      const diff = op.sub(pred, t.numerical!);
      const sse = op.reduceSum(op.mul(op.mul(diff, diff), m), undefined, false);
      numericalLoss = op.div(sse, floorOne(op.reduceSum(m, undefined, false)));
    }
    const loss =
      numNumerical > 0
        ? op.add(categoricalLoss, op.mul(numericalLoss, op.scalarLike(embedding, numericalWeight)))
        : categoricalLoss;
    return { loss, categoricalLoss, numericalLoss };
  });
}
