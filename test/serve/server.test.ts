// The HTTP service in-process on a tiny real run: /score and /embed answers equal direct scoring and
// embedding; bad requests get the right status and a field-level message, and the service keeps serving;
// /health and /metrics formats; concurrent single-event requests are micro-batched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { LoadedModel } from '../../src/run/model.node.ts';
import { scoreAgainstRun } from '../../src/run/scoring.node.ts';
import { ScorePool } from '../../src/serve/score-pool.node.ts';
import { type RunningServer, startServer } from '../../src/serve/server.node.ts';
import { OTLP_ATTRIBUTE_BODY, SHIPPER_BODIES, shipperEvents } from '../fixtures/shippers/make-bodies.ts';
import { makeRunFixture, type RunFixture, uidOf } from '../helpers/run-fixture.ts';

const SHIPPERS = join(import.meta.dirname, '..', 'fixtures', 'shippers');

let fx: RunFixture;
let service: RunningServer;
let modelOnly: RunningServer;
let attributed: RunningServer;
let pooled: RunningServer;
let direct: LoadedModel;
let numericPath: string;
const BATCH_MAX = 20;
const MAX_BODY = 64 * 1024;

before(async () => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-serve-' });
  const model = await LoadedModel.open(fx.runDir, { device: 'cpu' });
  service = await startServer({
    model,
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: MAX_BODY,
    batchMax: BATCH_MAX,
  });
  const bare = await LoadedModel.open(join(fx.runDir, 'model.onnx'), { device: 'cpu' });
  modelOnly = await startServer({
    model: bare,
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: MAX_BODY,
    batchMax: 10,
  });
  attributed = await startServer({
    model: await LoadedModel.open(fx.runDir, { device: 'cpu' }),
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: MAX_BODY,
    batchMax: BATCH_MAX,
    otlpAttribute: OTLP_ATTRIBUTE_BODY.attribute,
  });
  pooled = await startServer({
    model: await LoadedModel.open(fx.runDir, { device: 'cpu', thresholdPercentile: 90 }),
    port: 0,
    host: '127.0.0.1',
    maxBodyBytes: MAX_BODY,
    batchMax: BATCH_MAX,
    scoreWorkers: 2,
  });
  direct = await LoadedModel.open(fx.runDir, { device: 'cpu' });
  const source = direct.embedder.spec.numerical.find((n) => n.source.kind === 'value')!.source as {
    path: string;
  };
  numericPath = source.path;
});

after(async () => {
  await service?.close();
  await modelOnly?.close();
  await attributed?.close();
  await pooled?.close();
  await direct?.release();
  fx?.cleanup();
});

async function post(path: string, body: unknown, init: RequestInit = {}, server = service) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

test('POST /score: one event gives one result equal to scoring against the run directly', async () => {
  const event = fx.events[7]!;
  const r = await post('/score', event);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type')!, /^application\/json/);
  const expected = await scoreAgainstRun(fx.runDir, direct.embedder, [event]);
  assert.equal(r.json.uid, uidOf(event));
  assert.ok(Math.abs((r.json.score as number) - expected.scores[0]!) < 1e-6);
  assert.equal(r.json.threshold, expected.threshold);
  assert.equal(r.json.is_anomaly, expected.isAnomaly[0] === 1);
  assert.deepEqual(r.json.nearest, expected.nearest[0]);
});

test('POST /score with {"events": [...]} gives the results in order, with counts', async () => {
  const events = fx.events.slice(100, 110);
  const r = await post('/score', { events });
  assert.equal(r.status, 200, r.text);
  const results = r.json.results as { uid: string; score: number; is_anomaly: boolean }[];
  assert.equal(r.json.count, 10);
  assert.equal(r.json.flagged, results.filter((x) => x.is_anomaly).length);
  const expected = await scoreAgainstRun(fx.runDir, direct.embedder, events);
  results.forEach((x, i) => {
    assert.equal(x.uid, uidOf(events[i]!));
    assert.ok(Math.abs(x.score - expected.scores[i]!) < 1e-6);
  });
  const empty = await post('/score', { events: [] });
  assert.equal(empty.status, 200);
  assert.deepEqual(empty.json, { count: 0, flagged: 0, results: [] });
});

