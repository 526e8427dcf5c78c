// Bad input: every malformed line, wrong type, oversize value, empty or unknown file is rejected with a reason or one clear error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { UserError } from '../../src/core/errors.ts';
import { readEvents } from '../../src/data/readers.node.ts';
import { loadEvents, rejectUnfit } from '../../src/dataset/load.node.ts';
import { fitSpec } from '../../src/features/spec.ts';
import { ocsfLikeEvents } from '../fixtures/data/ocsf-like.ts';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'ocsf-bad-'));
}

function readRejects(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

const ok = (i: number) => JSON.stringify({ class_uid: 4002, time: 1709550000000 + i, message: `ok ${i}` });

async function rejectsFor(name: string, content: string | Uint8Array, limits = {}) {
  const dir = tmp();
  writeFileSync(join(dir, name), content);
  const rejectsPath = join(dir, 'rejects.jsonl');
  const loaded = await loadEvents([join(dir, name)], { rejectsPath, limits });
  return { loaded, rejects: readRejects(rejectsPath), file: join(dir, name) };
}

function assertAccounting(loaded: Awaited<ReturnType<typeof loadEvents>>, rejects: unknown[]): void {
  const s = loaded.summary;
  assert.equal(s.read, s.accepted + s.rejected);
  assert.equal(s.accepted, loaded.records.length);
  assert.equal(s.rejected, rejects.length);
  assert.equal(
    Object.values(s.byReason).reduce((a, b) => a + b, 0),
    s.rejected,
  );
}

test('malformed and non-object JSON lines go to the rejects file with line numbers', async () => {
  const text = [ok(1), '{"class_uid": 4002, "message": ', ok(2), '[1, 2]', '42', ok(3)].join('\n');
  const { loaded, rejects, file } = await rejectsFor('events.jsonl', text);
  assert.equal(loaded.records.length, 3);
  assert.deepEqual(
    rejects.map((r) => [r.file, r.line, r.reason]),
    [
      [file, 2, 'malformed_json'],
      [file, 4, 'not_an_object'],
      [file, 5, 'not_an_object'],
    ],
  );
  assert.deepEqual(loaded.summary.byReason, { malformed_json: 1, not_an_object: 2 });
  assert.deepEqual(
    loaded.sources.map((s) => s.line),
    [1, 3, 6],
  );
  assertAccounting(loaded, rejects);
});

test('text in a numeric field is rejected as wrong_type', async () => {
  const bad = JSON.stringify({ class_uid: 4002, traffic: { bytes_in: 'lots' } });
  const badFlat = JSON.stringify({ class_uid: 4002, dst_endpoint_port: 'https' });
  const { loaded, rejects } = await rejectsFor('events.jsonl', [ok(1), bad, badFlat].join('\n'));
  assert.equal(loaded.records.length, 1);
  assert.deepEqual(
    rejects.map((r) => [r.line, r.reason]),
    [
      [2, 'wrong_type'],
      [3, 'wrong_type'],
    ],
  );
  assert.match(String(rejects[0]!.detail), /traffic\.bytes_in should be a number/);
  assertAccounting(loaded, rejects);
});

test('with a spec, its custom numeric fields are checked too (on load and after fitting)', async () => {
  const spec = fitSpec(
    Array.from({ length: 50 }, (_, i) => ({ class_uid: 4002 + (i % 2), custom: { score: i * 1.5 } })),
    { columns: { 'custom.score': { type: 'numerical' } } },
  );
  const dir = tmp();
  const lines = [
    JSON.stringify({ class_uid: 4002, custom: { score: 3 } }),
    JSON.stringify({ class_uid: 4002, custom: { score: 'high' } }),
  ];
  writeFileSync(join(dir, 'e.jsonl'), lines.join('\n'));
  const rejectsPath = join(dir, 'rejects.jsonl');
  const withSpec = await loadEvents([join(dir, 'e.jsonl')], { spec, rejectsPath });
  assert.equal(withSpec.records.length, 1);
  assert.deepEqual(withSpec.summary.byReason, { wrong_type: 1 });

  const plain = await loadEvents([join(dir, 'e.jsonl')], { rejectsPath });
  assert.equal(plain.records.length, 2);
  const fitted = rejectUnfit(plain, spec);
  assert.equal(fitted.records.length, 1);
  assert.equal(fitted.summary.rejected, 1);
  assert.deepEqual(fitted.summary.byReason, { wrong_type: 1 });
  const rejects = readRejects(rejectsPath);
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]!.line, 2);
});

test('NaN and Infinity are rejected in JSONL and Parquet (or NaN read as missing when asked)', async () => {
  const text = [ok(1), '{"class_uid": 4002, "duration": NaN}', '{"traffic": {"bytes_in": -Infinity}}'].join(
    '\n',
  );
  const { loaded, rejects } = await rejectsFor('events.jsonl', text);
  assert.deepEqual(
    rejects.map((r) => [r.line, r.reason]),
    [
      [2, 'non_finite_number'],
      [3, 'non_finite_number'],
    ],
  );
  assertAccounting(loaded, rejects);

  const pq = parquetWriteBuffer({
    columnData: [
      { name: 'class_uid', data: [4002, 4002, 4002], type: 'INT32' },
      { name: 'duration', data: [12.5, Number.NaN, Number.POSITIVE_INFINITY], type: 'DOUBLE' },
    ],
  });
  const p = await rejectsFor('events.parquet', new Uint8Array(pq));
  assert.deepEqual(
    p.rejects.map((r) => [r.row, r.reason]),
    [
      [1, 'non_finite_number'],
      [2, 'non_finite_number'],
    ],
  );
  assertAccounting(p.loaded, p.rejects);
  const lenient = await rejectsFor('events.parquet', new Uint8Array(pq), { nanAsMissing: true });
  assert.equal(lenient.loaded.records.length, 2);
  assert.deepEqual(
    lenient.rejects.map((r) => r.row),
    [2],
  );
});

