// Evaluation metrics against hand-computed cases, ties, and one-class labels.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  averagePrecision,
  evaluate,
  labelProblem,
  metricsAtThreshold,
  prCurve,
  precisionAtK,
  precisionAtKRows,
  rocAuc,
  rocCurve,
  scenarioMetrics,
} from '../../src/detect/metrics.ts';
import { mulberry32 } from '../../src/detect/random.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('ROC-AUC and average precision', () => {
  test('scikit-learn example: AUC 0.75, AP 0.8333', () => {
    const s = [0.1, 0.4, 0.35, 0.8];
    const y = [0, 0, 1, 1];
    close(rocAuc(s, y), 0.75);
    close(averagePrecision(s, y), 5 / 6);
  });

  test('ties count one half in AUC and enter AP together', () => {
    close(rocAuc([1, 1, 0, 0], [1, 0, 1, 0]), 0.5);
    close(averagePrecision([1, 1, 0, 0], [1, 0, 1, 0]), 0.5);
    close(rocAuc([3, 2, 2, 1], [1, 1, 0, 0]), 0.875);
    close(averagePrecision([3, 2, 2, 1], [1, 1, 0, 0]), 0.5 + 0.5 * (2 / 3));
    close(rocAuc([5, 5, 5], [1, 0, 0]), 0.5);
    close(averagePrecision([5, 5, 5], [true, false, false]), 1 / 3);
  });

  test('perfect and reversed rankings', () => {
    close(rocAuc([4, 3, 2, 1], [1, 1, 0, 0]), 1);
    close(averagePrecision([4, 3, 2, 1], [1, 1, 0, 0]), 1);
    close(rocAuc([1, 2, 3, 4], [1, 1, 0, 0]), 0);
    close(averagePrecision([1, 2, 3, 4], [1, 1, 0, 0]), 0.5 * (1 / 3) + 0.5 * 0.5);
  });

  test('AUC equals the pairwise count on random tied scores', () => {
    const r = mulberry32(5);
    const s = Array.from({ length: 300 }, () => Math.round(r() * 10));
    const y = s.map((v) => (r() < 0.2 + v / 20 ? 1 : 0));
    let wins = 0;
    let pairs = 0;
    s.forEach((a, i) => {
      s.forEach((b, j) => {
        if (y[i] === 1 && y[j] === 0) {
          pairs++;
          wins += a > b ? 1 : a === b ? 0.5 : 0;
        }
      });
    });
    close(rocAuc(s, y), wins / pairs, 1e-12);
  });

  test('one class only gives NaN with a reason, not a crash', () => {
    assert.ok(Number.isNaN(rocAuc([1, 2, 3], [0, 0, 0])));
    assert.ok(Number.isNaN(averagePrecision([1, 2, 3], [0, 0, 0])));
    assert.ok(Number.isNaN(rocAuc([1, 2, 3], [1, 1, 1])));
    close(averagePrecision([1, 2, 3], [1, 1, 1]), 1);
    assert.ok(Number.isNaN(rocAuc([], [])));
    assert.match(labelProblem([0, 0, 0])!, /no anomalies among the 3 labels/);
    assert.match(labelProblem([1, 1])!, /every one of the 2 labels is an anomaly: ROC-AUC is undefined/);
    assert.match(labelProblem([])!, /no rows/);
    assert.equal(labelProblem([0, 1]), undefined);
    assert.deepEqual(rocCurve([1, 2], [0, 0]), []);
    assert.deepEqual(prCurve([1, 2], [0, 0]), []);
  });

  test('bad input is a clear error', () => {
    assert.throws(() => rocAuc([1, 2], [0]), /differ in length: 2 vs 1/);
    assert.throws(() => rocAuc([1, 2], [0, 2]), /label 1 is 2/);
    assert.throws(() => rocAuc([1, Number.NaN], [0, 1]), /score 1 is NaN/);
  });
});

describe('threshold metrics and precision@k', () => {
  const s = [0.1, 0.4, 0.35, 0.8];
  const y = [0, 0, 1, 1];

  test('precision, recall, F1 with score > threshold', () => {
    assert.deepEqual(metricsAtThreshold(s, y, 0.35), {
      threshold: 0.35,
      tp: 1,
      fp: 1,
      tn: 1,
      fn: 1,
      precision: 0.5,
      recall: 0.5,
      f1: 0.5,
    });
    const none = metricsAtThreshold(s, y, 1);
    assert.ok(Number.isNaN(none.precision));
    assert.equal(none.recall, 0);
    assert.equal(none.f1, 0);
    const noPos = metricsAtThreshold([1, 2], [0, 0], 5);
    assert.ok(Number.isNaN(noPos.recall) && Number.isNaN(noPos.f1));
  });

  test('precision@k counts a tie group at the cut whole: a count over real rows', () => {
    close(precisionAtK([3, 2, 2, 1], [1, 1, 0, 0], 1), 1);
    // Places 2 and 3 tie: both count, 2 of 3 rows.
    assert.deepEqual(precisionAtKRows([3, 2, 2, 1], [1, 1, 0, 0], 2), { k: 2, precision: 2 / 3, rows: 3 });
    close(precisionAtK([3, 2, 2, 1], [1, 1, 0, 0], 3), 2 / 3);
    close(precisionAtK([3, 2, 2, 1], [1, 1, 0, 0], 10), 0.5);
    assert.ok(Number.isNaN(precisionAtK([1], [1], 0)));
  });

  test('precision@k over k rows is always a whole number of hits out of the rows counted', () => {
    const rand = mulberry32(7);
    // Coarse scores tie often, as rank-based scorers' do.
    const s = Array.from({ length: 300 }, () => Math.round(rand() * 20) / 20);
    const y = s.map((v) => (rand() < v * 0.3 ? 1 : 0));
    for (const k of [1, 5, 10, 37, 100, 300]) {
      const p = precisionAtKRows(s, y, k);
      assert.ok(p.rows >= Math.min(k, 300));
      const hits = p.precision * p.rows;
      close(hits, Math.round(hits), 1e-9);
    }
  });

  test('evaluate lists precision@k in increasing k, once each', () => {
    const e = evaluate([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0], { ks: [3, 1, 3, 2] });
    assert.deepEqual(
      e.precisionAtK.map((p) => p.k),
      [1, 2, 3],
    );
  });
});

