// The stream section: a real nats-server with JetStream, `ocsf-embed consume` worker processes on a run
// trained here, and two measurements: events/s through the stream with 1 and 2 workers (all events
// published once the workers are ready, timed to the last acknowledgement), and end-to-end latency from
// publish to the finding arriving on the findings subject, with events published at a steady rate below
// one worker's capacity.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { type NatsServer, natsClient, publishAll, startNatsServer } from '../../test/helpers/nats.ts';
import { trainServedRun } from './service.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'ocsf-embed.js');

/** Sizes of the stream section. */
export interface StreamPlan {
  trainEvents: number;
  /** Events published per throughput case. */
  events: number;
  /** Events published at a steady rate for the latency case. */
  latencyEvents: number;
  /** Publish rate of the latency case, as a fraction of the one-worker throughput. */
  latencyLoad: number;
  batchSize: number;
  maxInFlight: number;
}

/** Full: 20,000 events per throughput case; quick: tiny. */
export function streamPlan(quick: boolean): StreamPlan {
  return quick
    ? {
        trainEvents: 1000,
        events: 1000,
        latencyEvents: 300,
        latencyLoad: 0.5,
        batchSize: 256,
        maxInFlight: 1024,
      }
    : {
        trainEvents: 20_000,
        events: 20_000,
        latencyEvents: 6000,
        latencyLoad: 0.5,
        batchSize: 256,
        maxInFlight: 1024,
      };
}

/** Events/s through the stream with a number of workers. */
export interface StreamThroughput {
  workers: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** CPU seconds the workers used over the timed span (user + system), null where /proc is missing. */
  workerCpuSeconds: number | null;
  /** Events per CPU second of the workers: what one worker does on a core of its own. */
  eventsPerCpuSecond: number | null;
}

/** What the stream section measured. */
export interface StreamSectionResult {
  plan: StreamPlan;
  throughput: StreamThroughput[];
  latency: {
    /** Events published and the rate. */
    events: number;
    publishRate: number;
    /** Findings received (the latency samples: flagged events). */
    samples: number;
    p50Ms: number;
    p90Ms: number;
    p99Ms: number;
    maxMs: number;
  };
  trainSeconds: number;
  modelConfig: { dModel: number; numBlocks: number };
  cores: number;
  load1AtStart: number;
  natsServer: string;
  /** Set when this section was measured on its own and merged into a full run's results. */
  measured?: { command: string; date: string };
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
}

function startWorker(run: string, server: NatsServer, stream: string, plan: StreamPlan, out: string): Worker {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'consume',
      '--model',
      run,
      '--server',
      server.url,
      '--stream',
      stream,
      '--consumer',
      'bench',
      '--batch-size',
      String(plan.batchSize),
      '--max-in-flight',
      String(plan.maxInFlight),
      '--out',
      out,
      '--findings-subject',
      `${stream.toLowerCase()}.findings`,
      '--create-streams',
      '--threads',
      '1',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('consuming ')) resolve();
    });
    exited.then((code) =>
      reject(new Error(`consume exited with ${code}: ${stderr.trim().split('\n').at(-1)}`)),
    );
  });
  return { child, ready, exited };
}

