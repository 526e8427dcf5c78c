// `ocsf-embed score`: k-NN scores equal a brute-force cosine k-NN computed here in plain TypeScript; the
// run's default scorer gives what `scoreAgainstRun` gives; every format holds the same rows in input order;
// --findings writes the flagged events as OCSF Detection Findings; `-` reads the events from standard input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parseCsv } from '../../src/cli/commands/eval-scores.ts';
import type { DetectionFinding } from '../../src/detect/findings.ts';
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { fitScorer, scorerToJSON } from '../../src/detect/scorer.ts';
import { loadEmbedder } from '../../src/embed/embedder.node.ts';
import type { ScoreRow } from '../../src/io/writers.node.ts';
import { loadRunScorer, scoreAgainstRun } from '../../src/run/scoring.node.ts';
import { assertOneLine, CLI, cli, makeRunFixture, type RunFixture, uidOf } from '../helpers/run-fixture.ts';

/** A row of `score`'s JSON lines. */
type Row = ScoreRow;

let fx: RunFixture;
let knnRun: string;
let queries: Record<string, unknown>[];
let queriesPath: string;

function readJsonl(path: string): Row[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
}

function scoreCli(run: string, out: string, ...extra: string[]) {
  const r = cli('score', queriesPath, '--model', run, '--out', out, '--device', 'cpu', ...extra);
  assert.equal(r.status, 0, r.stderr);
  return r;
}

before(async () => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-score-' });
  const fresh = join(fx.dir, 'fresh.jsonl');
  const g = cli('generate', '--events', '300', '--seed', '9', '--out', fresh, '--quiet');
  assert.equal(g.status, 0, g.stderr);
  const freshEvents = readFileSync(fresh, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  queries = [...freshEvents, ...fx.events.slice(0, 100)];
  queriesPath = join(fx.dir, 'queries.jsonl');
  writeFileSync(queriesPath, `${queries.map((e) => JSON.stringify(e)).join('\n')}\n`);
  knnRun = join(fx.dir, 'knn-run');
  cpSync(fx.runDir, knnRun, { recursive: true });
  const { reference, d } = loadRunScorer(knnRun);
  const scorer = await fitScorer(reference, d, { method: 'knn', k: 20 }, nodeKnnRuntime({ device: 'cpu' }));
  writeFileSync(join(knnRun, 'scorer.json'), JSON.stringify(scorerToJSON(scorer)));
});

after(() => fx?.cleanup());

test('k-NN scores, flags and nearest uids equal a brute-force cosine k-NN over the reference', async () => {
  const out = join(fx.dir, 'knn.jsonl');
  const r = scoreCli(knnRun, out, '--batch-size', '128');
  assert.match(
    r.stdout,
    /scored 400 events in [\d.]+ s \(\d+ events\/s\): \d+ flagged \([\d.]+%\) above the threshold [\d.]+ \(knn\)/,
  );
  const rows = readJsonl(out);
  assert.equal(rows.length, queries.length);

  const { reference, referenceUids: refUids, d, scorer } = loadRunScorer(knnRun);
  const n = reference.length / d;
  const refRow = new Map(refUids.map((u, i) => [u, i]));
  const { embedder } = await loadEmbedder(join(knnRun, 'model.onnx'), { device: 'cpu' });
  const q = await embedder.embed(queries);
  await embedder.release();
  const norm = (x: Float32Array, o: number) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[o + j]! * x[o + j]!;
    return Math.sqrt(s);
  };
  const distance = (i: number, r: number) => {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += q[i * d + j]! * reference[r * d + j]!;
    return Math.max(0, 1 - dot / (norm(q, i * d) * norm(reference, r * d)));
  };
  let flagged = 0;
  rows.forEach((row, i) => {
    assert.equal(row.uid, uidOf(queries[i]!));
    const all = Array.from({ length: n }, (_, r) => distance(i, r)).sort((a, b) => a - b);
    const expected = all.slice(0, scorer.k).reduce((a, b) => a + b, 0) / scorer.k;
    assert.ok(Math.abs(row.score - expected) < 2e-5, `row ${i}: ${row.score} vs brute force ${expected}`);
    assert.equal(row.threshold, scorer.threshold);
    if (Math.abs(expected - scorer.threshold) > 2e-5)
      assert.equal(row.is_anomaly, expected > scorer.threshold);
    assert.equal(row.nearest.length, 3);
    row.nearest.forEach((uid, j) => {
      const at = refRow.get(uid);
      assert.ok(at !== undefined, `nearest uid ${uid} is a reference uid`);
      assert.ok(Math.abs(distance(i, at) - all[j]!) < 2e-5, `row ${i} neighbour ${j}`);
    });
    if (row.is_anomaly) flagged++;
  });
  assert.match(r.stdout, new RegExp(`: ${flagged} flagged`));
});

