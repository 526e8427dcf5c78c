// Augmentations for contrastive views and masks for masked feature prediction, from the in-graph RNG.
import type { Value } from './onnx/builder.ts';
import * as op from './onnx/ops.ts';
import { randomNormalLike, randomUniformLike } from './rng.ts';

/**
 * x + N(0, 1)·noiseLevel on (standardised) numericals.
 */
export function addNoise(x: Value, noiseLevel: number, key: Value): Value {
  if (noiseLevel <= 0) return x;
  return op.add(x, op.mul(randomNormalLike(key, x, 'float32'), op.scalarLike(x, noiseLevel)));
}

/**
 * Replaces each categorical cell with probability `swapProb` by a random id of its column:
 * uniform over [0, choices_j) (the reference), or drawn from the column's empirical
 * distribution when `cumulative` (per column, the running sums of frequencies, [columns, K]) is given.
 */
export function swapCategories(
  ids: Value,
  swapProb: number,
  choices: number[],
  keys: { mask: Value; pick: Value },
  cumulative?: Value,
): Value {
  if (swapProb <= 0 || choices.length === 0) return ids;
  const b = ids.builder;
  const swap = op.less(randomUniformLike(keys.mask, ids), b.scalar('float32', swapProb));
  const u = randomUniformLike(keys.pick, ids);
  let replacement: Value;
  if (cumulative) {
    // Inverse CDF: the id is the number of cumulative sums ≤ u, per column.
    const below = op.cast(op.less(cumulative, op.unsqueeze(u, [2])), 'float32');
    replacement = op.cast(op.reduceSum(below, [2], false), 'int64');
  } else {
    const scaled = op.floor(op.mul(u, b.constant('float32', [choices.length], choices)));
    replacement = op.cast(scaled, 'int64');
  }
  return op.where(swap, replacement, ids);
}

/** A Bernoulli(p) mask with `like`'s shape (true = masked). */
export function bernoulliMask(like: Value, p: number, key: Value): Value {
  return op.less(randomUniformLike(key, like), like.builder.scalar('float32', p));
}
