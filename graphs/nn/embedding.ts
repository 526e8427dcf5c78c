// Per-column embedding tables, looked up together: the tables are concatenated in-graph and
// indexed with per-column offsets, so one Gather (and one scatter-add backward) serves all columns.
import type { Value } from '../onnx/builder.ts';
import * as op from '../onnx/ops.ts';
import type { Forward } from './params.ts';

/**
 * Embeds categorical ids [batch, columns] (int64) with tables `name.{i}.weight` [cardinality_i, dim]
 * and returns [batch, columns·dim], the columns' vectors side by side.
 */
export function embeddings(
  f: Forward,
  name: string,
  ids: Value,
  cardinalities: number[],
  dim: number,
): Value {
  const { b, params } = f;
  const tables = b.scope(name, () =>
    cardinalities.map((card, i) =>
      b.scope(String(i), () => params.get('weight', [card, dim], { kind: 'normal', std: 1 })),
    ),
  );
  const offsets: number[] = [];
  let total = 0;
  for (const c of cardinalities) {
    offsets.push(total);
    total += c;
  }
  const table = op.concat(tables, 0);
  const shifted = op.add(ids, b.constant('int64', [cardinalities.length], offsets));
  const vectors = op.gather(table, shifted, 0);
  return op.reshape(vectors, [0, cardinalities.length * dim]);
}
