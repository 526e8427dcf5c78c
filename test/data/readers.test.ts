// Readers: JSONL (plain and gzip), JSON, Parquet (nested and flattened) and Arrow give the same records.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { flattenRecord } from '../../src/data/flatten.ts';
import { parseArrow, parseEventBytes, parseJsonl, parseParquet } from '../../src/data/parse.ts';
import { readEvents } from '../../src/data/readers.node.ts';
import { loadEvents } from '../../src/dataset/load.node.ts';
import { FIXTURE_EVENTS } from '../fixtures/data/make-fixtures.ts';
import { LAKE_JSONL, LAKE_PARQUET } from '../fixtures/data/make-lake-parquet.ts';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'data');
const FILES = [
  'events.jsonl.gz',
  'events.json',
  'events-json-columns.parquet',
  'events-flat.parquet',
  'events.arrow',
];
const EXPECTED = FIXTURE_EVENTS.map(flattenRecord);

async function readAll(path: string) {
  const out: { record: object; source: { file: string; line?: number; row?: number } }[] = [];
  for await (const e of readEvents([path])) out.push(e);
  return out;
}

for (const name of FILES) {
  test(`${name} yields the fixture events, flattened identically, in order`, async () => {
    const got = await readAll(join(DIR, name));
    assert.equal(got.length, EXPECTED.length);
    for (const [i, e] of got.entries()) assert.deepEqual(flattenRecord(e.record), EXPECTED[i], `record ${i}`);
    const unit = name.startsWith('events.jsonl') ? 'line' : 'row';
    got.forEach((e, i) => {
      assert.equal(e.source.file, join(DIR, name));
      assert.equal(e.source[unit], unit === 'line' ? i + 1 : i);
    });
  });
}

test('flattened Parquet columns map onto OCSF paths (actor_user_name -> actor.user.name)', async () => {
  const got = await readAll(join(DIR, 'events-flat.parquet'));
  const rec = got[0]!.record as Record<string, unknown>;
  assert.equal(rec['actor.user.name'], 'alice');
  assert.equal(rec['http_request.url.path'], '/api/orders/83421');
  assert.equal(rec.class_uid, 4002);
});

test('a directory and a glob expand to their event files in sorted order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-read-'));
  const lines = FIXTURE_EVENTS.map((e) => JSON.stringify(e));
  writeFileSync(join(dir, 'b.jsonl'), `${lines.slice(2).join('\n')}\n`);
  writeFileSync(join(dir, 'a.ndjson'), `${lines.slice(0, 2).join('\n')}\n`);
  writeFileSync(join(dir, 'notes.txt'), 'not events');
  const loaded = await loadEvents([dir]);
  assert.deepEqual(loaded.records.map(flattenRecord), EXPECTED);
  assert.deepEqual(loaded.summary.skippedFiles, [join(dir, 'notes.txt')]);
  assert.deepEqual(
    loaded.sources.map((s) => [s.file.slice(dir.length + 1), s.line]),
    [
      ['a.ndjson', 1],
      ['a.ndjson', 2],
      ['b.jsonl', 1],
      ['b.jsonl', 2],
    ],
  );
  const globbed = await loadEvents([join(dir, '*.jsonl')]);
  assert.equal(globbed.records.length, 2);
});

test('JSONL streams in bounded batches and keeps line numbers across chunk boundaries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-read-'));
  const n = 20_000;
  const text = Array.from({ length: n }, (_, i) =>
    JSON.stringify({ class_uid: 1, i, pad: 'x'.repeat(i % 97) }),
  ).join('\n');
  writeFileSync(join(dir, 'big.jsonl'), `\n${text}\n`);
  let i = 0;
  for await (const e of readEvents([join(dir, 'big.jsonl')])) {
    assert.equal((e.record as { i: number }).i, i);
    assert.equal(e.source.line, i + 2);
    i++;
  }
  assert.equal(i, n);
});

test('portable parsers read the same records from bytes', async () => {
  const jsonl = gunzipSync(readFileSync(join(DIR, 'events.jsonl.gz'))).toString('utf8');
  assert.deepEqual(parseJsonl(jsonl).records.map(flattenRecord), EXPECTED);
  const pq = readFileSync(join(DIR, 'events-json-columns.parquet'));
  const parsed = await parseParquet(
    pq.buffer.slice(pq.byteOffset, pq.byteOffset + pq.byteLength) as ArrayBuffer,
  );
  assert.deepEqual(parsed.records.map(flattenRecord), EXPECTED);
  const arrow = await parseArrow(new Uint8Array(readFileSync(join(DIR, 'events.arrow'))));
  assert.deepEqual(arrow.records.map(flattenRecord), EXPECTED);
  for (const name of FILES) {
    const r = await parseEventBytes(name, new Uint8Array(readFileSync(join(DIR, name))));
    assert.deepEqual(r.records.map(flattenRecord), EXPECTED, name);
  }
});

test('ZSTD and LZ4 Parquet written by DuckDB yield the records of the JSONL they were written from', async () => {
  const expected = (await readAll(join(DIR, LAKE_JSONL))).map((e) => flattenRecord(e.record));
  assert.ok(expected.length > 0);
  for (const name of Object.values(LAKE_PARQUET)) {
    const got = (await readAll(join(DIR, name))).map((e) => flattenRecord(e.record));
    assert.equal(got.length, expected.length, name);
    got.forEach((r, i) => {
      assert.deepEqual(r, expected[i], `${name} record ${i}`);
    });
  }
});
