// A seeded synthetic encoded dataset for training-step tests (no events, no spec): numericals in
// [-2, 2), category ids below each column's reserved [MASK] id.
import type { ModelConfig } from '../../graphs/models/tabular-resnet.ts';
import type { EncodedDataset } from '../../src/dataset/dataset.ts';

/** `rows` encoded rows for `model`'s columns; the same seed gives the same rows everywhere. */
export function syntheticDataset(model: ModelConfig, rows: number, seed: number): EncodedDataset {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const fc = model.cardinalities.length;
  const numerical = Float32Array.from({ length: rows * model.numNumerical }, () => next() * 4 - 2);
  const categorical = Int32Array.from({ length: rows * fc }, (_, i) =>
    Math.floor(next() * (model.cardinalities[i % fc]! - 1)),
  );
  return { numerical, categorical, rows, numNumerical: model.numNumerical, numCategorical: fc };
}
