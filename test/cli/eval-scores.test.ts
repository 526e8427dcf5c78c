// `ocsf-embed eval-scores` on a small hand-made case whose metrics are worked out by hand, in every scores
// format, and its errors when nothing matches.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openScoreWriter, type ScoreRow } from '../../src/io/writers.node.ts';
import { cli } from '../helpers/run-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-eval-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Ranked by score: a(+) b c(+) d e f(+) g h; z has no label; q is a label without a score.
const SCORES: [string, number][] = [
  ['a', 0.9],
  ['b', 0.8],
  ['c', 0.7],
  ['d', 0.6],
  ['e', 0.5],
  ['f', 0.4],
  ['g', 0.3],
  ['h', 0.2],
  ['z', 0.95],
];
const ANOMALIES = new Set(['a', 'c', 'f']);
const THRESHOLD = 0.55;

const labelsPath = join(dir, 'labels.jsonl');
writeFileSync(
  labelsPath,
  `${[...'abcdefghq'].map((uid) => JSON.stringify({ uid, is_anomaly: ANOMALIES.has(uid) })).join('\n')}\n`,
);

const rows: ScoreRow[] = SCORES.map(([uid, score]) => ({
  uid,
  score,
  threshold: THRESHOLD,
  is_anomaly: score > THRESHOLD,
  nearest: ['r1', 'r2'],
}));

async function writeScores(format: 'jsonl' | 'csv' | 'parquet'): Promise<string> {
  const path = join(dir, `scores.${format}`);
  const w = openScoreWriter(path, format);
  await w.write(rows);
  await w.close();
  return path;
}

function check(e: Record<string, unknown> & { atThreshold: Record<string, number> }) {
  assert.equal(e.matched, 8);
  assert.equal(e.unlabelled, 1);
  assert.equal(e.labelsUnused, 1);
  assert.equal(e.rows, 8);
  assert.equal(e.anomalies, 3);
  // a outranks 5 normal events, c 4, f 2: 11 of 15 pairs.
  assert.ok(Math.abs((e.rocAuc as number) - 11 / 15) < 1e-12);
  // Precision at each anomaly: 1/1, 2/3, 3/6.
  assert.ok(Math.abs((e.prAuc as number) - (1 + 2 / 3 + 1 / 2) / 3) < 1e-12);
  const at = e.atThreshold;
  assert.deepEqual([at.threshold, at.tp, at.fp, at.fn, at.tn], [THRESHOLD, 2, 2, 1, 3]);
  assert.equal(at.precision, 0.5);
  assert.ok(Math.abs(at.recall - 2 / 3) < 1e-12);
  assert.ok(Math.abs(at.f1 - 4 / 7) < 1e-12);
  assert.deepEqual(e.precisionAtK, [
    { k: 1, precision: 1, rows: 1 },
    { k: 3, precision: 2 / 3, rows: 3 },
    { k: 5, precision: 2 / 5, rows: 5 },
  ]);
}

for (const format of ['jsonl', 'csv', 'parquet'] as const) {
  test(`metrics of a hand-made ${format} scores file equal the ones worked out by hand`, async () => {
    const scores = await writeScores(format);
    const out = join(dir, `eval-${format}.json`);
    const plots = join(dir, `plots-${format}`);
    const r = cli(
      'eval-scores',
      scores,
      '--labels',
      labelsPath,
      '--out',
      out,
      '--plots',
      plots,
      '--k',
      '1,3,5',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /matched 8 scored events to labels \(1 without a label, 1 labels without a score\)/,
    );
    assert.match(r.stdout, /ROC-AUC\s+0\.7333/);
    assert.match(r.stdout, /PR-AUC \(AP\)\s+0\.7222/);
    assert.match(
      r.stdout,
      /at threshold 0\.5500: precision 0\.5000, recall 0\.6667, F1 0\.5714 \(tp 2, fp 2, fn 1, tn 3\)/,
    );
    assert.match(r.stdout, /precision@3\s+0\.6667/);
    check(JSON.parse(readFileSync(out, 'utf8')));
    for (const name of ['roc.svg', 'pr.svg']) {
      const svg = readFileSync(join(plots, name), 'utf8');
      assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.match(svg, /<path|<polyline/);
    }
  });
}

test('--threshold overrides the threshold in the file', async () => {
  const scores = await writeScores('jsonl');
  const r = cli('eval-scores', scores, '--labels', labelsPath, '--threshold', '0.35');
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /at threshold 0\.3500: precision 0\.5000, recall 1\.0000, F1 0\.6667 \(tp 3, fp 3, fn 0, tn 2\)/,
  );
});

test('no uid in common with the labels is a clear error, exit code 2', async () => {
  const scores = await writeScores('jsonl');
  const other = join(dir, 'other-labels.jsonl');
  writeFileSync(other, '{"uid": "x1", "is_anomaly": true}\n{"uid": "x2", "is_anomaly": false}\n');
  const r = cli('eval-scores', scores, '--labels', other);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /none of the 9 scored uids appears in .*other-labels\.jsonl \(2 labels; first scored uid "a", first label uid "x1"\)/,
  );
  assert.match(r.stderr, /give the labels of the events that were scored/);
});

test('missing --labels, a bad --k or an unreadable scores file say what to type', () => {
  const scores = join(dir, 'scores.jsonl');
  const cases: [string[], RegExp][] = [
    [['eval-scores', scores], /--labels events\.labels\.jsonl/],
    [['eval-scores', scores, '--labels', labelsPath, '--k', 'ten'], /--k 10,100,500/],
    [['eval-scores', join(dir, 'missing.jsonl'), '--labels', labelsPath], /cannot read the scores file/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
  }
  assert.ok(!existsSync(join(dir, 'eval.json')));
});