test("the run's own scorer gives what scoreAgainstRun gives, whatever the batch size", async () => {
  const out = join(fx.dir, 'default.jsonl');
  scoreCli(fx.runDir, out);
  const small = join(fx.dir, 'small-batches.jsonl');
  scoreCli(fx.runDir, small, '--batch-size', '37');
  const { embedder } = await loadEmbedder(join(fx.runDir, 'model.onnx'), { device: 'cpu' });
  const expected = await scoreAgainstRun(fx.runDir, embedder, queries);
  await embedder.release();
  for (const rows of [readJsonl(out), readJsonl(small)]) {
    assert.equal(rows.length, queries.length);
    rows.forEach((row, i) => {
      assert.equal(row.uid, expected.uids[i]);
      assert.ok(
        Math.abs(row.score - expected.scores[i]!) < 1e-5,
        `row ${i}: ${row.score} vs ${expected.scores[i]}`,
      );
      assert.equal(row.threshold, expected.threshold);
      if (Math.abs(row.score - expected.threshold) > 1e-5)
        assert.equal(row.is_anomaly, expected.isAnomaly[i] === 1);
      assert.deepEqual(row.nearest, expected.nearest[i]);
    });
  }
});

test('--threshold-percentile moves the threshold among the reference scores and flags accordingly; bad values say what to pass', () => {
  const defaultOut = join(fx.dir, 'default-threshold.jsonl');
  scoreCli(fx.runDir, defaultOut);
  const base = readJsonl(defaultOut);
  const out = join(fx.dir, 'p99.jsonl');
  scoreCli(fx.runDir, out, '--threshold-percentile', '99');
  const rows = readJsonl(out);
  const { scorer } = loadRunScorer(fx.runDir);
  const sorted = Float64Array.from(scorer.referenceScores).sort();
  const h = (sorted.length - 1) * 0.99;
  const lo = Math.floor(h);
  const expected = sorted[lo]! + (h - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!);
  assert.ok(Math.abs(rows[0]!.threshold - expected) < 1e-6, `${rows[0]!.threshold} vs ${expected}`);
  assert.ok(rows[0]!.threshold > base[0]!.threshold);
  rows.forEach((row, i) => {
    assert.equal(row.score, base[i]!.score, 'the scores do not depend on the threshold');
    assert.equal(row.is_anomaly, row.score > row.threshold);
  });
  assert.ok(rows.filter((r) => r.is_anomaly).length < base.filter((r) => r.is_anomaly).length);
  for (const bad of ['100', '0', 'many']) {
    const r = cli(
      'score',
      queriesPath,
      '--model',
      fx.runDir,
      '--out',
      join(fx.dir, 'x.jsonl'),
      '--threshold-percentile',
      bad,
    );
    assertOneLine(r, /--threshold-percentile must be a number above 0 and below 100/);
  }
});

test('CSV and Parquet hold the same rows as JSON lines', async () => {
  const jsonl = readJsonl(join(fx.dir, 'default.jsonl'));
  const csvPath = join(fx.dir, 'scores.csv');
  const parquetPath = join(fx.dir, 'scores.parquet');
  scoreCli(fx.runDir, csvPath);
  scoreCli(fx.runDir, parquetPath);
  const [header, ...csv] = parseCsv(readFileSync(csvPath, 'utf8')).filter((r) => r.length > 1);
  assert.deepEqual(header, [
    'uid',
    'score',
    'threshold',
    'is_anomaly',
    'nearest_1',
    'nearest_2',
    'nearest_3',
    'why',
  ]);
  const buf = readFileSync(parquetPath);
  const parquet = (await parquetReadObjects({
    file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
  })) as Record<string, unknown>[];
  assert.equal(csv.length, jsonl.length);
  assert.equal(parquet.length, jsonl.length);
  jsonl.forEach((row, i) => {
    const c = csv[i]!;
    assert.deepEqual(
      [c[0], Number(c[1]), Number(c[2]), c[3] === 'true', c.slice(4, 7).filter(Boolean), c[7] ?? ''],
      [row.uid, row.score, row.threshold, row.is_anomaly, row.nearest, row.why],
    );
    const p = parquet[i]!;
    assert.equal(p.uid, row.uid);
    assert.ok(Math.abs((p.score as number) - row.score) < 1e-6);
    assert.equal(p.threshold, row.threshold);
    assert.equal(p.is_anomaly, row.is_anomaly);
    assert.deepEqual(
      [p.nearest_1, p.nearest_2, p.nearest_3].filter((x) => x !== null),
      row.nearest,
    );
    assert.equal(p.why, row.why);
  });
});