test('POST /score explains each event and warns about events foreign to the spec', async () => {
  const event = fx.events.find((e) => typeof e.duration === 'number' && e.http_response !== undefined)!;
  const planted = { ...event, duration: 5_000_000 };
  const r = await post('/score', planted);
  assert.equal(r.status, 200, r.text);
  assert.match(r.json.why as string, /duration 5,000,000 \(z \d+/);
  assert.ok((r.json.reasons as { field: string }[]).some((x) => x.field === 'duration'));
  assert.match(r.json.features as string, /^\d+ of \d+$/);
  assert.equal(r.json.warning, undefined);
  const foreign = await post('/score', { events: [{ host: 'a', msg: 'hello' }, { host: 'b' }] });
  assert.equal(foreign.status, 200, foreign.text);
  assert.match(foreign.json.warning as string, /^the events carry \d+ of \d+ features of the model's spec/);
  const results = foreign.json.results as { uid: string; warning?: string }[];
  assert.ok(results.every((x) => x.warning !== undefined));
});

test('POST /embed: raw and unit-length embeddings equal Embedder.embed', async () => {
  const events = fx.events.slice(0, 3);
  const raw = await direct.embedder.embed(events);
  const unit = await direct.embedder.embed(events, { normalized: true });
  const one = await post('/embed', events[0]);
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.uid, uidOf(events[0]!));
  assert.deepEqual(Float32Array.from(one.json.embedding as number[]), raw.subarray(0, 16));
  const batch = await post('/embed', { events, normalized: true });
  assert.equal(batch.status, 200, batch.text);
  assert.equal(batch.json.dimension, 16);
  assert.equal(batch.json.normalized, true);
  const rows = batch.json.results as { embedding: number[] }[];
  assert.deepEqual(Float32Array.from(rows.flatMap((x) => x.embedding)), unit);
  const query = await post('/embed?normalized=true', events[1]);
  assert.deepEqual(Float32Array.from(query.json.embedding as number[]), unit.subarray(16, 32));
});

test('bad requests get 400 with the field at fault, and the service keeps serving', async () => {
  const event = fx.events[0]!;
  const cases: [unknown, string | undefined, RegExp][] = [
    ['{"events": [', undefined, /not valid JSON/],
    ['', undefined, /the body is empty/],
    [[event, 'text'], 'events[1]', /events\[1\] must be an OCSF event \(a JSON object\), got a string/],
    ['"text"', undefined, /must be one OCSF event \(a JSON object\).*got a string/],
    [`${JSON.stringify(event)}\n{"time": \n`, 'events[1]', /line 2 is not valid JSON/],
    [{ events: 'all of them' }, 'events', /"events" must be an array of OCSF event objects, got a string/],
    [
      { events: [event, event, 3] },
      'events[2]',
      /events\[2\] must be an OCSF event \(a JSON object\), got a number/,
    ],
    [{ events: [event, null] }, 'events[1]', /got null/],
    [{ events: [event], limit: 5 }, 'limit', /unknown field "limit": a batch body holds only "events"/],
    [{ events: [event], normalized: true }, 'normalized', /unknown field "normalized"/],
    [{ ...event, ...nested(numericPath, 'many') }, numericPath, /should be a number but is text "many"/],
    [
      { events: [event, nested(numericPath, 'NaN')] },
      `events[1].${numericPath}`,
      /write null for a missing number/,
    ],
  ];
  for (const [body, field, message] of cases) {
    const r = await post('/score', body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)} → ${r.status} ${r.text}`);
    assert.match(r.json.error as string, message);
    assert.equal(r.json.field, field);
  }
  const wrongType = await post('/embed', { events: [event], normalized: 'yes' });
  assert.equal(wrongType.status, 400);
  assert.deepEqual(wrongType.json, {
    error: '"normalized" must be true or false, got a string',
    field: 'normalized',
  });
  const badQuery = await post('/embed?normalized=maybe', event);
  assert.equal(badQuery.status, 400);
  assert.equal(badQuery.json.field, 'normalized');
  const ok = await post('/score', event);
  assert.equal(ok.status, 200);
});

function nested(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  let v: unknown = value;
  for (let i = keys.length - 1; i >= 0; i--) v = { [keys[i]!]: v };
  return v as Record<string, unknown>;
}

test('oversized bodies and batches get 413; the service keeps serving', async () => {
  const big = { events: Array.from({ length: 10 }, () => ({ message: 'x'.repeat(MAX_BODY / 5) })) };
  const declared = await post('/score', big);
  assert.equal(declared.status, 413);
  assert.match(declared.json.error as string, /over the limit of 64 KiB: send fewer events per request/);
  const text = JSON.stringify(big);
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < text.length; i += 8192)
        c.enqueue(new TextEncoder().encode(text.slice(i, i + 8192)));
      c.close();
    },
  });
  const chunked = await post('/score', '', { body: stream, duplex: 'half' } as RequestInit);
  assert.equal(chunked.status, 413);
  const many = await post('/score', { events: fx.events.slice(0, BATCH_MAX + 1) });
  assert.equal(many.status, 413);
  assert.deepEqual(many.json, {
    error: `too many events: ${BATCH_MAX + 1} in one request, at most ${BATCH_MAX}; split the batch`,
    field: 'events',
  });
  const ok = await post('/score', { events: fx.events.slice(0, BATCH_MAX) });
  assert.equal(ok.status, 200);
});

test('unknown routes get 404, wrong methods 405 with Allow, non-JSON bodies 415', async () => {
  const missing = await fetch(`${service.url}/predict`);
  assert.equal(missing.status, 404);
  assert.match(
    (await missing.json()).error,
    /no route GET \/predict: this service answers POST \/embed, POST \/score/,
  );
  const get = await fetch(`${service.url}/score`);
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  assert.match((await get.json()).error, /use POST \/score/);
  const postHealth = await post('/health', {});
  assert.equal(postHealth.status, 405);
  assert.equal(postHealth.headers.get('allow'), 'GET, HEAD');
  const form = await post('/score', 'a=1', {
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
  });
  assert.equal(form.status, 415);
});

test('a service on a bare model.onnx embeds, and answers /score with 404 saying what to serve', async () => {
  const r = await post('/score', fx.events[0], {}, modelOnly);
  assert.equal(r.status, 404);
  assert.match(r.json.error as string, /start it with --model <run-directory>/);
  const e = await post('/embed', fx.events[0], {}, modelOnly);
  assert.equal(e.status, 200);
  const health = await (await fetch(`${modelOnly.url}/health`)).json();
  assert.equal(health.scoring, null);
});

test('100 concurrent single-event requests all succeed, are micro-batched, and match direct scoring', async () => {
  const before = await service.metrics.render();
  const events = fx.events.slice(200, 300);
  const answers = await Promise.all(events.map((e) => post('/score', e)));
  const expected = await scoreAgainstRun(fx.runDir, direct.embedder, events);
  answers.forEach((a, i) => {
    assert.equal(a.status, 200);
    assert.equal(a.json.uid, uidOf(events[i]!));
    assert.ok(Math.abs((a.json.score as number) - expected.scores[i]!) < 1e-6);
  });
  const count = (text: string) =>
    Number(/^ocsf_embed_model_batch_events_count\{operation="score"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  const calls = count(await service.metrics.render()) - count(before);
  assert.ok(calls < 100, `${calls} model calls for 100 concurrent requests`);
});

test('scoring workers answer /score and /v1/logs as the service thread does, with the run opened the same way', async () => {
  const events = fx.events.slice(300, 400);
  const [inProcess, inWorkers] = await Promise.all(
    [service, pooled].map((server) => Promise.all(events.map((e) => post('/score', e, {}, server)))),
  );
  // The workers open the run as the service did (here with --threshold-percentile 90).
  const { threshold } = (await (await fetch(`${pooled.url}/health`)).json()).scoring;
  const sameButThreshold = (x: Record<string, unknown>) => ({ ...x, threshold: 0, is_anomaly: false });
  inWorkers!.forEach((a, i) => {
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.threshold, threshold);
    assert.deepEqual(sameButThreshold(a.json), sameButThreshold(inProcess![i]!.json));
  });
  assert.notEqual(threshold, inProcess![0]!.json.threshold);
  const batch = await post('/score', { events: events.slice(0, 15) }, {}, pooled);
  const inline = (await post('/score', { events: events.slice(0, 15) })).json;
  assert.deepEqual(
    (batch.json.results as Record<string, unknown>[]).map(sameButThreshold),
    (inline.results as Record<string, unknown>[]).map(sameButThreshold),
  );
  const otlp = SHIPPER_BODIES.find((b) => b.route === '/v1/logs')!;
  const bytes = readFileSync(join(SHIPPERS, otlp.file));
  const logs = await postBytes(pooled, '/v1/logs?results=true', bytes, otlp.headers);
  assert.equal(logs.status, 200, logs.text);
  const logsInline = await postBytes(service, '/v1/logs?results=true', bytes, otlp.headers);
  assert.deepEqual(
    (logs.json.results as Record<string, unknown>[]).map(sameButThreshold),
    (logsInline.json.results as Record<string, unknown>[]).map(sameButThreshold),
  );
});

test('a client that hangs up mid-body or sends broken HTTP leaves the service serving', async () => {
  const url = new URL(service.url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        'POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"events": [',
      );
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 100);
    });
  });
  const garbage = await new Promise<string>((resolve) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
    let text = '';
    socket.on('data', (d) => {
      text += d;
    });
    socket.on('close', () => resolve(text));
  });
  assert.match(garbage, /^HTTP\/1\.1 400 Bad Request/);
  await new Promise((r) => setTimeout(r, 50));
  const ok = await post('/score', fx.events[0]);
  assert.equal(ok.status, 200);
  assert.equal(service.inFlight, 0);
});

test('GET /health reports the model, scorer and state', async () => {
  const res = await fetch(`${service.url}/health`);
  assert.equal(res.status, 200);
  const h = await res.json();
  assert.equal(h.status, 'ok');
  assert.equal(h.dimension, 16);
  assert.equal(h.run, basename(fx.runDir), 'the run by name, not its path on the host');
  assert.equal(h.device, 'cpu');
  assert.equal(typeof h.scoring.threshold, 'number');
  assert.equal(typeof h.scoring.reference_events, 'number');
  assert.equal(h.in_flight, 0);
  assert.equal(h.score_workers, 1);
  assert.equal((await (await fetch(`${pooled.url}/health`)).json()).score_workers, 2);
});

test('GET /metrics is Prometheus text: request counts by route/status, latency histogram, events, anomalies, process and event-loop metrics', async () => {
  const res = await fetch(`${service.url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  const sample =
    /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \+Inf$/;
  for (const line of text.trimEnd().split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    assert.match(line, sample, `not a Prometheus sample line: ${line}`);
  }
  for (const name of [
    'ocsf_embed_http_requests_total counter',
    'ocsf_embed_http_request_duration_seconds histogram',
    'ocsf_embed_events_scored_total counter',
    'ocsf_embed_anomalies_flagged_total counter',
    'ocsf_embed_events_embedded_total counter',
    'process_cpu_seconds_total counter',
    'nodejs_eventloop_lag_p99_seconds gauge',
    'process_resident_memory_bytes gauge',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name}$`, 'm'));
  }
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
  assert.ok(
    value(/^ocsf_embed_http_requests_total\{method="POST",route="\/score",status="200"\} (\d+)$/m) >= 100,
  );
  assert.ok(
    value(/^ocsf_embed_http_requests_total\{method="POST",route="\/score",status="400"\} (\d+)$/m) >= 11,
  );
  assert.ok(
    value(/^ocsf_embed_http_requests_total\{method="POST",route="\/score",status="413"\} (\d+)$/m) >= 3,
  );
  assert.ok(value(/^ocsf_embed_http_requests_total\{method="GET",route="other",status="404"\} (\d+)$/m) >= 1);
  const scored = value(/^ocsf_embed_events_scored_total (\d+)$/m);
  assert.ok(scored >= 100 + 10 + BATCH_MAX, `events scored ${scored}`);
  assert.ok(value(/^ocsf_embed_anomalies_flagged_total (\d+)$/m) <= scored);
  const buckets = [
    ...text.matchAll(
      /^ocsf_embed_http_request_duration_seconds_bucket\{le="([^"]+)",route="\/score"\} (\d+)$/gm,
    ),
  ];
  assert.ok(buckets.length > 5);
  const counts = buckets.map((m) => Number(m[2]));
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => a - b),
    'cumulative buckets',
  );
  assert.equal(buckets.at(-1)![1], '+Inf');
  assert.equal(
    counts.at(-1),
    value(/^ocsf_embed_http_request_duration_seconds_count\{route="\/score"\} (\d+)$/m),
  );
});

async function postBytes(
  server: RunningServer,
  route: string,
  body: Uint8Array,
  headers: Record<string, string>,
) {
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers,
    body: new Blob([new Uint8Array(body)]),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

test("shippers' bodies (Vector NDJSON/array, Fluent Bit json_lines, OTLP JSON; gzip) score like direct scoring", async () => {
  const events = shipperEvents();
  const expected = await scoreAgainstRun(fx.runDir, direct.embedder, events);
  const check = (results: { uid: string; score: number }[], name: string) => {
    assert.equal(results.length, events.length, name);
    results.forEach((r, i) => {
      assert.equal(r.uid, uidOf(events[i]!), `${name} result ${i}`);
      assert.ok(Math.abs(r.score - expected.scores[i]!) < 1e-6, `${name} score ${i}`);
    });
  };
  for (const b of SHIPPER_BODIES) {
    const bytes = readFileSync(join(SHIPPERS, b.file));
    const r = await postBytes(
      service,
      b.route === '/v1/logs' ? '/v1/logs?results=true' : b.route,
      bytes,
      b.headers,
    );
    assert.equal(r.status, 200, `${b.name}: ${r.text}`);
    check(r.json.results as { uid: string; score: number }[], b.name);
    if (b.route === '/v1/logs') {
      const partial = r.json.partialSuccess as { rejectedLogRecords: string; errorMessage: string };
      assert.equal(partial.rejectedLogRecords, String(b.rejected));
      assert.match(partial.errorMessage, /logRecords\[3\]\.body is a string that is not JSON/);
      const plain = await postBytes(service, '/v1/logs', bytes, b.headers);
      assert.deepEqual(
        Object.keys(plain.json),
        ['partialSuccess'],
        'OTLP answers an ExportLogsServiceResponse',
      );
    }
  }
  const attr = await postBytes(
    attributed,
    '/v1/logs?results=1',
    readFileSync(join(SHIPPERS, OTLP_ATTRIBUTE_BODY.file)),
    { 'content-type': 'application/json' },
  );
  assert.equal(attr.status, 200, attr.text);
  assert.equal(attr.json.partialSuccess, undefined);
  check(attr.json.results as { uid: string; score: number }[], 'OTLP attribute');
});

test('gzip bodies: over the limit once inflated 413, corrupt 400, other encodings 415; OTLP protobuf 415', async () => {
  const huge = gzipSync(`${JSON.stringify({ message: 'x'.repeat(MAX_BODY * 2) })}\n`);
  assert.ok(huge.length < MAX_BODY);
  const bomb = await postBytes(service, '/score', huge, {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
  });
  assert.equal(bomb.status, 413);
  assert.match(bomb.json.error as string, /once decompressed/);
  const corrupt = await postBytes(service, '/score', new TextEncoder().encode('{"not":"gzip"}'), {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
  });
  assert.equal(corrupt.status, 400);
  assert.match(corrupt.json.error as string, /not valid gzip data/);
  const br = await postBytes(service, '/score', new Uint8Array([1, 2, 3]), { 'content-encoding': 'br' });
  assert.equal(br.status, 415);
  const proto = await postBytes(service, '/v1/logs', new Uint8Array([10, 0]), {
    'content-type': 'application/x-protobuf',
  });
  assert.equal(proto.status, 415);
  assert.match(proto.json.error as string, /encoding: json/);
  const ndjsonMany = `${fx.events
    .slice(0, BATCH_MAX + 1)
    .map((e) => JSON.stringify(e))
    .join('\n')}\n`;
  const many = await postBytes(service, '/score', new TextEncoder().encode(ndjsonMany), {
    'content-type': 'application/x-ndjson',
  });
  assert.equal(many.status, 413);
  const ok = await post('/score', fx.events[0]);
  assert.equal(ok.status, 200);
});

test('when every scoring worker stops, batches in flight and batches waiting for a worker fail with one clear error', async () => {
  const pool = await ScorePool.start(fx.runDir, { device: 'cpu', requireScorer: true }, 2);
  const events = fx.events.slice(0, 50) as object[];
  const batches = Promise.allSettled([pool.score(events), pool.score(events), pool.score(events)]); // the third waits
  const workers = (pool as unknown as { slots: { worker: Worker }[] }).slots.map((s) => s.worker);
  await Promise.all(workers.map((w) => w.terminate()));
  // Whichever worker took it, no batch is left waiting (a batch may also have finished just before).
  const settled = await batches;
  for (const s of settled) {
    if (s.status === 'rejected') assert.match(String(s.reason), /scoring worker (has )?stopped/);
  }
  assert.ok(settled.some((s) => s.status === 'rejected'));
  await assert.rejects(pool.score(events), /every scoring worker has stopped: restart the service/);
  await pool.close();
});
