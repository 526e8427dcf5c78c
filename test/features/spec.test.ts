// Feature spec inference, overrides, JSON round trip and encoding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import { flattenRecord } from '../../src/data/flatten.ts';
import {
  categoricalColumns,
  encodeRaw,
  encodeRecord,
  extractRaw,
  type FittedSpec,
  fitSpec,
  fnv1a32,
  indicatorColumns,
  logTemplate,
  MISSING_ID,
  numericalColumns,
  numNumericalFeatures,
  parseSpec,
  parseSpecOptions,
  rawCategorical,
  rawNumerical,
  SpecFitter,
  serializeSpec,
  specTable,
  TIME_PARTS,
  type TimePart,
  timePart,
  UNKNOWN_ID,
  urlTemplate,
} from '../../src/features/spec.ts';
import { ocsfLikeEvents } from '../fixtures/data/ocsf-like.ts';

const EVENTS = ocsfLikeEvents(2000, 7);
const SPEC = fitSpec(EVENTS);

function encodeAll(spec: FittedSpec, records: object[]) {
  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const num = new Float32Array(records.length * fn);
  const cat = new Int32Array(records.length * fc);
  for (const [i, r] of records.entries()) encodeRecord(spec, r, num, i * fn, cat, i * fc);
  return { num, cat };
}

function catId(spec: FittedSpec, record: object, name: string): number {
  const { cat } = encodeAll(spec, [record]);
  const j = rawCategorical(spec).indexOf(name);
  assert.ok(j >= 0, `no categorical column ${name}`);
  return cat[j]!;
}

test('inference picks OCSF-aware columns and types from generated-like events', () => {
  const cat = new Map(SPEC.categorical.map((c) => [c.name, c]));
  const num = new Map(SPEC.numerical.map((n) => [n.name, n]));
  const dropped = new Map(SPEC.dropped.map((d) => [d.name, d.reason]));
  for (const name of [
    'class_uid',
    'severity_id',
    'status_id',
    'type_uid',
    'category_uid',
    'auth_protocol_id',
  ]) {
    assert.equal(cat.get(name)?.source.kind, 'value', name);
  }
  for (const name of [
    'http_response.code',
    'dst_endpoint.port',
    'http_request.http_method',
    'actor.user.name',
    'is_mfa',
  ]) {
    assert.ok(cat.has(name), name);
  }
  assert.equal(cat.get('message')?.source.kind, 'template');
  assert.equal(cat.get('http_request.url.path')?.source.kind, 'url');
  assert.equal(cat.get('time:hour')?.source.kind, 'time');
  assert.equal(cat.get('time:day_of_week')?.source.kind, 'time');
  for (const name of ['traffic.bytes_in', 'traffic.bytes_out', 'duration', 'http_response.latency']) {
    assert.equal(num.get(name)?.log1p, true, name);
  }
  for (const name of [
    'time:hour_sin',
    'time:hour_cos',
    'time:dow_sin',
    'time:dow_cos',
    'time:is_weekend',
    'time:is_business_hours',
    'traffic:bytes_total',
    'traffic:bytes_per_second',
    'traffic:upload_ratio',
    'http_request:has_user_agent',
    'http_request:user_agent_length',
  ]) {
    assert.ok(num.has(name), name);
  }
  assert.match(dropped.get('metadata.uid')!, /event id/);
  assert.equal(dropped.get('metadata.version'), 'constant');
  assert.equal(dropped.get('activity_id'), 'constant');
  assert.equal(dropped.get('class_name'), 'caption of class_uid');
  assert.equal(dropped.get('status'), 'caption of status_id');
  assert.match(dropped.get('src_endpoint.port')!, /one value per row/);
  assert.match(dropped.get('time')!, /time:\* features/);
  assert.equal(SPEC.rows, 2000);
  assert.equal(num.get('traffic.bytes_in')!.indicator, true);
  assert.equal(num.get('time:hour_sin')!.indicator, false);
});