test('scoring needs a run directory, and says so', () => {
  const r = cli(
    'score',
    queriesPath,
    '--model',
    join(fx.runDir, 'model.onnx'),
    '--out',
    join(fx.dir, 'x.jsonl'),
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /scoring needs the run directory/);
  const noModel = cli('score', queriesPath, '--out', join(fx.dir, 'x.jsonl'));
  assert.equal(noModel.status, 2);
  assert.match(noModel.stderr, /--model runs\/first/);
  const badFormat = cli('score', queriesPath, '--model', fx.runDir, '--out', join(fx.dir, 'x.xlsx'));
  assert.equal(badFormat.status, 2);
  assert.match(badFormat.stderr, /\.jsonl, \.csv or \.parquet/);
});

test('--findings writes one OCSF Detection Finding per flagged event, carrying its uid, time and score', () => {
  const out = join(fx.dir, 'scores-f.jsonl');
  const findingsPath = join(fx.dir, 'findings.jsonl');
  const r = scoreCli(fx.runDir, out, '--findings', findingsPath);
  const rows = readJsonl(out);
  const flagged = rows.filter((row) => row.is_anomaly);
  assert.ok(flagged.length > 0, 'the fixture flags some events');
  assert.match(r.stdout, new RegExp(`${flagged.length} findings → `));
  const findings = readFileSync(findingsPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as DetectionFinding);
  assert.equal(findings.length, flagged.length);
  const modelId = createHash('sha256')
    .update(readFileSync(join(fx.runDir, 'model.onnx')))
    .digest('hex')
    .slice(0, 16);
  const byUid = new Map(queries.map((e) => [uidOf(e), e]));
  findings.forEach((f, i) => {
    const row = flagged[i]!;
    const event = byUid.get(row.uid!)!;
    assert.equal(f.class_uid, 2004);
    assert.equal(f.category_uid, 2);
    assert.equal(f.type_uid, f.class_uid * 100 + f.activity_id);
    assert.equal(f.finding_info.related_events[0]!.uid, row.uid);
    assert.equal(f.finding_info.uid, `${modelId}:${row.uid}`);
    assert.equal(f.finding_info.analytic.uid, modelId);
    assert.equal(f.finding_info.first_seen_time, event.time);
    assert.equal(Math.fround(f.unmapped.score), Math.fround(row.score));
    assert.equal(f.unmapped.threshold, row.threshold);
    assert.deepEqual(f.unmapped.nearest, row.nearest);
    assert.ok([2, 3, 4, 5].includes(f.severity_id));
  });
});

test('score and embed read JSON lines from standard input (-) as from the file; gzip there and train say what to do', () => {
  const fromFile = join(fx.dir, 'from-file.jsonl');
  scoreCli(fx.runDir, fromFile, '--quiet');
  const text = readFileSync(queriesPath, 'utf8');
  // spawnSync's input arrives on a socket pair, where opening /dev/stdin fails with ENXIO
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input: text, maxBuffer: 1 << 28 });
  const scored = run('score', '-', '--model', fx.runDir, '-o', '-', '--device', 'cpu', '--quiet');
  assert.equal(scored.status, 0, scored.stderr);
  assert.equal(scored.stdout, readFileSync(fromFile, 'utf8'));
  const embedFile = join(fx.dir, 'embed-file.jsonl');
  const embedStdin = join(fx.dir, 'embed-stdin.jsonl');
  const common = ['--model', fx.runDir, '--device', 'cpu', '--quiet'];
  assert.equal(cli('embed', queriesPath, '--out', embedFile, ...common).status, 0);
  const embedded = run('embed', '-', '--out', embedStdin, ...common);
  assert.equal(embedded.status, 0, embedded.stderr);
  assert.equal(readFileSync(embedStdin, 'utf8'), readFileSync(embedFile, 'utf8'));
  const gz = spawnSync(process.execPath, [CLI, 'score', '-', '--model', fx.runDir, '-o', '-'], {
    encoding: 'utf8',
    input: gzipSync(text),
    cwd: fx.dir,
  });
  assertOneLine(gz, /standard input is gzip data: decompress it first/);
  assert.ok(
    !existsSync(join(fx.dir, 'stdout.rejects.jsonl')),
    'a failed score leaves no rejects file behind',
  );
  const train = run('train', '-', '--out', join(fx.dir, 'from-stdin'));
  assertOneLine(train, /give event files, not - \(standard input\)/);
});
