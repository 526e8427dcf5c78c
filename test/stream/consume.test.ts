// `ocsf-embed consume` on a real nats-server with JetStream: 20,000 generated events and a few planted
// malformed messages, three worker processes on one durable consumer, one killed with SIGKILL mid-stream.
// Every event's uid reaches the score files at least once, duplicates stay within what the killed worker
// had in flight, the dead-letter stream holds exactly the planted messages, the findings stream one
// finding per flagged event, and the survivors drain and exit 0 on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DetectionFinding } from '../../src/detect/findings.ts';
import { type NatsServer, natsClient, publishAll, startNatsServer } from '../helpers/nats.ts';
import { CLI, cli, makeRunFixture, type RunFixture, uidOf } from '../helpers/run-fixture.ts';

const EVENTS = 20_000;
const MAX_IN_FLIGHT = 400;
const STREAM = 'OCSF';
const CONSUMER = 'scorers';
const DEAD = 'ocsf-embed.dead-letter';
const FINDINGS = 'ocsf-embed.findings';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let fx: RunFixture;
let eventLines: string[];

before(async () => {
  server = await startNatsServer();
  nc = await natsClient(server);
  jsm = await jetstreamManager(nc, { timeout: 30_000 });
  fx = makeRunFixture({ prefix: 'ocsf-embed-stream-' });
  const path = join(fx.dir, 'stream.jsonl');
  const g = cli('generate', '--events', String(EVENTS), '--seed', '8', '--out', path, '--quiet');
  assert.equal(g.status, 0, g.stderr);
  eventLines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
});

after(async () => {
  await nc?.close();
  await server?.stop();
  fx?.cleanup();
});

interface Worker {
  id: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<number | null>;
}

function startWorker(id: string, out: string): Worker {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'consume',
      '--model',
      fx.runDir,
      '--server',
      server.url,
      '--stream',
      STREAM,
      '--consumer',
      CONSUMER,
      '--subject',
      'ocsf.events.>',
      '--batch-size',
      '200',
      '--max-in-flight',
      String(MAX_IN_FLIGHT),
      '--ack-wait',
      '8',
      '--flush-interval',
      '0.5',
      '--out',
      out,
      '--findings-subject',
      FINDINGS,
      '--dead-letter-subject',
      DEAD,
      '--create-streams',
      '--worker-id',
      id,
      '--metrics-port',
      '0',
      '--threads',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const w: Worker = {
    id,
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout!.on('data', (d: Buffer) => {
    w.stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    w.stderr += d.toString();
  });
  return w;
}

function scoreRows(dir: string): { uid: string; is_anomaly: boolean }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { uid: string; is_anomaly: boolean }),
    );
}

function workerRows(dir: string, id: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir)
    .filter((f) => f.startsWith(`scores-${id}-`))
    .reduce(
      (n, f) =>
        n +
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter((l) => l.trim()).length,
      0,
    );
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function storedMessages(
  stream: string,
): Promise<{ data: Uint8Array; headers: Record<string, string> }[]> {
  const info = await jsm.streams.info(stream);
  const out: { data: Uint8Array; headers: Record<string, string> }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (!m) continue;
    const headers: Record<string, string> = {};
    for (const [k] of m.header ?? []) headers[k] = m.header!.get(k);
    out.push({ data: m.data, headers });
  }
  return out;
}