test('the spec table lists every input and every dropped path', () => {
  const table = specTable(SPEC);
  for (const c of SPEC.categorical) assert.ok(table.includes(c.name), c.name);
  for (const n of SPEC.numerical) assert.ok(table.includes(n.name), n.name);
  for (const d of SPEC.dropped) assert.ok(table.includes(d.reason), d.reason);
  assert.match(table, /^Feature spec: \d+ categorical, \d+ numerical/);
});

test('log templates and URL templates put variants in one category', () => {
  assert.equal(logTemplate('Slow checkout processing: 3456ms'), 'Slow checkout processing: <num>ms');
  assert.equal(
    logTemplate('Slow checkout processing: 3456ms'),
    logTemplate('Slow checkout processing: 4120ms'),
  );
  assert.equal(
    logTemplate(
      'User "bob" from 10.0.0.12:5543 id=3f2a9c1e-1234-4abc-8def-0123456789ab req 0x7ffe1234 deadbeef00',
    ),
    'User "<*>" from <ip> id=<uuid> req <hex> <hex>',
  );
  assert.equal(urlTemplate('/api/orders/83421'), '/api/orders/{id}');
  assert.equal(
    urlTemplate('/api/v1/users/3f2a9c1e-1234-4abc-8def-0123456789ab/cart?x=1#top'),
    '/api/v1/users/{id}/cart',
  );
  assert.equal(urlTemplate('https://shop.example.com/p/1234567890abc'), 'https://shop.example.com/p/{id}');
  const slow = (ms: number) => ({ ...EVENTS[0]!, message: `Slow checkout processing: ${ms}ms` });
  assert.equal(catId(SPEC, slow(3456), 'message'), catId(SPEC, slow(4120), 'message'));
  assert.ok(catId(SPEC, slow(3456), 'message') >= 2);
  const path = (p: string) => ({ ...EVENTS[0]!, http_request: { url: { path: p } } });
  assert.equal(
    catId(SPEC, path('/api/orders/1'), 'http_request.url.path'),
    catId(SPEC, path('/api/orders/99999'), 'http_request.url.path'),
  );
});

test('values are normalised consistently: 200 == "200" == 200.0, null == absent == "" -> MISSING, unseen -> UNKNOWN', () => {
  const withCode = (code: unknown) => ({ class_uid: 4002, http_response: { code } });
  const id = catId(SPEC, withCode(200), 'http_response.code');
  assert.ok(id >= 2);
  assert.equal(catId(SPEC, withCode('200'), 'http_response.code'), id);
  assert.equal(catId(SPEC, withCode('200.0'), 'http_response.code'), id);
  assert.equal(catId(SPEC, withCode(null), 'http_response.code'), MISSING_ID);
  assert.equal(catId(SPEC, withCode(''), 'http_response.code'), MISSING_ID);
  assert.equal(catId(SPEC, { class_uid: 4002 }, 'http_response.code'), MISSING_ID);
  assert.equal(catId(SPEC, withCode(299), 'http_response.code'), UNKNOWN_ID);
  assert.deepEqual(
    extractRaw(SPEC, withCode(200.0)).cat[rawCategorical(SPEC).indexOf('http_response.code')],
    '200',
  );
});

