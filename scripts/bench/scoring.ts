// Scoring throughput: `ocsf-embed embed` and `ocsf-embed score` as whole commands on the same generated
// events against the same default-size run (dModel 256 × 6, a reference of 16,384 events), at 1 and 2
// threads, with wall and CPU time; and the k-NN step by step (similarity matmul, ONNX Runtime TopK,
// selectTopK) per query on the run's reference. Runnable directly:
// `npx tsx scripts/bench/scoring.ts [--run DIR] [--events 50000] [--threads 1,2] [--quick] [--json]`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { knnModel, selectTopK, topKScratch } from '../../src/detect/knn.ts';
import { effectiveK } from '../../src/detect/scorer.ts';
import { loadRunScorer } from '../../src/run/scoring.node.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = resolve(HERE, '..', '..');
const CLI = join(REPO, 'bin', 'ocsf-embed.js');
const CPU_TIME = join(HERE, 'cpu-time.mjs');

/** Options of {@link benchScoring}. */
export interface ScoringBenchOptions {
  /** A finished run to score against; default: train a default-size run for one epoch first. */
  run?: string;
  /** Generated events to embed and score (default 50,000). */
  events?: number;
  /** Training events of the run made when `run` is not given (default 18,400: a full 16,384 reference). */
  trainEvents?: number;
  /** Thread counts to measure (default 1 and 2). */
  threads?: number[];
  /** Queries for the k-NN step timings (default 1,024). */
  knnQueries?: number;
  verbose?: boolean;
}

/** One timed command. */
export interface CommandTiming {
  seconds: number;
  eventsPerSecond: number;
  /** CPU seconds of the command's process, all threads. */
  cpuSeconds: number;
  /** Load average (1 min) when the command started. */
  load1: number;
}

/** `embed` and `score` at one thread count. */
export interface ScoringRow {
  threads: number;
  embed: CommandTiming;
  score: CommandTiming;
  /** score events/s ÷ embed events/s (the target is ≥ 0.5). */
  ratio: number;
}

/** The k-NN steps per query, CPU µs, on the run's reference with one thread. */
export interface KnnSteps {
  referenceRows: number;
  dimension: number;
  /** The largest k the run's scorer searches (the ensemble's 3% member). */
  k: number;
  matmulUs: number;
  /** ONNX Runtime TopK on the similarities (the search before `selectTopK`). */
  ortTopKUs: number;
  selectTopKUs: number;
}

/** What {@link benchScoring} measured. */
export interface ScoringBenchResult {
  events: number;
  run: string;
  /** How the run was made (null when given). */
  trainSeconds: number | null;
  rows: ScoringRow[];
  knn: KnnSteps;
}

function runCommand(args: string[], events: number): Promise<CommandTiming> {
  const load1 = loadavg()[0]!;
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', CPU_TIME, CLI, ...args], { cwd: REPO });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout.resume();
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      const cpu = stderr.match(/cpu-seconds ([\d.]+)\s*$/);
      if (code !== 0 || !cpu) {
        fail(new Error(`ocsf-embed ${args[0]} exited ${code}: ${stderr.trim().slice(-400)}`));
        return;
      }
      done({ seconds, eventsPerSecond: events / seconds, cpuSeconds: Number(cpu[1]), load1 });
    });
  });
}