test('three workers share a durable consumer; one SIGKILLed mid-stream loses nothing', async () => {
  const numeric = (
    JSON.parse(readFileSync(join(fx.runDir, 'spec.json'), 'utf8')) as {
      numerical: { source: { kind: string; path?: string } }[];
    }
  ).numerical.find((n) => n.source.kind === 'value')!.source.path!;
  const withText = JSON.parse(eventLines[0]!) as Record<string, unknown>;
  let node = withText;
  const keys = numeric.split('.');
  for (const k of keys.slice(0, -1)) {
    node[k] = { ...((node[k] as object) ?? {}) };
    node = node[k] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = 'many';
  const planted: Uint8Array[] = [
    'not json {',
    '[1, 2, 3]',
    '"an OCSF event as a string"',
    'null',
    JSON.stringify(withText),
  ].map((s) => new TextEncoder().encode(s));
  planted.push(new Uint8Array([0xff, 0xfe, 0x7b]));
  await jsm.streams.add({ name: STREAM, subjects: ['ocsf.events.>'] });
  const js = jetstream(nc, { timeout: 30_000 });
  const every = Math.floor(EVENTS / planted.length);
  const messages: { subject: string; data: string | Uint8Array }[] = [];
  eventLines.forEach((line, i) => {
    messages.push({ subject: `ocsf.events.${i % 2 ? 'http' : 'auth'}`, data: line });
    if (i % every === every - 1 && planted[Math.floor(i / every)]) {
      messages.push({ subject: 'ocsf.events.http', data: planted[Math.floor(i / every)]! });
    }
  });
  await publishAll(js, messages);
  assert.equal((await jsm.streams.info(STREAM)).state.messages, EVENTS + planted.length);

  const out = join(fx.dir, 'scores');
  const workers = ['w1', 'w2', 'w3'].map((id) => startWorker(id, out));
  const [w1, w2, w3] = workers as [Worker, Worker, Worker];
  try {
    await until('the second worker to write scores', () => workerRows(out, 'w2') > 0, 120_000);
    assert.ok(scoreRows(out).length < EVENTS, 'killed before the stream is done');
    w2.child.kill('SIGKILL');
    assert.equal(await w2.exited, null);

    await until(
      'every message to be acknowledged',
      async () => {
        const c = await jsm.consumers.info(STREAM, CONSUMER);
        return c.num_pending === 0 && c.num_ack_pending === 0;
      },
      180_000,
    );
    const metricsUrl = /metrics at (\S+)/.exec(w1.stdout)?.[1];
    assert.ok(metricsUrl, w1.stdout);
    const metrics = await (await fetch(metricsUrl)).text();
    assert.match(metrics, /^ocsf_embed_stream_messages_consumed_total [1-9]\d*$/m);
    assert.match(metrics, /^ocsf_embed_stream_score_count [1-9]\d*$/m);
    assert.match(metrics, /^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
    for (const w of [w1, w3]) w.child.kill('SIGTERM');
    for (const w of [w1, w3]) assert.equal(await w.exited, 0, `${w.id}: ${w.stderr}`);
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }

  const summaries = [w1, w3].map((w) => {
    const m = /stopped: consumed (\d+) messages \((\d+) redelivered\).*?(\d+) dead-lettered/.exec(w.stdout);
    assert.ok(m, w.stdout);
    return { consumed: Number(m[1]), redelivered: Number(m[2]), dead: Number(m[3]) };
  });
  const rows = scoreRows(out);
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.uid, (seen.get(r.uid) ?? 0) + 1);
  const missing = eventLines.filter((l) => !seen.has(uidOf(JSON.parse(l) as Record<string, unknown>)));
  assert.equal(missing.length, 0, `${missing.length} events never scored`);
  assert.equal(seen.size, EVENTS);
  const duplicates = rows.length - EVENTS;
  const redelivered = summaries.reduce((n, s) => n + s.redelivered, 0);
  assert.ok(redelivered > 0, 'the killed worker had messages in flight, redelivered to the others');
  assert.ok(
    redelivered <= MAX_IN_FLIGHT,
    `${redelivered} redelivered, more than one worker's ${MAX_IN_FLIGHT} in flight`,
  );
  assert.ok(duplicates <= redelivered, `${duplicates} duplicate rows but ${redelivered} redelivered`);

  const dead = await storedMessages(`${STREAM}_DEAD_LETTER`);
  assert.equal(dead.length, planted.length, 'exactly the planted messages are dead-lettered');
  const key = (b: Uint8Array) => Buffer.from(b).toString('hex');
  assert.deepEqual(dead.map((d) => key(d.data)).sort(), planted.map(key).sort());
  for (const d of dead) assert.ok(d.headers['Ocsf-Embed-Reason'], 'each dead letter says why');
  assert.match(
    dead.find((d) => key(d.data) === key(planted[4]!))!.headers['Ocsf-Embed-Reason']!,
    new RegExp(numeric.replace(/\./g, '\\.')),
  );

  const flagged = new Set(rows.filter((r) => r.is_anomaly).map((r) => r.uid));
  assert.ok(flagged.size > 0);
  const findings = (await storedMessages(`${STREAM}_FINDINGS`)).map(
    (m) => JSON.parse(new TextDecoder().decode(m.data)) as DetectionFinding,
  );
  assert.equal(findings.length, flagged.size, 'one finding per flagged event, redeliveries deduplicated');
  for (const f of findings) {
    assert.equal(f.class_uid, 2004);
    assert.ok(flagged.has(f.finding_info.related_events[0]!.uid));
  }
});

test('consume: bad flags and an unreachable server give one line and exit 2', () => {
  const noModel = cli('consume', '--out', fx.dir);
  assert.equal(noModel.status, 2);
  assert.match(noModel.stderr, /give the run to score against with --model/);
  const noOutput = cli('consume', '--model', fx.runDir);
  assert.equal(noOutput.status, 2);
  assert.match(noOutput.stderr, /say where results go/);
  const slowFlush = cli(
    'consume',
    '--model',
    fx.runDir,
    '--out',
    fx.dir,
    '--ack-wait',
    '2',
    '--flush-interval',
    '1',
  );
  assert.equal(slowFlush.status, 2);
  assert.match(slowFlush.stderr, /under half of --ack-wait/);
  const unreachable = cli(
    'consume',
    '--model',
    fx.runDir,
    '--out',
    join(fx.dir, 'x'),
    '--server',
    'nats://127.0.0.1:1',
  );
  assert.equal(unreachable.status, 2, unreachable.stderr);
  assert.match(
    unreachable.stderr,
    /^ocsf-embed: cannot reach NATS at nats:\/\/127\.0\.0\.1:1 .*nats-server -js/,
  );
  assert.equal(unreachable.stderr.trim().split('\n').length, 1);
});
