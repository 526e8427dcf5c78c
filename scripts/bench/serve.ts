// Service benchmark: starts `ocsf-embed serve` on 127.0.0.1 over a run, sends single-event POST /score
// requests from concurrent keep-alive clients for a fixed number of requests, and reports latency
// percentiles and throughput against the p99 < 50 ms target. Runnable directly:
// `npx tsx scripts/bench/serve.ts --run <dir> [--requests 5000] [--concurrency 100] [--score-workers N]`.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** Options of {@link benchServe}. */
export interface ServeBenchOptions {
  /** Run directory to serve (model.onnx, reference embeddings, scorer). */
  run: string;
  /** Events to send: a JSONL file, or event objects. Default: 1000 synthetic events (seed 7). */
  events?: string | object[];
  /** Timed requests (default 5000). */
  requests?: number;
  /** Concurrent clients, one keep-alive connection each (default 100). */
  concurrency?: number;
  /** Untimed requests first, to warm up both JITs (default 3000). */
  warmup?: number;
  /** `/score` (default) or `/embed`. */
  route?: '/score' | '/embed';
  /** Micro-batching in the service (default true). */
  microBatch?: boolean;
  /** Intra-op threads of the service's sessions (default: the service's default). */
  threads?: number;
  /** Scoring worker threads of the service (default: the service's default). */
  scoreWorkers?: number;
  /** Print progress lines (default false). */
  verbose?: boolean;
}

/** What {@link benchServe} measured. */
export interface ServeBenchResult {
  route: string;
  requests: number;
  concurrency: number;
  microBatch: boolean;
  /** Responses other than 200 and transport errors. */
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** The p99 target of the service, in ms. */
  targetP99Ms: number;
  metTarget: boolean;
  /** Events per model call, averaged over the run (from /metrics). */
  meanModelBatch: number | null;
  /**
   * Latency as the service measured it (arrival to response written), from its histogram: the upper bound
   * of the bucket holding each quantile, in ms. The gap to `latencyMs` is client and network time.
   */
  serverLatencyMs: { p50: number; p99: number } | null;
  referenceEvents: number | null;
  dimension: number | null;
  /** The service's scoring worker threads (from /health; null when it does not say). */
  scoreWorkers?: number | null;
  cores: number;
  /**
   * CPU used during the timed requests, in cores (CPU seconds ÷ wall seconds): the load generator (this
   * process) and the service (its process, from /proc; null where there is none).
   */
  cpuCores: { loadGenerator: number; service: number | null };
  /** Load average (1 min) when the timed requests started. */
  load1: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null off Linux. */
function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after "pid (comm) "
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TARGET_P99_MS = 50;

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function loadEvents(events: ServeBenchOptions['events']): Promise<object[]> {
  if (Array.isArray(events)) return events;
  if (typeof events === 'string') {
    return readFileSync(events, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 5000)
      .map((l) => JSON.parse(l) as object);
  }
  const { generate } = await import('../../src/data/generate/index.ts');
  return generate({ events: 1000, seed: 7 }).events;
}

function startService(o: ServeBenchOptions): Promise<{ child: ChildProcess; url: string }> {
  const args = [
    join(ROOT, 'bin/ocsf-embed.js'),
    'serve',
    '--model',
    o.run,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
  ];
  if (o.microBatch === false) args.push('--no-micro-batch');
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  if (o.scoreWorkers !== undefined) args.push('--score-workers', String(o.scoreWorkers));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolvePromise, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`the service did not start in 60 s:\n${out}${err}`)),
      60_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1]! });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited with code ${code} before listening:\n${out}${err}`));
    });
  });
}

function post(agent: Agent, url: URL, path: string, body: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
        res.on('error', () => resolvePromise(0));
      },
    );
    req.on('error', () => resolvePromise(0));
    req.end(body);
  });
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

function histogramQuantiles(
  before: string,
  after: string,
  route: string,
): { p50: number; p99: number } | null {
  const re = new RegExp(
    `^ocsf_embed_http_request_duration_seconds_bucket\\{le="([^"]+)",route="${route}"\\} (\\d+)$`,
    'gm',
  );
  const counts = (text: string) => new Map([...text.matchAll(re)].map((m) => [m[1]!, Number(m[2])]));
  const a = counts(after);
  const b = counts(before);
  const buckets = [...a.keys()].map((le) => ({
    le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le),
    n: a.get(le)! - (b.get(le) ?? 0),
  }));
  const total = buckets.find((x) => x.le === Number.POSITIVE_INFINITY)?.n ?? 0;
  if (total === 0) return null;
  const at = (q: number) => (buckets.find((x) => x.n >= q * total)?.le ?? Number.NaN) * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

