// Raw-feature baselines: fitted on the reference events' fields alone, they score a later window of
// generated events; the k-NN finds the planted incidents there, and both give one finite score per event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_START, generate } from '../../src/data/generate/index.ts';
import { scoreRawBaseline } from '../../src/detect/baselines.ts';
import { referenceFeatures } from '../../src/detect/explain.ts';
import { rocAuc } from '../../src/detect/metrics.ts';
import { extractRaw, fitSpec } from '../../src/features/spec.ts';
import { runtime } from './helpers.ts';

test('raw baselines score a later window from the fields alone', async () => {
  const start = Date.parse(DEFAULT_START);
  const day = generate({ events: 2000, seed: 5, profile: 'api', hours: 24, start });
  const next = generate({
    events: 1000,
    seed: 6,
    profile: 'api',
    hours: 24,
    start: start + 24 * 3600 * 1000,
  });
  const train = day.events;
  const spec = fitSpec(train);
  const reference = referenceFeatures(spec, train);
  const later = next.events;
  const y = next.labels.map((l) => (l.is_anomaly ? 1 : 0));
  assert.ok(
    y.some((v) => v === 1),
    'the later window holds anomalies',
  );
  const raws = later.map((e) => extractRaw(spec, e));
  const knn = await scoreRawBaseline('knn', spec, reference, raws, runtime);
  const forest = await scoreRawBaseline('iforest', spec, reference, raws, runtime, 1);
  for (const s of [knn, forest]) {
    assert.equal(s.scores.length, later.length);
    assert.ok(s.scores.every(Number.isFinite));
  }
  const auc = rocAuc(knn.scores, y);
  assert.ok(auc > 0.9, `raw k-NN ROC-AUC ${auc}`);
  // Seeded: the same forest again.
  const again = await scoreRawBaseline('iforest', spec, reference, raws, runtime, 1);
  assert.deepEqual(again.scores, forest.scores);
});