/** Trains a default-size run (dModel 256 × 6) for one epoch on generated events; returns its folder. */
async function defaultSizeRun(dir: string, trainEvents: number): Promise<{ run: string; seconds: number }> {
  const t0 = performance.now();
  const file = join(dir, 'train.jsonl');
  await writeGenerated({ events: trainEvents, seed: 3, out: file, labels: join(dir, 'train.labels.jsonl') });
  const run = join(dir, 'run');
  await runCommand(['train', file, '--out', run, '--epochs', '1', '--device', 'cpu'], trainEvents);
  return { run, seconds: (performance.now() - t0) / 1000 };
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Per-query CPU µs of the k-NN steps on the run's reference (one thread, `queries` of its own rows). */
export async function knnSteps(run: string, queries: number): Promise<KnnSteps> {
  const state = loadRunScorer(run);
  const { d, reference } = state;
  const n = reference.length / d;
  const k = Math.max(
    ...(state.scorer.components ?? [state.scorer]).map((c) => c.k || effectiveK(c.options, n)),
  );
  const q = Math.min(queries, n);
  const block = 256;
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const matmul = await ort.InferenceSession.create(knnModel(), options);
  const b = new Builder('knn-topk');
  const [values, indices] = b.opMulti(
    'TopK',
    [
      op.gemm(b.input('queries', 'float32', ['q', 'd']), b.input('reference', 'float32', ['n', 'd']), null, {
        transB: 1,
      }),
      b.input('k', 'int64', [1]),
    ],
    { axis: -1, largest: 1, sorted: 1 },
    { outputs: 2 },
  );
  b.output(values!, 'values');
  b.output(indices!, 'indices');
  const topk = await ort.InferenceSession.create(encodeModel(b), options);
  const ref = new ort.Tensor('float32', reference, [n, d]);
  const kTensor = new ort.Tensor('int64', BigInt64Array.of(BigInt(k)), [1]);
  const feeds = (q0: number, rows: number) => ({
    queries: new ort.Tensor('float32', reference.subarray(q0 * d, (q0 + rows) * d), [rows, d]),
    reference: ref,
  });
  await matmul.run(feeds(0, Math.min(block, q)));
  let t = cpuMicros();
  const sims: Float32Array[] = [];
  for (let q0 = 0; q0 < q; q0 += block) {
    const out = await matmul.run(feeds(q0, Math.min(block, q - q0)));
    sims.push(out.similarities!.data as Float32Array);
  }
  const matmulUs = (cpuMicros() - t) / q;
  await topk.run({ ...feeds(0, Math.min(block, q)), k: kTensor });
  t = cpuMicros();
  for (let q0 = 0; q0 < q; q0 += block) await topk.run({ ...feeds(q0, Math.min(block, q - q0)), k: kTensor });
  const ortTopKUs = (cpuMicros() - t) / q - matmulUs;
  const scratch = topKScratch();
  const v = new Float32Array(k);
  const ix = new Int32Array(k);
  const warm = sims[0]!;
  for (let i = 0; i < warm.length / n; i++) {
    selectTopK(warm.subarray(i * n, (i + 1) * n), n, k, v, ix, 0, scratch); // lets the JIT optimise it first
  }
  t = cpuMicros();
  for (const s of sims) {
    for (let i = 0; i < s.length / n; i++)
      selectTopK(s.subarray(i * n, (i + 1) * n), n, k, v, ix, 0, scratch);
  }
  const selectTopKUs = (cpuMicros() - t) / q;
  await matmul.release();
  await topk.release();
  return { referenceRows: n, dimension: d, k, matmulUs, ortTopKUs, selectTopKUs };
}

/** Embeds and scores the same generated events against one run at each thread count. */
export async function benchScoring(o: ScoringBenchOptions = {}): Promise<ScoringBenchResult> {
  const events = o.events ?? 50_000;
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-scoring-'));
  const say = (line: string) => {
    if (o.verbose) console.error(line);
  };
  try {
    let run = o.run;
    let trainSeconds: number | null = null;
    if (!run) {
      say('training a default-size run for one epoch…');
      const made = await defaultSizeRun(dir, o.trainEvents ?? 18_400);
      run = made.run;
      trainSeconds = made.seconds;
    }
    const file = join(dir, 'events.jsonl');
    await writeGenerated({ events, seed: 11, out: file, labels: join(dir, 'events.labels.jsonl') });
    const rows: ScoringRow[] = [];
    for (const threads of o.threads ?? [1, 2]) {
      const common = ['--model', run, '--device', 'cpu', '--threads', String(threads), '--quiet'];
      const embed = await runCommand(['embed', file, '--out', join(dir, 'emb.jsonl'), ...common], events);
      say(`embed ×${threads}: ${Math.round(embed.eventsPerSecond)} events/s`);
      const score = await runCommand(['score', file, '--out', join(dir, 'scores.jsonl'), ...common], events);
      say(`score ×${threads}: ${Math.round(score.eventsPerSecond)} events/s`);
      rows.push({ threads, embed, score, ratio: score.eventsPerSecond / embed.eventsPerSecond });
    }
    const knn = await knnSteps(run, o.knnQueries ?? 1024);
    return {
      events,
      run: o.run ?? 'a default-size run (dModel 256 × 6) trained for one epoch',
      trainSeconds,
      rows,
      knn,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as Markdown lines. */
export function formatScoringBench(r: ScoringBenchResult): string {
  const lines = [
    `${r.events} generated events; ${r.knn.referenceRows} reference rows of width ${r.knn.dimension}; k up to ${r.knn.k}`,
    '',
    '| threads | embed events/s | score events/s | score ÷ embed | embed CPU s | score CPU s | load (1 min) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (x) =>
        `| ${x.threads} | ${Math.round(x.embed.eventsPerSecond)} | ${Math.round(x.score.eventsPerSecond)} | ${x.ratio.toFixed(2)} | ${x.embed.cpuSeconds.toFixed(1)} | ${x.score.cpuSeconds.toFixed(1)} | ${x.embed.load1.toFixed(1)} / ${x.score.load1.toFixed(1)} |`,
    ),
    '',
    `k-NN per query, CPU µs, one thread: similarity matmul ${r.knn.matmulUs.toFixed(0)}, ONNX Runtime TopK ${r.knn.ortTopKUs.toFixed(0)}, selectTopK ${r.knn.selectTopKUs.toFixed(0)}`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' },
      events: { type: 'string' },
      threads: { type: 'string', default: '1,2' },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const r = await benchScoring({
    run: values.run,
    events: Number(values.events ?? (values.quick ? 500 : 50_000)),
    trainEvents: values.quick ? 600 : undefined,
    threads: values.threads.split(',').map(Number),
    knnQueries: values.quick ? 64 : undefined,
    verbose: !values.json,
  });
  console.log(values.json ? JSON.stringify(r, null, 2) : formatScoringBench(r));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