test('encoding contract: stage 1 + stage 2 = encodeRecord; sizes, reserved ids, mask id, indicators', () => {
  const fn = numNumericalFeatures(SPEC);
  assert.equal(fn, numericalColumns(SPEC).length + indicatorColumns(SPEC).length);
  const cols = categoricalColumns(SPEC);
  for (const c of cols) assert.equal(c.cardinality, c.vocabulary.length + 3);
  const { num, cat } = encodeAll(SPEC, EVENTS);
  for (let i = 0; i < cat.length; i++) {
    const c = cols[i % cols.length]!;
    assert.ok(cat[i]! >= 0 && cat[i]! < c.cardinality - 1, 'never the MASK id');
  }
  assert.ok(num.every(Number.isFinite));
  for (const r of EVENTS.slice(0, 50)) {
    const raw = extractRaw(SPEC, r);
    assert.equal(raw.cat.length, rawCategorical(SPEC).length);
    assert.equal(raw.num.length, rawNumerical(SPEC).length);
    const a = { num: new Float32Array(fn), cat: new Int32Array(cols.length) };
    encodeRaw(SPEC, raw, a.num, 0, a.cat, 0);
    const b = encodeAll(SPEC, [r]);
    assert.deepEqual(a.num, b.num);
    assert.deepEqual(a.cat, b.cat);
  }
  const auth = EVENTS.find((e) => e.class_uid === 3002)!;
  const raw = extractRaw(SPEC, auth);
  const j = rawNumerical(SPEC).indexOf('traffic.bytes_in');
  assert.ok(Number.isNaN(raw.num[j]!));
  const enc = encodeAll(SPEC, [auth]).num;
  assert.equal(enc[j], 0, 'missing numericals are imputed with the mean (0 after scaling)');
  const t = indicatorColumns(SPEC).indexOf(j);
  assert.equal(enc[numericalColumns(SPEC).length + t], 1, 'is-missing indicator set');
  const http = EVENTS.find((e) => e.class_uid === 4002)!;
  assert.equal(encodeAll(SPEC, [http]).num[numericalColumns(SPEC).length + t], 0);
  const mean = SPEC.numerical[j]!.mean;
  const std = SPEC.numerical[j]!.std;
  const x = Math.log1p((http.traffic as { bytes_in: number }).bytes_in);
  assert.equal(encodeAll(SPEC, [http]).num[j], Math.fround(Math.fround(Math.fround(x) - mean) / std));
});

test('nested, dotted-key and underscore-flattened records encode identically', () => {
  for (const r of EVENTS.slice(0, 200)) {
    const flat = flattenRecord(r);
    const underscored: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(flat)) underscored[k.replaceAll('.', '_')] = v;
    const mixed = { ...r, 'traffic.bytes_in': undefined };
    const a = encodeAll(SPEC, [r]);
    assert.deepEqual(encodeAll(SPEC, [flat]), a);
    assert.deepEqual(encodeAll(SPEC, [mixed]), a);
    const u = encodeAll(SPEC, [underscored]);
    const catNames = rawCategorical(SPEC);
    catNames.forEach((name, j) => {
      if (!name.includes('[0]') && !name.includes('.count')) assert.equal(u.cat[j], a.cat[j], name);
    });
  }
});

test('the spec JSON round-trips exactly and gives identical encodings', () => {
  const text = serializeSpec(SPEC);
  const back = parseSpec(text);
  assert.deepEqual(back, SPEC);
  assert.equal(serializeSpec(back), text);
  const a = encodeAll(SPEC, EVENTS);
  const b = encodeAll(back, EVENTS);
  assert.deepEqual(new Uint8Array(a.num.buffer), new Uint8Array(b.num.buffer));
  assert.deepEqual(a.cat, b.cat);
  assert.throws(() => parseSpec('{"version": 2}'), UserError);
  assert.throws(() => parseSpec('not json'), /not valid JSON/);
});

