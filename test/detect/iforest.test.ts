// Isolation forest: c(n), determinism per seed, obvious outliers ranked first, JSON round trip.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  averagePathLength,
  fitIsolationForest,
  isolationForestFromJSON,
  isolationForestToJSON,
  isolationScores,
} from '../../src/detect/iforest.ts';
import { randomRows } from './helpers.ts';

const d = 8;

function blobWithOutliers(): Float32Array {
  const x = randomRows(505, d, 11);
  for (let i = 500; i < 505; i++) for (let j = 0; j < d; j++) x[i * d + j] = 6 + i - 500 + (j % 2);
  return x;
}

describe('isolation forest', () => {
  test('c(n) follows the standard normalisation', () => {
    assert.equal(averagePathLength(0), 0);
    assert.equal(averagePathLength(1), 0);
    assert.equal(averagePathLength(2), 1);
    const c256 = 2 * (Math.log(255) + 0.5772156649015329) - (2 * 255) / 256;
    assert.ok(Math.abs(averagePathLength(256) - c256) < 1e-12);
    assert.ok(Math.abs(averagePathLength(256) - 10.2448) < 1e-4);
  });

  test('the same seed gives the same forest and scores; another seed differs', () => {
    const x = blobWithOutliers();
    const a = isolationScores(fitIsolationForest(x, d, { seed: 7 }), x, d);
    const b = isolationScores(fitIsolationForest(x, d, { seed: 7 }), x, d);
    const c = isolationScores(fitIsolationForest(x, d, { seed: 8 }), x, d);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('100 trees of 256 rows, heights capped at 8, leaves hold every sampled row', () => {
    const forest = fitIsolationForest(blobWithOutliers(), d);
    assert.equal(forest.trees.length, 100);
    assert.equal(forest.sampleSize, 256);
    assert.equal(forest.heightLimit, 8);
    for (const t of forest.trees) {
      let leafRows = 0;
      t.feature.forEach((f, i) => {
        if (f < 0) leafRows += t.size[i]!;
      });
      assert.equal(leafRows, 256);
      assert.equal(t.size[0], 256);
    }
  });

  test('obvious outliers score highest; scores lie in (0, 1]', () => {
    const x = blobWithOutliers();
    const s = isolationScores(fitIsolationForest(x, d, { seed: 3 }), x, d);
    const order = [...s.keys()].sort((i, j) => s[j]! - s[i]!);
    assert.deepEqual(new Set(order.slice(0, 5)), new Set([500, 501, 502, 503, 504]));
    for (const v of s) assert.ok(v > 0 && v <= 1);
    for (let i = 500; i < 505; i++) assert.ok(s[i]! > 0.6, `outlier ${i}: ${s[i]}`);
  });

  test('identical rows and tiny inputs do not break it', () => {
    const same = new Float32Array(10 * d).fill(1);
    const s = isolationScores(fitIsolationForest(same, d), same, d);
    assert.equal(new Set(s).size, 1);
    const one = isolationScores(fitIsolationForest(same.subarray(0, d), d), same.subarray(0, d), d);
    assert.equal(one.length, 1);
    assert.throws(() => fitIsolationForest(new Float32Array(0), d), /at least one row/);
  });

  test('JSON round trip scores identically', () => {
    const x = blobWithOutliers();
    const forest = fitIsolationForest(x, d, { seed: 5, trees: 20 });
    const back = isolationForestFromJSON(JSON.parse(JSON.stringify(isolationForestToJSON(forest))));
    assert.deepEqual(isolationScores(back, x, d), isolationScores(forest, x, d));
  });
});