test('oversize records and strings are rejected without buffering them whole', async () => {
  const long = JSON.stringify({ class_uid: 4002, message: 'x'.repeat(5000) });
  const huge = JSON.stringify({ class_uid: 4002, message: 'y'.repeat(50_000) });
  const text = [ok(1), long, huge, ok(2)].join('\n');
  const { loaded, rejects } = await rejectsFor('events.jsonl', text, {
    maxStringLength: 1000,
    maxRecordBytes: 20_000,
  });
  assert.deepEqual(
    rejects.map((r) => [r.line, r.reason]),
    [
      [2, 'oversize_string'],
      [3, 'oversize_record'],
    ],
  );
  assert.match(String(rejects[0]!.detail), /message has 5000 characters/);
  assert.ok(String(rejects[1]!.text).length <= 201);
  assert.deepEqual(
    loaded.sources.map((s) => s.line),
    [1, 4],
  );
  assertAccounting(loaded, rejects);
});

test('empty files are reported; inputs with no events at all are an error', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'a.jsonl'), '');
  writeFileSync(join(dir, 'b.jsonl'), '\n  \n');
  writeFileSync(join(dir, 'c.json'), '[]');
  writeFileSync(join(dir, 'd.jsonl'), `${ok(1)}\n`);
  const loaded = await loadEvents([dir]);
  assert.equal(loaded.records.length, 1);
  assert.deepEqual(
    loaded.summary.emptyFiles.map((f) => f.slice(dir.length + 1)),
    ['a.jsonl', 'b.jsonl', 'c.json'],
  );
  await assert.rejects(loadEvents([join(dir, 'a.jsonl')]), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /No events found .*a\.jsonl.*check the paths/);
    return true;
  });
});

test('wrong or unknown file types give one clear error', async () => {
  const dir = tmp();
  const cases: [string, string | Uint8Array, RegExp][] = [
    ['events.csv', 'a,b\n1,2\n', /unsupported file type \.csv; use \.jsonl/],
    ['events.parquet', `${ok(1)}\n`, /is not a Parquet file .*check the file or its extension/],
    ['events.arrow', 'PAR1....', /not an Arrow IPC file .*name it \.parquet/],
    ['events.feather', 'FEA1xxxxxxxx', /Feather v1.*version=2/],
    ['events.jsonl.gz', `${ok(1)}\n`, /named \.gz but is not gzip data/],
    [
      'broken.parquet',
      'PAR1 this is not really parquet PAR1',
      /could not be read as Parquet .*not corrupted/,
    ],
    ['events.json', '{"a": 1,\n"b": ', /not valid JSON .*name it \.jsonl/],
    ['events.jsonl', 'PAR1abc', /is a Parquet file: name it \.parquet/],
  ];
  for (const [name, content, message] of cases) {
    writeFileSync(join(dir, name), content);
    await assert.rejects(loadEvents([join(dir, name)]), (e: Error) => {
      assert.ok(e instanceof UserError, `${name}: ${e}`);
      assert.match(e.message, message, name);
      return true;
    });
  }
  await assert.rejects(loadEvents([join(dir, 'missing.jsonl')]), /does not exist: check the path/);
  await assert.rejects(loadEvents([join(dir, 'nothing-*.jsonl')]), /No files match/);
});

test('gzip content is detected without the .gz name, and .json holding JSON lines is read as lines', async () => {
  const gz = await rejectsFor('events.jsonl', gzipSync(`${ok(1)}\n${ok(2)}\n`));
  assert.equal(gz.loaded.records.length, 2);
  const lines = await rejectsFor('events.json', `${ok(1)}\n${ok(2)}\n{broken\n`);
  assert.equal(lines.loaded.records.length, 2);
  assert.deepEqual(
    lines.rejects.map((r) => [r.line, r.reason]),
    [[3, 'malformed_json']],
  );
});

test('a Parquet file with none of the spec columns is an error; bad JSON columns are rejected per row', async () => {
  const spec = fitSpec(ocsfLikeEvents(200));
  const other = parquetWriteBuffer({
    columnData: [
      { name: 'foo', data: ['a', 'b'], type: 'STRING' },
      { name: 'bar', data: [1, 2], type: 'INT32' },
    ],
  });
  const dir = tmp();
  writeFileSync(join(dir, 'other.parquet'), new Uint8Array(other));
  await assert.rejects(loadEvents([join(dir, 'other.parquet')], { spec }), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /has none of the columns the feature spec reads .*its columns are foo, bar/);
    return true;
  });

  const badJson = parquetWriteBuffer({
    columnData: [
      { name: 'class_uid', data: [4002, 4002], type: 'INT32' },
      { name: 'actor', data: ['{"user": {"name": "alice"}}', '{"user": {"name": '], type: 'STRING' },
    ],
  });
  const r = await rejectsFor('bad-json.parquet', new Uint8Array(badJson));
  assert.equal(r.loaded.records.length, 1);
  assert.deepEqual(
    r.rejects.map((x) => [x.row, x.reason]),
    [[1, 'malformed_json_column']],
  );
});

test('readEvents without a reject handler stops at the first bad record with a clear error', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'e.jsonl'), `${ok(1)}\n{oops\n`);
  const seen: unknown[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of readEvents([join(dir, 'e.jsonl')])) seen.push(e);
    })(),
    (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /e\.jsonl line 2: malformed_json .*--rejects/);
      return true;
    },
  );
  assert.ok(seen.length <= 1);
});
