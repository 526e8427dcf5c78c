// Train/serve parity: the same spec encodes records identically in Node and in headless Chromium.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { flattenRecord } from '../../src/data/flatten.ts';
import {
  encodeRecord,
  extractRaw,
  type FittedSpec,
  fitSpec,
  numNumericalFeatures,
  serializeSpec,
} from '../../src/features/spec.ts';
import { FIXTURE_EVENTS } from '../fixtures/data/make-fixtures.ts';
import { LAKE_JSONL, LAKE_PARQUET } from '../fixtures/data/make-lake-parquet.ts';
import { ocsfLikeEvents } from '../fixtures/data/ocsf-like.ts';
import { type EntryPage, openEntryPage } from '../helpers/browser.ts';

const ENTRY = join(import.meta.dirname, 'browser-entry.ts');
const DATA = join(import.meta.dirname, '..', 'fixtures', 'data');

function nodeEncode(spec: FittedSpec, records: object[]) {
  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const num = new Float32Array(records.length * fn);
  const cat = new Int32Array(records.length * fc);
  for (const [i, r] of records.entries()) encodeRecord(spec, r, num, i * fn, cat, i * fc);
  return {
    numBits: Array.from(new Uint32Array(num.buffer)),
    cat: Array.from(cat),
    rawCat: records.map((r) => extractRaw(spec, r).cat),
  };
}

const EDGE_CASES: object[] = [
  {},
  { class_uid: '4002', http_response: { code: '200.0' }, message: 'Slow checkout processing: 99999ms' },
  { class_uid: 4002, time: 1709550000000, message: 'Ünïcödé user 😀 logged in from 192.168.0.1' },
  {
    'actor.user.name': 'alice',
    'traffic.bytes_in': '512',
    src_endpoint_ip: '10.0.0.1',
    time: '1709550000000',
  },
  { traffic: { bytes_in: 1e300, bytes_out: -5 }, duration: 0, http_request: { user_agent: '' } },
  {
    time: -1,
    http_request: { url: { path: '/api/orders/1/items/3f2a9c1e-1234-4abc-8def-0123456789ab?q=1' } },
  },
];

let page: EntryPage;
before(async () => {
  page = await openEntryPage(ENTRY, { dir: join(DATA, '..'), files: {} });
});
after(async () => {
  await page?.close();
});

test('train/serve: Node and headless Chromium produce identical tensors from the same spec', async () => {
  const train = ocsfLikeEvents(1500, 11);
  const serveSet = [...ocsfLikeEvents(400, 12), ...EDGE_CASES];
  for (const timeZone of ['UTC', 'America/New_York']) {
    const spec = fitSpec(train, { timeZone, columns: { 'src_endpoint.ip': { hashBuckets: 32 } } });
    const json = serializeSpec(spec);
    const node = nodeEncode(spec, serveSet);
    const web = await page.call<ReturnType<typeof nodeEncode>>('encodeAll', json, serveSet);
    assert.deepEqual(web.rawCat, node.rawCat, `stage 1 strings (${timeZone})`);
    assert.deepEqual(web.cat, node.cat, `categorical ids (${timeZone})`);
    assert.deepEqual(web.numBits, node.numBits, `numerical float32 bits (${timeZone})`);
  }
});

test('the portable readers give the same records in the browser (gzip JSONL, Parquet, Arrow)', async () => {
  const names = [
    'events.jsonl.gz',
    'events.json',
    'events-json-columns.parquet',
    'events-flat.parquet',
    'events.arrow',
  ];
  const got = await page.call<Record<string, unknown>[][]>('parseFiles', names);
  const expected = FIXTURE_EVENTS.map(flattenRecord);
  got.forEach((records, i) => {
    assert.deepEqual(records, expected, names[i]);
  });
});

test('ZSTD and LZ4 Parquet written by DuckDB read in the browser to the records of their JSONL', async () => {
  const names = [LAKE_JSONL, LAKE_PARQUET.zstd, LAKE_PARQUET.lz4];
  const [jsonl, ...parquet] = await page.call<Record<string, unknown>[][]>('parseFiles', names);
  const lines = readFileSync(join(DATA, LAKE_JSONL), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  assert.deepEqual(
    jsonl,
    lines.map((l) => flattenRecord(JSON.parse(l) as object)),
    'JSONL in the browser',
  );
  parquet.forEach((records, i) => {
    assert.deepEqual(records, jsonl, names[i + 1]);
  });
});