/** User + system CPU seconds of a process so far (Linux /proc, 100 ticks a second), or null. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Trains a run, starts nats-server, and measures throughput (1 and 2 workers) and publish → finding latency. */
export async function benchStream(plan: StreamPlan): Promise<StreamSectionResult> {
  const load1AtStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-stream-'));
  const server = await startNatsServer();
  const nc = await natsClient(server);
  const version = nc.info?.version ?? 'unknown';
  const workers: Worker[] = [];
  try {
    const { run, seconds: trainSeconds } = await trainServedRun(dir, plan.trainEvents);
    const eventsPath = join(dir, 'stream.jsonl');
    await writeGenerated({
      events: Math.max(plan.events, plan.latencyEvents),
      seed: 2,
      out: eventsPath,
      labels: join(dir, 'stream-labels.jsonl'),
    });
    const lines = readFileSync(eventsPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const js = jetstream(nc, { timeout: 30_000 });

    const throughput: StreamThroughput[] = [];
    for (const n of [1, 2]) {
      const stream = `BENCH${n}`;
      await jsm.streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.events`] });
      const started = Array.from({ length: n }, () =>
        startWorker(run, server, stream, plan, join(dir, `${stream}-out`)),
      );
      workers.push(...started);
      await Promise.all(started.map((w) => w.ready));
      const cpu0 = started.map((w) => cpuSeconds(w.child.pid));
      const t0 = performance.now();
      const subject = `${stream.toLowerCase()}.events`;
      await publishAll(
        js,
        lines.slice(0, plan.events).map((data) => ({ subject, data })),
      );
      for (;;) {
        const c = await jsm.consumers.info(stream, 'bench');
        if (c.num_pending === 0 && c.num_ack_pending === 0 && c.ack_floor.stream_seq >= plan.events) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu1 = started.map((w) => cpuSeconds(w.child.pid));
      let used: number | null = 0;
      for (const [i, c] of cpu1.entries()) {
        const c0 = cpu0[i];
        used = used === null || c === null || c0 === null || c0 === undefined ? null : used + c - c0;
      }
      throughput.push({
        workers: n,
        events: plan.events,
        seconds,
        eventsPerSecond: plan.events / seconds,
        workerCpuSeconds: used,
        eventsPerCpuSecond: used ? plan.events / used : null,
      });
      for (const w of started) w.child.kill('SIGTERM');
      await Promise.all(started.map((w) => w.exited));
    }

    const stream = 'LATENCY';
    const subject = `${stream.toLowerCase()}.events`;
    await jsm.streams.add({ name: stream, subjects: [subject] });
    const worker = startWorker(run, server, stream, plan, join(dir, `${stream}-out`));
    workers.push(worker);
    await worker.ready;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    const sub = nc.subscribe(`${stream.toLowerCase()}.findings`);
    const received = (async () => {
      for await (const m of sub) {
        const f = m.json<{ finding_info: { related_events: { uid: string }[] } }>();
        const t = sentAt.get(f.finding_info.related_events[0]!.uid);
        if (t !== undefined) latencies.push(performance.now() - t);
      }
    })();
    const rate = Math.max(10, throughput[0]!.eventsPerSecond * plan.latencyLoad);
    const slice = lines.slice(0, plan.latencyEvents);
    const t0 = performance.now();
    const acks: Promise<unknown>[] = [];
    for (const [i, line] of slice.entries()) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const uid = (JSON.parse(line) as { metadata: { uid: string } }).metadata.uid;
      sentAt.set(uid, performance.now());
      acks.push(js.publish(subject, line, { timeout: 30_000 }));
    }
    await Promise.all(acks);
    for (;;) {
      const c = await jsm.consumers.info(stream, 'bench');
      if (c.num_pending === 0 && c.num_ack_pending === 0 && c.ack_floor.stream_seq >= slice.length) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    sub.unsubscribe();
    await received;
    worker.child.kill('SIGTERM');
    await worker.exited;
    const sorted = latencies.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      plan,
      throughput,
      latency: {
        events: slice.length,
        publishRate: Math.round(rate),
        samples: sorted.length,
        p50Ms: round(quantile(sorted, 0.5)),
        p90Ms: round(quantile(sorted, 0.9)),
        p99Ms: round(quantile(sorted, 0.99)),
        maxMs: round(sorted.at(-1) ?? Number.NaN),
      },
      trainSeconds,
      modelConfig: { dModel: 64, numBlocks: 2 },
      cores: availableParallelism(),
      load1AtStart,
      natsServer: version,
    };
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await nc.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line per measurement, for the log. */
export function formatStream(r: StreamSectionResult): string {
  const t = r.throughput
    .map(
      (x) =>
        `${x.workers} worker(s) ${Math.round(x.eventsPerSecond)} events/s (${x.eventsPerCpuSecond ? Math.round(x.eventsPerCpuSecond) : '?'} per worker CPU second)`,
    )
    .join(', ');
  const l = r.latency;
  return `${t}; publish → finding p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms (${l.samples} findings at ${l.publishRate} events/s)`;
}
