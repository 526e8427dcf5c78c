// The scorer: methods against brute force, thresholds, leave-one-out, JSON round trip, and the grouped-anomaly
// scenario where the default must beat plain k-NN (k = 20).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { averagePrecision, rocAuc } from '../../src/detect/metrics.ts';
import {
  DEFAULT_METHOD,
  effectiveK,
  fitScorer,
  resolveOptions,
  type ScoringMethod,
  score,
  scorerFromJSON,
  scorerToJSON,
} from '../../src/detect/scorer.ts';
import { syntheticEmbeddings } from '../../src/detect/synthetic.ts';
import { ecdfRank, percentile, sortedCopy } from '../../src/detect/threshold.ts';
import { bruteKnn, randomRows, runtime } from './helpers.ts';

const d = 12;
const reference = randomRows(400, d, 21);
const queries = randomRows(50, d, 22);

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
}

describe('thresholds and ranks', () => {
  test('percentile interpolates linearly between closest ranks', () => {
    assert.equal(percentile([4, 1, 3, 2], 50), 2.5);
    assert.equal(percentile([1, 2, 3, 4], 100), 4);
    assert.equal(percentile([1, 2, 3, 4], 0), 1);
    close(
      [
        percentile(
          Array.from({ length: 101 }, (_, i) => i),
          95,
        ),
      ],
      [95],
      1e-12,
    );
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), /within 0–100/);
  });

  test('ecdfRank: mid-ranks inside, continuing linearly outside the reference range', () => {
    const s = sortedCopy([1, 2, 2, 3]);
    assert.equal(ecdfRank(s, 2), 0.5);
    assert.equal(ecdfRank(s, 1), 0.125);
    assert.equal(ecdfRank(s, 2.5), 0.75);
    assert.equal(ecdfRank(s, 5), 2);
    assert.equal(ecdfRank(s, 0), -0.5);
  });
});

describe('fitScorer and score', () => {
  test('knn: reference scores are leave-one-out mean distances; threshold is their 95th percentile', async () => {
    const s = await fitScorer(reference, d, { method: 'knn' }, runtime);
    assert.equal(s.k, 20);
    close(s.referenceScores, bruteKnn(reference, reference, d, 20, (i) => i).scores, 2e-6);
    assert.equal(s.threshold, percentile(s.referenceScores, 95));
    const flagged = s.referenceScores.filter((v) => v > s.threshold).length;
    assert.ok(flagged >= 19 && flagged <= 21, `${flagged} flagged`);
  });

  test('knn: new queries score against the whole reference, with the 3 nearest rows', async () => {
    const s = await fitScorer(reference, d, { method: 'knn', k: 5 }, runtime);
    const r = await score(s, reference, queries, d, runtime);
    const want = bruteKnn(reference, queries, d, 5);
    close(r.scores, want.scores, 2e-6);
    assert.deepEqual(
      [...r.neighbours],
      want.indices.flatMap((row) => row.slice(0, 3)),
    );
    assert.deepEqual(
      r.isAnomaly,
      Uint8Array.from(r.scores, (v) => (v > s.threshold ? 1 : 0)),
    );
  });

  test('knn-relative uses k = max(k, ceil(kFraction * n))', async () => {
    assert.equal(effectiveK(resolveOptions({ method: 'knn-relative' }), 10000), 300);
    assert.equal(effectiveK(resolveOptions({ method: 'knn-relative', kFraction: 0.01 }), 1000), 20);
    assert.equal(effectiveK(resolveOptions({ method: 'knn' }), 10), 9);
    const s = await fitScorer(reference, d, { method: 'knn-relative', kFraction: 0.1 }, runtime);
    assert.equal(s.k, 40);
    close(s.referenceScores, bruteKnn(reference, reference, d, 40, (i) => i).scores, 2e-6);
  });

  for (const method of ['knn', 'knn-relative', 'lof', 'iforest', 'ensemble'] as ScoringMethod[]) {
    test(`${method}: scoring the reference itself reproduces the fitted scores; JSON round trip is exact`, async () => {
      const s = await fitScorer(reference, d, { method, components: ['knn', 'lof', 'iforest'] }, runtime);
      const self = await score(s, reference, reference, d, runtime);
      close(self.scores, s.referenceScores, 1e-6);
      for (let i = 0; i < 400; i++) assert.ok(![...self.neighbours.subarray(i * 3, i * 3 + 3)].includes(i));
      const back = scorerFromJSON(JSON.parse(JSON.stringify(scorerToJSON(s))));
      assert.deepEqual(back, s);
      const a = await score(s, reference, queries, d, runtime);
      const b = await score(back, reference, queries, d, runtime);
      assert.deepEqual(a, b);
    });
  }

  test('lof: about 1 inside a uniform cloud, well above 1 for a far point', async () => {
    const x = new Float32Array([
      ...randomRows(300, d, 31),
      ...new Array(d).fill(0).map((_, j) => (j < 2 ? 10 : 0)),
    ]);
    for (let i = 0; i < 300; i++) x[i * d]! += 10;
    const s = await fitScorer(x, d, { method: 'lof', k: 10 }, runtime);
    const sorted = [...s.referenceScores.subarray(0, 300)].sort((a, b) => a - b);
    assert.ok(Math.abs(sorted[150]! - 1) < 0.15, `median LOF ${sorted[150]}`);
    assert.ok(s.referenceScores[300]! > 1.5, `outlier LOF ${s.referenceScores[300]}`);
  });

  test('clear errors for bad options and mismatched references', async () => {
    assert.throws(() => resolveOptions({ method: 'nope' as ScoringMethod }), /unknown scoring method 'nope'/);
    assert.throws(() => resolveOptions({ k: 0 }), /k must be/);
    assert.throws(() => resolveOptions({ method: 'ensemble', components: [] }), /at least one component/);
    await assert.rejects(fitScorer(reference.subarray(0, d), d, {}, runtime), /at least 2 reference rows/);
    const s = await fitScorer(reference, d, { method: 'knn' }, runtime);
    await assert.rejects(score(s, queries, queries, d, runtime), /fitted on 400 reference rows/);
    await assert.rejects(score(s, reference, queries, d + 1, runtime), /width 12/);
    assert.throws(() => scorerFromJSON({ format: 'x' } as never), /not an ocsf-embed scorer/);
  });
});