test('an overrides file is honoured', () => {
  const options = parseSpecOptions(
    JSON.parse(`{
      "timeZone": "America/New_York",
      "exclude": ["actor.**", "observables*.**"],
      "include": ["metadata.uid"],
      "columns": {
        "metadata.uid": { "hashBuckets": 64 },
        "message": { "type": "drop" },
        "http_response.latency": { "log1p": false, "indicator": false },
        "severity_id": { "type": "numerical" },
        "time:hour_sin": { "type": "drop" },
        "src_endpoint.ip": { "topK": 3, "minCount": 1 },
        "custom.field": { "type": "categorical" }
      },
      "categorical": { "topK": 5 },
      "numerical": { "indicators": "all" },
      "derived": { "network": false }
    }`),
  );
  const spec = fitSpec(EVENTS, options);
  const cat = new Map(spec.categorical.map((c) => [c.name, c]));
  const num = new Map(spec.numerical.map((n) => [n.name, n]));
  assert.equal(spec.timeZone, 'America/New_York');
  assert.ok(
    ![...cat.keys(), ...num.keys()].some((n) => n.startsWith('actor.') || n.startsWith('observables')),
  );
  assert.equal(cat.get('metadata.uid')?.hashBuckets, 64);
  assert.equal(cat.get('metadata.uid')?.vocabulary.length, 64);
  assert.equal(cat.has('message'), false);
  assert.equal(num.get('http_response.latency')?.log1p, false);
  assert.equal(num.get('http_response.latency')?.indicator, false);
  assert.equal(num.has('severity_id'), true);
  assert.equal(cat.has('severity_id'), false);
  assert.equal(num.has('time:hour_sin'), false);
  assert.equal(num.has('time:hour_cos'), true);
  assert.equal(cat.get('src_endpoint.ip')?.vocabulary.length, 3);
  assert.ok(cat.get('http_request.http_method')!.vocabulary.length <= 5);
  assert.ok(cat.has('custom.field'), 'a named column absent from the data is kept as asked');
  assert.equal(num.has('traffic:bytes_total'), false);
  assert.ok([...num.values()].filter((n) => n.name !== 'http_response.latency').every((n) => n.indicator));
  const dropped = new Map(spec.dropped.map((d) => [d.name, d.reason]));
  assert.equal(dropped.get('message'), 'dropped by the spec file');
  assert.equal(dropped.get('actor.user.name'), 'excluded by the spec file');
  assert.throws(() => parseSpecOptions({ colums: {} }), /unknown key "colums"/);
  assert.throws(
    () => parseSpecOptions({ columns: { x: { type: 'text' } } }),
    /columns\.x"\.type must be one of/,
  );
  assert.throws(() => fitSpec(EVENTS, { timeZone: 'Mars/Olympus' }), /Unknown time zone/);
});

test('includeOnly keeps only the named columns; constant forced columns never divide by zero', () => {
  const spec = fitSpec(EVENTS, {
    includeOnly: true,
    include: ['class_uid', 'metadata.version'],
    columns: { 'observables.count': { type: 'numerical' } },
    derived: { time: false, network: false },
  });
  assert.deepEqual(rawCategorical(spec), ['class_uid', 'metadata.version']);
  assert.deepEqual(rawNumerical(spec), ['observables.count']);
  const n = spec.numerical[0]!;
  assert.equal(n.stats.fittedStd, 0);
  assert.equal(n.std, 1);
  const { num } = encodeAll(spec, EVENTS.slice(0, 100));
  assert.ok(num.every(Number.isFinite));
});

test('time features in UTC and in a time zone (with DST)', () => {
  const mondayMorning = Date.UTC(2024, 2, 4, 8, 30);
  assert.equal(timePart(mondayMorning, 'hour', 'UTC'), 8);
  assert.equal(timePart(mondayMorning, 'day_of_week', 'UTC'), 0);
  assert.equal(timePart(mondayMorning, 'is_business_hours', 'UTC'), 0);
  assert.equal(timePart(mondayMorning, 'hour', 'America/New_York'), 3);
  const summer = Date.UTC(2024, 6, 6, 12, 0);
  assert.equal(timePart(summer, 'hour', 'America/New_York'), 8);
  assert.equal(timePart(summer, 'day_of_week', 'UTC'), 5);
  assert.equal(timePart(summer, 'is_weekend', 'UTC'), 1);
  assert.equal(timePart(Date.UTC(2024, 2, 4, 0, 30), 'day_of_week', 'America/New_York'), 6);
  assert.equal(timePart(Date.UTC(2024, 2, 4, 12), 'hour', 'Asia/Kolkata'), 17);
  assert.ok(Math.abs(timePart(Date.UTC(2024, 2, 4, 6), 'hour_sin', 'UTC') - 1) < 1e-12);
  assert.ok(Number.isNaN(timePart(Number.NaN, 'hour', 'UTC')));
});