function metricValue(text: string, name: string, labels: string): number | null {
  const re = new RegExp(`^${name}\\{${labels}\\} ([0-9.eE+-]+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : null;
}

/** Sends `count` requests from `concurrency` clients; returns each request's latency in ms and the failures. */
async function load(
  agent: Agent,
  url: URL,
  path: string,
  bodies: string[],
  count: number,
  concurrency: number,
): Promise<{ latencies: Float64Array; errors: number; seconds: number }> {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const client = async () => {
    for (let i = next++; i < count; i = next++) {
      const start = performance.now();
      const status = await post(agent, url, path, bodies[i % bodies.length]!);
      latencies[i] = performance.now() - start;
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { latencies, errors, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Starts the service on a run in a child process, warms it up, sends `requests` single-event requests from
 * `concurrency` concurrent keep-alive clients, stops it with SIGTERM, and reports latency and throughput.
 */
export async function benchServe(o: ServeBenchOptions): Promise<ServeBenchResult> {
  const route = o.route ?? '/score';
  const requests = o.requests ?? 5000;
  const concurrency = o.concurrency ?? 100;
  const warmup = o.warmup ?? 3000;
  const events = await loadEvents(o.events);
  if (events.length === 0) throw new Error('no events to send');
  const bodies = events.map((e) => JSON.stringify(e));
  const { child, url } = await startService(o);
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const health = JSON.parse(await getText(`${url}/health`)) as {
      dimension?: number;
      scoring?: { reference_events?: number } | null;
      score_workers?: number;
    };
    if (o.verbose) console.log(`service at ${url}; warming up with ${warmup} requests`);
    await load(agent, base, route, bodies, warmup, Math.min(concurrency, warmup));
    const before = await getText(`${url}/metrics`);
    if (o.verbose) console.log(`sending ${requests} requests from ${concurrency} clients`);
    const load1 = loadavg()[0]!;
    const ownCpu0 = process.cpuUsage();
    const serviceCpu0 = processCpuSeconds(child.pid);
    const { latencies, errors, seconds } = await load(agent, base, route, bodies, requests, concurrency);
    const ownCpu = process.cpuUsage(ownCpu0);
    const serviceCpu1 = processCpuSeconds(child.pid);
    const after = await getText(`${url}/metrics`);
    const op = route === '/score' ? 'score' : 'embed';
    const label = `operation="${op}"`;
    const diff = (name: string) => {
      const a = metricValue(after, name, label);
      const b = metricValue(before, name, label) ?? 0;
      return a === null ? null : a - b;
    };
    const batchSum = diff('ocsf_embed_model_batch_events_sum');
    const batchCount = diff('ocsf_embed_model_batch_events_count');
    const sorted = latencies.slice().sort();
    const mean = latencies.reduce((s, x) => s + x, 0) / latencies.length;
    const p99 = quantile(sorted, 0.99);
    return {
      route,
      requests,
      concurrency,
      microBatch: o.microBatch !== false,
      errors,
      seconds,
      requestsPerSecond: requests / seconds,
      latencyMs: {
        p50: quantile(sorted, 0.5),
        p90: quantile(sorted, 0.9),
        p99,
        max: sorted[sorted.length - 1]!,
        mean,
      },
      targetP99Ms: TARGET_P99_MS,
      metTarget: p99 < TARGET_P99_MS && errors === 0,
      meanModelBatch: batchSum !== null && batchCount ? batchSum / batchCount : null,
      serverLatencyMs: histogramQuantiles(before, after, route),
      referenceEvents: health.scoring?.reference_events ?? null,
      dimension: health.dimension ?? null,
      scoreWorkers: health.score_workers ?? null,
      cores: availableParallelism(),
      cpuCores: {
        loadGenerator: (ownCpu.user + ownCpu.system) / 1e6 / seconds,
        service: serviceCpu0 !== null && serviceCpu1 !== null ? (serviceCpu1 - serviceCpu0) / seconds : null,
      },
      load1,
    };
  } finally {
    agent.destroy();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0 && o.verbose) console.error(`the service exited with code ${code}`);
  }
}

/** One result as a line for the terminal. */
export function formatServeBench(r: ServeBenchResult): string {
  const l = r.latencyMs;
  const batch = r.meanModelBatch === null ? '' : `, ${r.meanModelBatch.toFixed(1)} events per model call`;
  const server = r.serverLatencyMs
    ? ` (in the service: p50 ≤ ${r.serverLatencyMs.p50} ms, p99 ≤ ${r.serverLatencyMs.p99} ms)`
    : '';
  return `${r.route} × ${r.requests} from ${r.concurrency} clients (micro-batching ${r.microBatch ? 'on' : 'off'}${r.scoreWorkers ? `, ${r.scoreWorkers} scoring worker(s)` : ''}): p50 ${l.p50.toFixed(1)} ms, p90 ${l.p90.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms${server}; ${Math.round(r.requestsPerSecond)} req/s; ${r.errors} errors${batch}; target p99 < ${r.targetP99Ms} ms ${r.metTarget ? 'met' : 'missed'} (${r.referenceEvents ?? '?'} reference events, d ${r.dimension ?? '?'}, ${r.cores} cores; CPU in cores: load generator ${r.cpuCores.loadGenerator.toFixed(2)}, service ${r.cpuCores.service?.toFixed(2) ?? '?'}; load ${r.load1.toFixed(1)})`;
}

async function tinyRun(events: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-bench-serve-'));
  const { trainServedRun } = await import('./service.ts');
  await trainServedRun(dir, events);
  return dir;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' },
      events: { type: 'string' },
      requests: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '100' },
      route: { type: 'string', default: '/score' },
      'train-events': { type: 'string', default: '20000' },
      compare: { type: 'boolean', default: false },
      threads: { type: 'string' },
      'score-workers': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  let run = values.run;
  let scratch: string | null = null;
  if (!run) {
    console.log(`no --run given: training a small run on ${values['train-events']} synthetic events first`);
    scratch = await tinyRun(Number(values['train-events']));
    run = join(scratch, 'run');
  }
  try {
    const base: ServeBenchOptions = {
      run,
      events: values.events,
      requests: Number(values.requests),
      concurrency: Number(values.concurrency),
      route: values.route as '/score' | '/embed',
      threads: values.threads === undefined ? undefined : Number(values.threads),
      scoreWorkers: values['score-workers'] === undefined ? undefined : Number(values['score-workers']),
      verbose: !values.json,
    };
    const results = [await benchServe(base)];
    if (values.compare) results.push(await benchServe({ ...base, microBatch: false }));
    if (values.json) console.log(JSON.stringify(results, null, 2));
    else for (const r of results) console.log(formatServeBench(r));
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
