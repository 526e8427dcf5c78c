// The consumer's file sinks: JSON lines rotate past their size and hold every row once; Parquet sinks
// write one complete part file per flush (no temporary file left), readable with the rows in order.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import type { ScoreRow } from '../../src/io/writers.node.ts';
import { JsonlFileSink, ParquetPartSink, scoreLines } from '../../src/stream/sinks.node.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-sinks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rows = (from: number, n: number): ScoreRow[] =>
  Array.from({ length: n }, (_, i) => ({
    uid: `e${from + i}`,
    score: (from + i) / 1000,
    threshold: 0.9,
    is_anomaly: false,
    nearest: ['r1', 'r2'],
  }));

test('JSON-lines files rotate past --rotate and hold every row once, in order', async () => {
  const out = join(dir, 'jsonl');
  const sink = new JsonlFileSink('scores', out, 'scores', 'w1', 2000, scoreLines);
  for (let b = 0; b < 10; b++) {
    await sink.write({ rows: rows(b * 20, 20), findings: [] });
    await sink.flush();
  }
  await sink.close();
  const files = readdirSync(out).sort();
  assert.ok(files.length > 1, `rotated into ${files.length} files`);
  assert.match(files[0]!, /^scores-w1-000001\.jsonl$/);
  const uids = files.flatMap((f) =>
    readFileSync(join(out, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { uid: string }).uid),
  );
  assert.deepEqual(
    uids,
    rows(0, 200).map((r) => r.uid),
  );
});

test('Parquet parts: one complete file per flush, nothing temporary left', async () => {
  const out = join(dir, 'parquet');
  const sink = new ParquetPartSink(out, 'w2', { 'ocsf-embed.run': 'first' });
  await sink.write({ rows: rows(0, 30), findings: [] });
  await sink.write({ rows: rows(30, 20), findings: [] });
  await sink.flush();
  await sink.flush();
  await sink.write({ rows: rows(50, 5), findings: [] });
  await sink.close();
  const files = readdirSync(out).sort();
  assert.deepEqual(files, ['scores-w2-000001.parquet', 'scores-w2-000002.parquet']);
  const read = async (f: string) =>
    (await parquetReadObjects({ file: await asyncBufferFromFile(join(out, f)) })) as { uid: string }[];
  assert.deepEqual(
    (await read(files[0]!)).map((r) => r.uid),
    rows(0, 50).map((r) => r.uid),
  );
  assert.deepEqual(
    (await read(files[1]!)).map((r) => r.uid),
    rows(50, 5).map((r) => r.uid),
  );
});
