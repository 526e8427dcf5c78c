// BatchNorm1d. Train mode: batch statistics per group of rows (each augmented view is its own
// batch, as in the reference, though the views travel stacked through one graph), PyTorch's
// running-stat rules, and a hand-written backward; sums over the batch run as GEMVs. Eval mode:
// running statistics.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import type { Forward } from './params.ts';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** Mean over axis 1 of [G, B, d] as a GEMV with a constant 1/B row: [G, 1, d]. */
function meanOverBatch(x3: Value, batch: number): Value {
  return op.matMul(x3.builder.constant('float32', [1, batch], new Array(batch).fill(1 / batch)), x3);
}

/** Sum over axis 1 of [G, B, d] as a GEMV with a constant row of ones: [G, 1, d]. */
function sumOverBatch(x3: Value, batch: number): Value {
  return op.matMul(x3.builder.constant('float32', [1, batch], new Array(batch).fill(1)), x3);
}

/**
 * BatchNorm1d over [groups·batch, features] under scope `name`; in train mode the statistics
 * are taken per group of `batch` rows and the running statistics updated once per group, in order.
 */
export function batchNorm(f: Forward, name: string, x: Value, features: number, groups = 1): Value {
  const { b, params } = f;
  if (!f.train && f.foldedBatchNorm) return x;
  return b.scope(name, () => {
    const gamma = params.get('weight', [features], { kind: 'const', value: 1 });
    const beta = params.get('bias', [features], { kind: 'const', value: 0 });
    params.get('running_mean', [features], { kind: 'const', value: 0 }, 'buffer');
    params.get('running_var', [features], { kind: 'const', value: 1 }, 'buffer');
    // Only training counts batches; an inference graph that declared it would carry an unused initializer.
    if (f.train) params.get('num_batches_tracked', [], { kind: 'const', value: 0 }, 'buffer', 'int64');
    const [rmName, rvName, nbName] = ['running_mean', 'running_var', 'num_batches_tracked'].map((s) =>
      b.qualified(s),
    );
    const eps = op.scalarLike(x, BN_EPS);
    if (!f.train) {
      const inv = op.reciprocal(op.sqrt(op.add(params.current(rvName!), eps)));
      return op.add(op.mul(op.sub(x, params.current(rmName!)), op.mul(gamma, inv)), beta);
    }
    const rows = x.shape![0];
    if (typeof rows !== 'number' || rows % groups !== 0)
      throw new Error(`batchNorm ${name}: train mode needs a static batch`);
    const batch = rows / groups;
    let mean: Value | null = null;
    let variance: Value | null = null;
    // Forward keeps the centred input xc, 1/σ and s = γ/σ per group; with P = dy·xc the backward is
    // dx = (dy − Σdy/B)·s − xc·s·σ⁻²·ΣP/B,  dγ = Σ_groups σ⁻¹·ΣP,  dβ = Σdy  (Σ over each group's rows).
    const [y] = b.customGrad(
      b.qualified('train'),
      [x, gamma, beta],
      () => {
        const x3 = op.reshape(x, [groups, batch, features]);
        mean = meanOverBatch(x3, batch);
        const xc = op.sub(x3, mean);
        variance = meanOverBatch(op.mul(xc, xc), batch);
        const inv = op.reciprocal(op.sqrt(op.add(variance, eps)));
        const scale = op.mul(inv, gamma);
        const y3 = op.add(op.mul(xc, scale), beta);
        return [op.reshape(y3, [rows, features]), xc, inv, scale];
      },
      ([dy]) => {
        const [, xc, inv, scale] = y.producer!.region!.outputs as [Value, Value, Value, Value];
        const dy3 = op.reshape(dy!, [groups, batch, features]);
        const sumP = sumOverBatch(op.mul(dy3, xc), batch);
        const sumDy = sumOverBatch(dy3, batch);
        const dgamma = op.reduceSum(op.mul(sumP, inv), [0, 1], false);
        const dbeta = op.reduceSum(sumDy, [0, 1], false);
        const perB = op.scalarLike(x, -1 / batch);
        const coefXc = op.mul(op.mul(scale, op.mul(inv, inv)), op.mul(sumP, perB));
        const centred = op.add(dy3, op.mul(sumDy, perB));
        const dx3 = op.add(op.mul(centred, scale), op.mul(xc, coefXc));
        return [op.reshape(dx3, [rows, features]), dgamma, dbeta];
      },
    ) as [Value, Value, Value, Value];

    // The groups' running-stat updates r ← (1−m)·r + m·s_g, applied in order, in closed form:
    // r·(1−m)^G + Σ_g m·(1−m)^(G−1−g)·s_g, the sum as a weighted ReduceSum of the [G, 1, d] statistics.
    const blend = (name: string, stats: Value, scale: number) => {
      const w = Array.from(
        { length: groups },
        (_, g) => scale * BN_MOMENTUM * (1 - BN_MOMENTUM) ** (groups - 1 - g),
      );
      const weighted = op.mul(op.stopGradient(stats), b.constant('float32', [groups, 1, 1], w));
      const mixed = op.reduceSum(weighted, [0, 1], false);
      const kept = op.mul(params.current(name), op.scalarLike(x, (1 - BN_MOMENTUM) ** groups));
      params.update(name, op.add(kept, mixed));
    };
    blend(rmName!, mean!, 1);
    blend(rvName!, variance!, batch / (batch - 1));
    params.update(nbName!, op.add(params.current(nbName!), b.scalar('int64', groups)));
    return y;
  });
}
