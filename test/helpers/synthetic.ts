// Test data: a small encoded table with a few clusters, made from a seed.
import type { EncodedDataset } from '../../src/dataset/dataset.ts';
import { randn, rng } from './ort.ts';

/** `rows` rows in `clusters` clusters: numericals around a cluster centre, categoricals mostly the cluster's id. */
export function clusteredDataset(
  rows: number,
  seed = 1,
  clusters = 4,
  fn = 6,
  cards = [9, 5],
): EncodedDataset {
  const random = rng(seed);
  const centres = Array.from({ length: clusters }, () => randn(fn, random).map((v) => 3 * v));
  const numerical = new Float32Array(rows * fn);
  const categorical = new Int32Array(rows * cards.length);
  for (let r = 0; r < rows; r++) {
    const c = r % clusters;
    const noise = randn(fn, random);
    for (let j = 0; j < fn; j++) numerical[r * fn + j] = centres[c]![j]! + 0.3 * noise[j]!;
    cards.forEach((k, j) => {
      categorical[r * cards.length + j] =
        random() < 0.9 ? 2 + ((c + j) % (k - 3)) : 2 + Math.floor(random() * (k - 3));
    });
  }
  return { numerical, categorical, rows, numNumerical: fn, numCategorical: cards.length };
}
