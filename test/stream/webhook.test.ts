// The webhook sink against a real local HTTP receiver: Alertmanager v2 and plain JSON bodies, retries with
// back-off through 503s, no retry on a 400, timeouts, and a full queue: every finding ends up counted as
// sent, failed or dropped.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { buildFinding, findingContext } from '../../src/detect/findings.ts';
import { type WebhookOutcome, WebhookSink } from '../../src/stream/webhook.ts';

type Handler = (body: unknown, req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_b, _q, res) => res.end();
let url: string;
const server = createServer((req, res) => {
  let text = '';
  req.on('data', (d: Buffer) => {
    text += d.toString();
  });
  req.on('end', () => handler(JSON.parse(text), req, res));
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2/alerts`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const ctx = findingContext({ id: 'abc', version: '0.1.0', method: 'knn', run: 'first' }, [0, 0.5, 1]);
const findings = Array.from({ length: 5 }, (_, i) =>
  buildFinding(
    { time: 1_700_000_000_000 + i, metadata: { uid: `e${i}` } },
    { uid: `e${i}`, score: 1.2, threshold: 0.9, nearest: ['r1'] },
    ctx,
  ),
);

function counting() {
  const counts: Record<WebhookOutcome, number> = { sent: 0, failed: 0, dropped: 0 };
  return { counts, onOutcome: (o: WebhookOutcome, n: number) => (counts[o] += n) };
}

test('Alertmanager shape: one alert per finding with labels, annotations and startsAt; retried through 503s', async () => {
  const bodies: unknown[] = [];
  let calls = 0;
  handler = (body, _req, res) => {
    calls++;
    if (calls <= 2) {
      res.statusCode = 503;
      res.end('busy');
      return;
    }
    bodies.push(body);
    res.end();
  };
  const { counts, onOutcome } = counting();
  const sink = new WebhookSink({
    url,
    format: 'alertmanager',
    backoffMs: 10,
    batchMax: 3,
    onOutcome,
    log: () => {},
  });
  sink.enqueue(findings);
  await sink.close(5000);
  assert.deepEqual(counts, { sent: 5, failed: 0, dropped: 0 });
  assert.equal(calls, 4, 'two refusals, then two batches (3 + 2)');
  const alerts = bodies.flat() as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
  }[];
  assert.equal(alerts.length, 5);
  assert.equal(alerts[0]!.labels.alertname, 'OcsfEmbedAnomaly');
  assert.equal(alerts[0]!.labels.event_uid, 'e0');
  assert.equal(alerts[0]!.labels.finding_uid, 'abc:e0');
  assert.equal(alerts[0]!.labels.severity, 'high');
  assert.equal(alerts[0]!.startsAt, new Date(1_700_000_000_000).toISOString());
  assert.equal(alerts[0]!.annotations.score, '1.2');
});

test('plain JSON shape; a 400 is not retried and counts as failed; timeouts fail after the retries', async () => {
  let calls = 0;
  handler = (body, _req, res) => {
    calls++;
    assert.equal((body as { findings: unknown[] }).findings.length, 5);
    res.statusCode = 400;
    res.end('bad');
  };
  const refused = counting();
  const logs: string[] = [];
  const sink = new WebhookSink({
    url,
    format: 'json',
    backoffMs: 10,
    onOutcome: refused.onOutcome,
    log: (l) => logs.push(l),
  });
  sink.enqueue(findings);
  await sink.close(5000);
  assert.equal(calls, 1);
  assert.deepEqual(refused.counts, { sent: 0, failed: 5, dropped: 0 });
  assert.match(logs[0]!, /5 finding\(s\) not delivered .*HTTP 400 bad/);

  handler = () => {};
  const slow = counting();
  const timed = new WebhookSink({
    url,
    format: 'json',
    timeoutMs: 100,
    retries: 1,
    backoffMs: 10,
    onOutcome: slow.onOutcome,
    log: () => {},
  });
  timed.enqueue(findings.slice(0, 1));
  await new Promise((resolve) => setTimeout(resolve, 600));
  await timed.close(1000);
  assert.deepEqual(slow.counts, { sent: 0, failed: 1, dropped: 0 });
});

test('a full queue drops the findings beyond it, counted and reported, never silently', async () => {
  handler = (_b, _q, res) => res.end();
  const { counts, onOutcome } = counting();
  const logs: string[] = [];
  const sink = new WebhookSink({ url, format: 'json', queueMax: 3, onOutcome, log: (l) => logs.push(l) });
  sink.enqueue(findings);
  await sink.close(5000);
  assert.equal(counts.sent + counts.dropped, 5);
  assert.equal(counts.dropped, 2);
  assert.match(logs[0]!, /queue full \(3 findings\): dropped 2/);
});

test('shutting down while a request hangs counts its findings as dropped, once', async () => {
  handler = () => {};
  const { counts, onOutcome } = counting();
  const sink = new WebhookSink({ url, format: 'json', timeoutMs: 300, retries: 0, onOutcome, log: () => {} });
  sink.enqueue(findings.slice(0, 2));
  await sink.close(50);
  assert.deepEqual(counts, { sent: 0, failed: 0, dropped: 2 });
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(counts, { sent: 0, failed: 0, dropped: 2 }, 'the late timeout is not counted again');
});
