// BatchNorm1d: decomposed batch statistics in train mode (exact backward, PyTorch running-stat
// rules), running statistics in eval mode.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import type { Forward } from './params.ts';

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/** BatchNorm1d over [batch, features] under scope `name`. */
export function batchNorm(f: Forward, name: string, x: Value, features: number): Value {
  const { b, params } = f;
  return b.scope(name, () => {
    const gamma = params.get('weight', [features], { kind: 'const', value: 1 });
    const beta = params.get('bias', [features], { kind: 'const', value: 0 });
    params.get('running_mean', [features], { kind: 'const', value: 0 }, 'buffer');
    params.get('running_var', [features], { kind: 'const', value: 1 }, 'buffer');
    params.get('num_batches_tracked', [], { kind: 'const', value: 0 }, 'buffer', 'int64');
    const [rmName, rvName, nbName] = ['running_mean', 'running_var', 'num_batches_tracked'].map((s) =>
      b.qualified(s),
    );
    const eps = op.scalarLike(x, BN_EPS);
    if (!f.train) {
      const inv = op.reciprocal(op.sqrt(op.add(params.current(rvName!), eps)));
      const scale = op.mul(gamma, inv);
      return op.add(op.mul(op.sub(x, params.current(rmName!)), scale), beta);
    }
    const mean = op.reduceMean(x, [0], true);
    const centered = op.sub(x, mean);
    const variance = op.reduceMean(op.mul(centered, centered), [0], true);
    const inv = op.reciprocal(op.sqrt(op.add(variance, eps)));
    const y = op.add(op.mul(op.mul(centered, inv), gamma), beta);

    const m = op.scalarLike(x, BN_MOMENTUM);
    const keep = op.scalarLike(x, 1 - BN_MOMENTUM);
    const n = op.cast(op.shape(x, 0, 1), x.dtype);
    const unbiased = op.div(op.mul(variance, n), op.sub(n, op.scalarLike(x, 1)));
    const flat = (v: Value) => op.reshape(op.stopGradient(v), [features]);
    params.update(rmName!, op.add(op.mul(params.current(rmName!), keep), op.mul(flat(mean), m)));
    params.update(rvName!, op.add(op.mul(params.current(rvName!), keep), op.mul(flat(unbiased), m)));
    params.update(nbName!, op.add(params.current(nbName!), b.scalar('int64', 1)));
    return y;
  });
}
