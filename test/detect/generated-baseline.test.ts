// Detection sanity on generated data: a raw-feature k-NN baseline beats chance but is far from perfect.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { encodeDataset } from '../../src/dataset/dataset.ts';
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { rocAuc } from '../../src/detect/metrics.ts';
import { fitScorer } from '../../src/detect/scorer.ts';
import { fitSpec } from '../../src/features/spec.ts';

test('k-NN on scaled raw features scores the generated anomalies above chance, not perfectly', async () => {
  const { events, labels } = generate({ events: 6000, seed: 4, anomalyRate: 0.05 });
  const spec = fitSpec(events);
  const ds = encodeDataset(spec, events);
  // Raw features: the scaled numericals, and per categorical column the value's −log frequency (its rarity).
  const fc = ds.numCategorical;
  const freq = Array.from({ length: fc }, () => new Map<number, number>());
  for (let r = 0; r < ds.rows; r++) {
    for (let j = 0; j < fc; j++) {
      const id = ds.categorical[r * fc + j]!;
      freq[j]!.set(id, (freq[j]!.get(id) ?? 0) + 1);
    }
  }
  const d = ds.numNumerical + fc;
  const x = new Float32Array(ds.rows * d);
  for (let r = 0; r < ds.rows; r++) {
    x.set(ds.numerical.subarray(r * ds.numNumerical, (r + 1) * ds.numNumerical), r * d);
    for (let j = 0; j < fc; j++) {
      x[r * d + ds.numNumerical + j] = -Math.log(freq[j]!.get(ds.categorical[r * fc + j]!)! / ds.rows);
    }
  }
  const scorer = await fitScorer(x, d, { method: 'knn', k: 20 }, nodeKnnRuntime({ device: 'cpu' }));
  const auc = rocAuc(
    scorer.referenceScores,
    labels.map((l) => (l.is_anomaly ? 1 : 0)),
  );
  console.log(`raw-feature k-NN ROC-AUC ${auc.toFixed(3)}`);
  assert.ok(auc > 0.55 && auc < 0.97, `raw-feature k-NN ROC-AUC ${auc}`);
});