describe('grouped anomalies (bursts of near-identical rows)', () => {
  const data = syntheticEmbeddings({ normals: 2000, bursts: 4, burstSize: [20, 40], isolated: 20, seed: 4 });
  const n = data.labels.length;

  test(`inside the reference: the default (${DEFAULT_METHOD}) beats plain k-NN with k = 20`, async () => {
    const plain = await fitScorer(data.x, data.d, { method: 'knn', k: 20 }, runtime);
    const chosen = await fitScorer(data.x, data.d, {}, runtime);
    const plainAuc = rocAuc(plain.referenceScores, data.labels);
    const chosenAuc = rocAuc(chosen.referenceScores, data.labels);
    assert.ok(plainAuc < 0.5, `plain k-NN ROC-AUC ${plainAuc}`);
    assert.ok(chosenAuc > 0.9, `default ROC-AUC ${chosenAuc}`);
    assert.ok(
      averagePrecision(chosen.referenceScores, data.labels) >
        averagePrecision(plain.referenceScores, data.labels) + 0.2,
    );
    let bursts = 0;
    let caught = 0;
    for (let i = 0; i < n; i++) {
      if (data.kind[i] !== 1) continue;
      bursts++;
      if (chosen.referenceScores[i]! > chosen.threshold) caught++;
      assert.ok(plain.referenceScores[i]! <= plain.threshold);
    }
    assert.ok(caught > 0, `default flags ${caught} of ${bursts} burst rows`);
  });

  test('only in the queries: the default stays as good as plain k-NN', async () => {
    const normalRows = [...data.labels.keys()].filter((i) => data.labels[i] === 0);
    const train = normalRows.filter((_, j) => j % 3 !== 0);
    const test = [
      ...normalRows.filter((_, j) => j % 3 === 0),
      ...[...data.labels.keys()].filter((i) => data.labels[i]),
    ];
    const rows = (idx: number[]) => {
      const x = new Float32Array(idx.length * data.d);
      idx.forEach((r, i) => {
        x.set(data.x.subarray(r * data.d, (r + 1) * data.d), i * data.d);
      });
      return x;
    };
    const ref = rows(train);
    const q = rows(test);
    const labels = test.map((i) => data.labels[i]!);
    for (const opts of [{ method: 'knn' as const }, {}]) {
      const s = await fitScorer(ref, data.d, opts, runtime);
      const r = await score(s, ref, q, data.d, runtime);
      assert.ok(rocAuc(r.scores, labels) > 0.99, `${opts.method ?? 'default'}: ${rocAuc(r.scores, labels)}`);
    }
  });
});