test('a time in epoch seconds is that instant; a time out of range has no time features', () => {
  const ms = Date.UTC(2024, 2, 4, 8, 30, 15);
  const outOfRange = [0, -1, -1.7e12, Date.UTC(2100, 0, 1), 8.64e15 + 1, 1e17, Number.MAX_VALUE];
  for (const tz of ['UTC', 'Europe/Berlin']) {
    for (const part of Object.keys(TIME_PARTS) as TimePart[]) {
      assert.equal(timePart(ms / 1000, part, tz), timePart(ms, part, tz), `${part} in ${tz}`);
      for (const t of outOfRange) assert.ok(Number.isNaN(timePart(t, part, tz)), `${part} of ${t} in ${tz}`);
    }
  }
  // Through the encoding: seconds encode as the same instant in ms, an out-of-range time as a missing one.
  const spec = fitSpec(EVENTS, { timeZone: 'Europe/Berlin' });
  assert.ok(rawCategorical(spec).includes('time:hour'), 'the spec has time features');
  const event = EVENTS[0] as { time: number };
  const withTime = (time: unknown) => encodeAll(spec, [{ ...event, time }]);
  assert.deepEqual(withTime(event.time / 1000), withTime(event.time));
  assert.deepEqual(withTime(String(event.time / 1000)), withTime(event.time));
  const { time: _, ...untimed } = event;
  for (const t of [1e17, -5, 0]) assert.deepEqual(withTime(t), encodeAll(spec, [untimed]), `time ${t}`);
});

test('FNV-1a 32 matches the published test vectors and hashing is stable', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  assert.equal(fnv1a32('é'), fnv1a32(String.fromCharCode(0xe9)));
  const spec = fitSpec(EVENTS, { columns: { 'src_endpoint.ip': { hashBuckets: 16 } } });
  const j = rawCategorical(spec).indexOf('src_endpoint.ip');
  const raw = extractRaw(spec, EVENTS[0]!).cat[j]!;
  const ip = (EVENTS[0]!.src_endpoint as { ip: string }).ip;
  assert.equal(raw, `#${fnv1a32(ip) % 16}`);
  assert.equal(catId(spec, EVENTS[0]!, 'src_endpoint.ip'), 2 + (fnv1a32(ip) % 16));
});

test('streaming fit: bounded sample and pruned counters keep the frequent values', () => {
  const records = Array.from({ length: 30_000 }, (_, i) => ({
    class_uid: 4002,
    user: { name: i % 3 === 0 ? 'frequent' : `rare-${i}` },
    duration: i % 100,
  }));
  const fitter = new SpecFitter({ sampleSize: 500, categorical: { maxTracked: 256, uniqueIds: 'hash' } });
  for (const r of records) fitter.add(r);
  const spec = fitter.finish();
  const user = spec.categorical.find((c) => c.name === 'user.name');
  assert.ok(user);
  assert.equal(spec.rows, 30_000);
  assert.equal(spec.sampleRows, 500);
  const plain = fitSpec(records, { sampleSize: 500, categorical: { maxTracked: 256 } });
  const u = plain.categorical.find((c) => c.name === 'user.name')!;
  assert.equal(u.vocabulary[0], 'frequent');
  const d = plain.numerical.find((n) => n.name === 'duration')!;
  const expected = Array.from({ length: 100 }, (_, k) => Math.log1p(k)).reduce((a, b) => a + b) / 100;
  assert.ok(Math.abs(d.mean - expected) < 1e-5);
});

test('statistics come only from the records given (the training split)', () => {
  const train = EVENTS.slice(0, 1000);
  const spec = fitSpec(train);
  const j = rawNumerical(spec).indexOf('http_response.latency');
  const xs = train.flatMap((e) => {
    const l = (e.http_response as { latency?: number } | undefined)?.latency;
    return l === undefined ? [] : [Math.log1p(l)];
  });
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.equal(spec.numerical[j]!.mean, Math.fround(mean));
  assert.equal(spec.numerical[j]!.stats.missing, 1000 - xs.length);
});

test('fitting nothing is a clear error', () => {
  assert.throws(() => fitSpec([]), /No events to fit/);
});