describe('curves', () => {
  test('ROC and PR points of a small case (as scikit-learn gives them)', () => {
    const s = [0.1, 0.4, 0.35, 0.8];
    const y = [0, 0, 1, 1];
    assert.deepEqual(
      rocCurve(s, y).map((p) => [p.fpr, p.tpr, p.threshold]),
      [
        [0, 0, Number.POSITIVE_INFINITY],
        [0, 0.5, 0.8],
        [0.5, 0.5, 0.4],
        [0.5, 1, 0.35],
        [1, 1, 0.1],
      ],
    );
    assert.deepEqual(
      prCurve(s, y).map((p) => [p.recall, p.precision, p.threshold]),
      [
        [0, 1, Number.POSITIVE_INFINITY],
        [0.5, 1, 0.8],
        [0.5, 0.5, 0.4],
        [1, 2 / 3, 0.35],
        [1, 0.5, 0.1],
      ],
    );
  });

  test('large curves are downsampled, keep their ends and stay monotone', () => {
    const r = mulberry32(9);
    const s = Array.from({ length: 5000 }, () => r());
    const y = s.map((v) => (r() < v * 0.3 ? 1 : 0));
    const roc = rocCurve(s, y, 200);
    assert.ok(roc.length <= 200 && roc.length > 50);
    assert.deepEqual([roc[0]!.fpr, roc[0]!.tpr], [0, 0]);
    assert.deepEqual([roc.at(-1)!.fpr, roc.at(-1)!.tpr], [1, 1]);
    for (let i = 1; i < roc.length; i++) {
      assert.ok(roc[i]!.fpr >= roc[i - 1]!.fpr && roc[i]!.tpr >= roc[i - 1]!.tpr);
    }
    const pr = prCurve(s, y, 100);
    assert.equal(pr.length, 100);
    assert.equal(pr.at(-1)!.recall, 1);
  });

  test('evaluate gathers everything and explains NaNs', () => {
    const e = evaluate([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], { threshold: 0.35, ks: [2] });
    close(e.rocAuc, 0.75);
    close(e.prAuc, 5 / 6);
    assert.equal(e.atThreshold!.f1, 0.5);
    assert.deepEqual(e.precisionAtK, [{ k: 2, precision: 0.5, rows: 2 }]);
    assert.deepEqual(e.notes, []);
    const bad = evaluate([1, 2], [0, 0], { threshold: 5 });
    assert.ok(Number.isNaN(bad.rocAuc) && Number.isNaN(bad.prAuc));
    assert.equal(bad.notes.length, 3);
    assert.match(bad.notes.join('\n'), /no anomalies among the 2 labels/);
    assert.match(bad.notes.join('\n'), /precision is undefined/);
  });
});

describe('per-scenario metrics', () => {
  test('each scenario against every normal row, recall from the flags', () => {
    // rows: normal 0.1, 0.5, 0.2; scan 0.9, 0.3; exfil 0.6; an unnamed anomaly 0.95
    const s = [0.1, 0.5, 0.2, 0.9, 0.3, 0.6, 0.95];
    const y = [0, 0, 0, 1, 1, 1, 1];
    const names = [undefined, undefined, undefined, 'scan', 'scan', 'exfil', undefined];
    const flags = s.map((x) => x > 0.55);
    const got = scenarioMetrics(s, y, names, flags);
    assert.deepEqual(
      got.map((x) => [x.scenario, x.events, x.recall]),
      [
        ['exfil', 1, 1],
        ['scan', 2, 0.5],
      ],
    );
    close(got[0]!.rocAuc, 1); // 0.6 above 0.1, 0.5, 0.2
    close(got[1]!.rocAuc, rocAuc([0.1, 0.5, 0.2, 0.9, 0.3], [0, 0, 0, 1, 1]));
    assert.equal(scenarioMetrics(s, y, names)[0]!.recall, null);
    assert.deepEqual(scenarioMetrics(s, y, new Array(7).fill(undefined)), []);
  });
});
