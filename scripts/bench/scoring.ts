// Scoring throughput: `ocsf-embed embed` and `ocsf-embed score` as whole commands on the same generated
// events against the same default-size run (dModel 256 × 6, a reference of 16,384 events), at 1 and 2
// threads, with wall and CPU time; and the k-NN searches per query on the run's reference as scoring runs
// them (the search graph with its TopK for small k; the similarity matmul and selectTopK for large k).
// Runnable directly:
// `npx tsx scripts/bench/scoring.ts [--run DIR] [--events 50000] [--threads 1,2] [--quick] [--json]`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { GRAPH_TOPK_MAX, knnModel, knnTopKModel, selectTopK, topKScratch } from '../../src/detect/knn.ts';
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

/**
 * The k-NN searches per query, CPU µs, on the run's reference with one thread, each timed whole as
 * scoring runs it: k up to `GRAPH_TOPK_MAX` in the search graph (similarities and ONNX Runtime's TopK in
 * one session run), larger k as the similarity matmul (its [q, n] output copied out) then `selectTopK`.
 */
export interface KnnSteps {
  referenceRows: number;
  dimension: number;
  /** The largest k the run's scorer searches (the ensemble's 3% member). */
  k: number;
  /** The largest k at most `GRAPH_TOPK_MAX` the scorer searches, picked in the graph; null when none is. */
  graphK: number | null;
  /** The search graph at `graphK`: matmul and TopK together. */
  graphSearchUs: number | null;
  /** The similarity matmul with its output copied out (the search for k above `GRAPH_TOPK_MAX`). */
  matmulUs: number;
  /** `selectTopK` at `k` on the matmul's similarities. */
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

/** Per-query CPU µs of the k-NN searches on the run's reference (one thread, `queries` of its own rows). */
export async function knnSteps(run: string, queries: number): Promise<KnnSteps> {
  const state = loadRunScorer(run);
  const { d, reference } = state;
  const n = reference.length / d;
  const ks = (state.scorer.components ?? [state.scorer]).map((c) => c.k || effectiveK(c.options, n));
  const k = Math.max(...ks);
  const small = ks.filter((x) => x <= GRAPH_TOPK_MAX);
  const graphK = small.length > 0 ? Math.max(...small) : null;
  const q = Math.min(queries, n);
  const block = 256;
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const ref = new ort.Tensor('float32', reference, [n, d]);
  const feeds = (q0: number, rows: number) => ({
    queries: new ort.Tensor('float32', reference.subarray(q0 * d, (q0 + rows) * d), [rows, d]),
    reference: ref,
  });
  let graphSearchUs: number | null = null;
  if (graphK !== null) {
    const graph = await ort.InferenceSession.create(knnTopKModel(), options);
    const kTensor = new ort.Tensor('int64', BigInt64Array.of(BigInt(graphK)), [1]);
    await graph.run({ ...feeds(0, Math.min(block, q)), k: kTensor });
    const t = cpuMicros();
    for (let q0 = 0; q0 < q; q0 += block)
      await graph.run({ ...feeds(q0, Math.min(block, q - q0)), k: kTensor });
    graphSearchUs = (cpuMicros() - t) / q;
    await graph.release();
  }
  const matmul = await ort.InferenceSession.create(knnModel(), options);
  await matmul.run(feeds(0, Math.min(block, q)));
  let t = cpuMicros();
  const sims: Float32Array[] = [];
  for (let q0 = 0; q0 < q; q0 += block) {
    const out = await matmul.run(feeds(q0, Math.min(block, q - q0)));
    sims.push(out.similarities!.data as Float32Array);
  }
  const matmulUs = (cpuMicros() - t) / q;
  await matmul.release();
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
  return { referenceRows: n, dimension: d, k, graphK, graphSearchUs, matmulUs, selectTopKUs };
}

/** The k-NN searches of {@link KnnSteps} in words, CPU µs per query. */
export function formatKnnSteps(k: KnnSteps): string {
  const split = `similarity matmul with its output copied out ${k.matmulUs.toFixed(0)}, then \`selectTopK\` at k = ${k.k} ${k.selectTopKUs.toFixed(0)}`;
  // Results from before the search graph picked small k have no graph figures.
  if (
    k.graphK === null ||
    k.graphK === undefined ||
    k.graphSearchUs === null ||
    k.graphSearchUs === undefined
  ) {
    return split;
  }
  const graph = `search graph (similarities and ONNX Runtime's TopK in one run) at k = ${k.graphK} ${k.graphSearchUs.toFixed(0)}`;
  return k.k > GRAPH_TOPK_MAX
    ? `${graph}; ${split}`
    : `${graph}; the search for k above ${GRAPH_TOPK_MAX}, for comparison: ${split}`;
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
    `k-NN per query, CPU µs, one thread: ${formatKnnSteps(r.knn)}`,
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
