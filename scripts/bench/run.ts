// `npm run bench`: measures training, the Trainer against the raw step, the matmul ceiling, a training profile,
// inference, ingest, memory, the HTTP service and `npm start` end to end (each heavy job in its own process),
// runs the PyTorch reference beside them, and writes the Markdown report and the raw JSON. `--quick` runs tiny
// sizes in one child process and writes to a temporary folder.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIG_NAMES, forwardMacs, modelSize, trainFlopsPerSample } from './configs.ts';
import { INFERENCE_CASES, type InferenceResult } from './inference.ts';
import type { IngestBenchResult } from './ingest.ts';
import type { MatmulResult } from './matmul.ts';
import type { MemoryResult } from './memory.ts';
import type { PackageBenchResult } from './package.ts';
import type { ProfileSummary } from './profile.ts';
import { probeReference, type ReferenceOutput, referencePlan, runReference } from './reference.ts';
import { renderReport } from './report.ts';
import {
  type BenchResults,
  ortMatmulPeak,
  proposals,
  type RunMeta,
  SECTIONS,
  type SectionName,
  type SectionStatus,
  type TorchConfigRow,
  type TrainRow,
  targets,
  torchMatmulPeak,
  torchRows,
} from './results.ts';
import type { ScoringBenchResult } from './scoring.ts';
import type { ServeSectionResult } from './service.ts';
import type { StartBenchResult } from './start.ts';
import { formatStream, type StreamSectionResult } from './stream.ts';
import type { TrainTiming } from './train.ts';
import type { TrainerBenchResult } from './trainer.ts';
import type { Job, JobOutcome } from './worker.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(HERE, '..', '..');
const WORKER = join(HERE, 'worker.ts');

/** Command-line options of the benchmark. */
export interface BenchOptions {
  quick: boolean;
  only: SectionName[] | null;
  /** Folder for benchmarks.md and bench-results.json. */
  outDir: string;
  /** The command line, as recorded in the report. */
  command: string;
  /** Re-render the report from this bench-results.json instead of measuring. */
  render: string | null;
  /**
   * Rounds of onnxruntime-node training alternating with the PyTorch reference (train and reference
   * sections both run, not --quick); each figure is the median round. Default 3.
   */
  rounds: number;
}

/** Parses `--quick`, `--only a,b` and `--out DIR`; the default folder is docs/ only for a full, unrestricted run. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      render: { type: 'string' },
      rounds: { type: 'string' },
    },
    strict: true,
  });
  const names = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const alias: Record<string, SectionName> = {
    infer: 'inference',
    torch: 'reference',
    pytorch: 'reference',
    service: 'serve',
    e2e: 'start',
  };
  const only = names.length ? [...new Set(names.map((n) => alias[n] ?? n))] : null;
  for (const n of only ?? []) {
    if (!SECTIONS.includes(n as SectionName)) {
      throw new Error(`--only: unknown section '${n}'; use one or more of ${SECTIONS.join(', ')}`);
    }
  }
  const quick = values.quick ?? false;
  const rounds = values.rounds === undefined ? 3 : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new Error(`--rounds: a whole number ≥ 1, got '${values.rounds}'`);
  }
  const render = values.render !== undefined ? resolve(values.render) : null;
  const outDir =
    values.out !== undefined
      ? resolve(values.out)
      : render
        ? dirname(render)
        : quick || only
          ? join(tmpdir(), `ocsf-embed-bench-${quick ? 'quick' : 'partial'}`)
          : join(REPO_ROOT, 'docs');
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  const command = `${viaNpm ? 'npm run bench' : 'npx tsx scripts/bench/run.ts'}${argv.length ? `${viaNpm ? ' --' : ''} ${argv.join(' ')}` : ''}`;
  return { quick, only: only as SectionName[] | null, outDir, command, render, rounds };
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function describeJob(job: Job): string {
  switch (job.kind) {
    case 'train':
      return `train ${job.config} ${job.runtime} ×${job.threads}`;
    case 'profile':
      return `profile ${job.config} node ×${job.threads}`;
    case 'matmul':
      return `matmul node ×${job.threads}`;
    case 'infer':
      return `inference ${job.caseName} ${job.runtime} ×${job.threads}`;
    case 'memory':
      return `memory ${job.config}`;
    case 'ingest':
      return `ingest ${job.format}`;
    case 'scoring':
      return 'embed and score ×1, ×2';
    case 'trainer':
      return `trainer ${job.config} node ×${job.threads}`;
    case 'serve':
      return 'serve /score';
    case 'stream':
      return 'consume on NATS JetStream (1 and 2 workers, latency)';
    case 'start':
      return 'npm start (scripts/generate-and-train.ts)';
    case 'package':
      return 'the installed package: CLI start';
  }
}

/** Runs `jobs` in one child process; a crash or timeout turns every job without an outcome into an error. */
async function runInChild(jobs: Job[], timeoutMs: number): Promise<JobOutcome[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-job-'));
  const jobsFile = join(dir, 'jobs.json');
  const outFile = join(dir, 'outcomes.json');
  writeFileSync(jobsFile, JSON.stringify(jobs));
  try {
    const { code, signal, stderr } = await new Promise<{
      code: number | null;
      signal: string | null;
      stderr: string;
    }>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, jobsFile, outFile], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let tail = '';
      child.stderr.on('data', (d: Buffer) => {
        tail = (tail + d.toString()).slice(-4000);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (c, s) => {
        clearTimeout(timer);
        done({ code: c, signal: s, stderr: tail });
      });
    });
    const outcomes: JobOutcome[] = existsSync(outFile) ? JSON.parse(readFileSync(outFile, 'utf8')) : [];
    if (outcomes.length < jobs.length) {
      const why = signal
        ? `the process was killed (${signal}${signal === 'SIGKILL' ? `, timeout ${timeoutMs / 1000} s or out of memory` : ''})`
        : `the process exited with ${code}`;
      const detail = stderr.trim().split('\n').slice(-4).join(' | ');
      for (const job of jobs.slice(outcomes.length)) {
        outcomes.push({
          job,
          ok: false,
          error: `${why}${detail ? `: ${detail}` : ''}`,
          peakRssMiB: 0,
          load1AtStart: 0,
          seconds: 0,
        });
      }
    }
    return outcomes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarizeOutcome(o: JobOutcome): string {
  if (!o.ok) return `FAILED: ${o.error.split('\n')[0]}`;
  let extra = '';
  if (o.job.kind === 'train') {
    const r = o.result as TrainTiming;
    extra = `, ${r.stepMsMedian.toFixed(1)} ms/step`;
  } else if (o.job.kind === 'trainer') {
    const r = o.result as TrainerBenchResult;
    extra = `, Trainer ${r.trainerStepMs.toFixed(1)} vs raw ${r.rawStepMsMedian.toFixed(1)} ms/step (${r.ratio.toFixed(2)}×)`;
  } else if (o.job.kind === 'serve') {
    const r = o.result as ServeSectionResult;
    extra = `, p50 ${r.latencyMs.p50.toFixed(1)} ms, p99 ${r.latencyMs.p99.toFixed(1)} ms, ${r.requestsPerSecond.toFixed(0)} req/s`;
  } else if (o.job.kind === 'stream') {
    extra = `, ${formatStream(o.result as StreamSectionResult)}`;
  } else if (o.job.kind === 'start') {
    const r = o.result as StartBenchResult;
    extra = `, ${r.samplesPerSecond} samples/s, ROC-AUC ${r.rocAuc}, PR-AUC ${r.prAuc}, its peak RSS ${r.peakRssMiB?.toFixed(0) ?? '?'} MiB`;
  }
  return `${o.seconds.toFixed(1)} s${extra}, worker peak RSS ${o.peakRssMiB.toFixed(0)} MiB`;
}

/** Runs the jobs: one child each in full mode, all in one child in quick mode. */
async function runAll(jobs: Job[], quick: boolean): Promise<JobOutcome[]> {
  if (quick) {
    log(`running ${jobs.length} quick jobs in one child process`);
    const outcomes = await runInChild(jobs, 140_000);
    for (const o of outcomes) log(`  ${describeJob(o.job)}: ${summarizeOutcome(o)}`);
    return outcomes;
  }
  const outcomes: JobOutcome[] = [];
  for (const job of jobs) {
    log(`${describeJob(job)} …`);
    // embed and score of 50,000 events at two thread counts, with a run trained first, outlast the others
    const [o] = await runInChild([job], (job.kind === 'scoring' ? 40 : 10) * 60_000);
    log(`  ${summarizeOutcome(o!)}`);
    outcomes.push(o!);
  }
  return outcomes;
}

function cpuInfo(): { model: string; avx2: boolean; avx512f: boolean } {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const model = text.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
    const flags = text.match(/^flags\s*:\s*(.+)$/m)?.[1]?.split(/\s+/) ?? [];
    return { model, avx2: flags.includes('avx2'), avx512f: flags.includes('avx512f') };
  } catch {
    return { model: cpus()[0]?.model ?? 'unknown', avx2: false, avx512f: false };
  }
}

/** The BLAS and threading variables of the environment (OPENBLAS_*, GOTO*, OMP_*, MKL_*), as they were. */
export function blasEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (v !== undefined && /^(OPENBLAS_|GOTO|OMP_|MKL_)/.test(k)) out[k] = v;
  }
  return out;
}

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return 'unknown';
  }
}

/** The jobs of the selected sections. */
export function plannedJobs(
  opts: BenchOptions,
  wants: (s: SectionName) => boolean,
  profileDir: string,
): Job[] {
  const quick = opts.quick;
  const jobs: Job[] = [];
  if (wants('matmul')) for (const threads of [1, 2]) jobs.push({ kind: 'matmul', threads, quick });
  if (wants('train')) {
    for (const config of CONFIG_NAMES) {
      jobs.push({ kind: 'train', config, runtime: 'node', threads: 1, quick });
      jobs.push({ kind: 'train', config, runtime: 'node', threads: 2, quick });
      jobs.push({ kind: 'train', config, runtime: 'wasm', threads: 1, quick });
      // Quick mode runs every job in one process, where onnxruntime-web keeps its first thread count.
      if (!quick) jobs.push({ kind: 'train', config, runtime: 'wasm', threads: 2, quick });
    }
    if (!quick) {
      for (const threads of [1, 2])
        jobs.push({ kind: 'train', config: 'base', runtime: 'chromium', threads, quick });
    }
  }
  if (wants('trainer')) {
    for (const threads of [1, 2]) jobs.push({ kind: 'trainer', config: 'base', threads, quick });
  }
  if (wants('profile')) {
    for (const threads of [1, 2])
      jobs.push({ kind: 'profile', config: 'base', threads, quick, dir: profileDir });
    if (!quick) {
      for (const config of ['small', 'large'] as const)
        jobs.push({ kind: 'profile', config, threads: 2, quick, dir: profileDir });
    }
  }
  if (wants('inference')) {
    for (const c of INFERENCE_CASES) {
      jobs.push({ kind: 'infer', caseName: c.name, runtime: 'node', threads: 1, quick });
      jobs.push({ kind: 'infer', caseName: c.name, runtime: 'node', threads: 2, quick });
      jobs.push({ kind: 'infer', caseName: c.name, runtime: 'wasm', threads: 1, quick });
    }
  }
  if (wants('ingest')) {
    for (const format of ['jsonl', 'parquet'] as const) {
      jobs.push({ kind: 'ingest', format, events: quick ? 300 : 100_000 });
    }
  }
  if (wants('scoring')) jobs.push({ kind: 'scoring', quick });
  if (wants('memory')) jobs.push({ kind: 'memory', config: 'base', quick });
  if (wants('serve')) jobs.push({ kind: 'serve', quick });
  if (wants('stream')) jobs.push({ kind: 'stream', quick });
  if (wants('start')) jobs.push({ kind: 'start', quick });
  if (wants('package')) jobs.push({ kind: 'package', quick });
  return jobs;
}

function statusOf(section: SectionName, outcomes: JobOutcome[], kinds: Job['kind'][]): SectionStatus {
  const mine = outcomes.filter((o) => kinds.includes(o.job.kind));
  const errors = mine
    .filter((o) => !o.ok)
    .map((o) => ({ job: describeJob(o.job), error: o.ok ? '' : o.error }));
  if (mine.length === 0) return { status: 'failed', reason: `no ${section} jobs ran` };
  if (errors.length === 0) return { status: 'ok' };
  return { status: errors.length === mine.length ? 'failed' : 'partial', errors };
}

/**
 * Each node training job's median round: the timing whose median step time is the median over the rounds,
 * with every round's median step time in `roundStepMs`.
 */
export function medianRounds(rounds: JobOutcome[][]): JobOutcome[] {
  if (rounds.length === 0) return [];
  return rounds[0]!.map((first, i) => {
    const all = rounds.map((r) => r[i]!).filter((o) => o.ok);
    if (all.length === 0) return first;
    const times = all.map((o) => (o as { result: TrainTiming }).result.stepMsMedian);
    const pick = all.find((o) => (o as { result: TrainTiming }).result.stepMsMedian === upperMedian(times))!;
    const result = { ...(pick as { result: TrainTiming }).result, roundStepMs: times };
    return { ...pick, result } as JobOutcome;
  });
}

/** The reference's median round per config, with every round's per-step samples/s. */
export function medianTorchRows(rounds: TorchConfigRow[][]): TorchConfigRow[] {
  const configs = [...new Set(rounds.flat().map((r) => r.config))];
  return configs.map((config) => {
    const rows = rounds.flatMap((r) => r.filter((x) => x.config === config));
    const rates = rows.map((r) => r.samplesPerSecondStep);
    const pick = rows.find((r) => r.samplesPerSecondStep === upperMedian(rates))!;
    return { ...pick, roundSamplesPerSecondStep: rates };
  });
}

/**
 * The middle value, and for an even count the higher of the two middle ones, so that it is one of the
 * values and, with an even number of rounds, our slower step time and PyTorch's faster rate are kept.
 */
function upperMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Our samples/s over PyTorch's per-step samples/s round by round, where both ran in rounds. */
function roundRatios(t: TrainTiming, ref: TorchConfigRow | undefined): { vsTorchRounds?: number[] } {
  const ours = t.roundStepMs;
  const theirs = ref?.roundSamplesPerSecondStep;
  if (!ours || !theirs || ours.length !== theirs.length) return {};
  return { vsTorchRounds: ours.map((ms, i) => (1000 * t.batch) / ms / theirs[i]!) };
}

/** Runs the whole benchmark and writes the report; returns the results. */
export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const t0 = performance.now();
  const loadavgBefore = loadavg();
  const wants = (s: SectionName) => opts.only === null || opts.only.includes(s);
  const profileDir = mkdtempSync(join(tmpdir(), 'ocsf-bench-profile-'));
  const jobs = plannedJobs(opts, wants, profileDir);
  const probe = wants('reference') && !opts.quick ? probeReference(REPO_ROOT) : null;
  // With PyTorch present, onnxruntime-node's training runs alternate with the reference's, round by round.
  const interleave = wants('train') && probe?.ok === true;
  const isRoundJob = (j: Job) => interleave && j.kind === 'train' && j.runtime === 'node';
  const outcomes = await runAll(
    jobs.filter((j) => !isRoundJob(j)),
    opts.quick,
  );
  rmSync(profileDir, { recursive: true, force: true });
  const roundOutcomes: JobOutcome[][] = [];
  const referenceRuns: ReferenceOutput[] = [];
  if (probe?.ok) {
    const plan = referencePlan([...CONFIG_NAMES], probe.blas);
    const rounds = interleave ? opts.rounds : 1;
    for (let round = 0; round < rounds; round++) {
      if (interleave) {
        log(`round ${round + 1} of ${rounds}: onnxruntime-node training, then PyTorch`);
        roundOutcomes.push(await runAll(jobs.filter(isRoundJob), false));
      }
      log(`PyTorch reference (torch ${probe.torch}, ${probe.blas.name}) …`);
      referenceRuns.push(await runReference(probe.dir, round === 0 ? plan : { ...plan, matmulRuns: [] }));
    }
  }
  outcomes.push(...medianRounds(roundOutcomes));
  const ok = <T>(kind: Job['kind']) =>
    outcomes.filter((o) => o.ok && o.job.kind === kind) as (JobOutcome & { ok: true; result: T })[];

  const status = {} as Record<SectionName, SectionStatus>;
  const kindsOf: Record<Exclude<SectionName, 'reference'>, Job['kind'][]> = {
    train: ['train'],
    trainer: ['trainer'],
    matmul: ['matmul'],
    profile: ['profile'],
    inference: ['infer'],
    ingest: ['ingest'],
    scoring: ['scoring'],
    memory: ['memory'],
    serve: ['serve'],
    stream: ['stream'],
    start: ['start'],
    package: ['package'],
  };
  for (const s of SECTIONS) {
    if (!wants(s))
      status[s] = { status: 'skipped', reason: `not selected with --only ${opts.only?.join(',')}` };
    else if (s !== 'reference') status[s] = statusOf(s, outcomes, kindsOf[s]);
  }

  const matmulResults = ok<MatmulResult[]>('matmul').flatMap((o) => o.result);
  const matmul = { results: matmulResults, peakGflops: ortMatmulPeak(matmulResults) };

  let torch: string | null = null;
  let reference: BenchResults['reference'] = {
    torch: null,
    blas: null,
    dir: null,
    commands: [],
    train: [],
    matmulPeakGflops: { '1': null, '2': null },
    raw: null,
  };
  if (wants('reference')) {
    if (opts.quick)
      status.reference = { status: 'skipped', reason: 'skipped: --quick does not run the PyTorch reference' };
    else if (!probe?.ok) status.reference = { status: 'skipped', reason: `skipped: ${probe?.reason}` };
    else {
      torch = probe.torch;
      const raw = referenceRuns[0]!;
      const errors = [
        ...referenceRuns.flatMap((run, i) =>
          run.trainError ? [{ job: `bench_train.py (round ${i + 1})`, error: run.trainError }] : [],
        ),
        ...raw.matmul
          .filter((m) => m.error)
          .map((m) => ({ job: `bench_matmul.py ×${m.blasThreads}`, error: m.error! })),
      ];
      const runs = referenceRuns.length + raw.matmul.length;
      status.reference =
        errors.length === 0
          ? { status: 'ok' }
          : { status: errors.length === runs ? 'failed' : 'partial', errors };
      const batch = modelSize('base', false).batch;
      reference = {
        torch,
        blas: probe.blas,
        dir: probe.dir,
        commands: [raw.trainCommand, ...raw.matmulCommands],
        train: medianTorchRows(referenceRuns.map((run) => torchRows(run.train, batch, 1024))),
        matmulPeakGflops: torchMatmulPeak(raw),
        raw,
      };
    }
  }

  const configs = CONFIG_NAMES.map((name) => {
    const size = modelSize(name, opts.quick);
    return {
      ...size,
      forwardMacsPerRow: forwardMacs(size).total,
      trainFlopsPerSample: trainFlopsPerSample(size),
    };
  });
  const train: TrainRow[] = ok<TrainTiming>('train').map((o) => {
    const t = o.result;
    const flops = configs.find((c) => c.name === t.config)!.trainFlopsPerSample;
    const gflops = (t.samplesPerSecond * flops.total) / 1e9;
    const peak = t.runtime === 'node' ? (matmul.peakGflops[String(t.threads)] ?? null) : null;
    const ref = opts.quick ? undefined : reference.train.find((r) => r.config === t.config);
    return {
      ...t,
      gflops,
      gflopsModelOnly: (t.samplesPerSecond * flops.model) / 1e9,
      fractionOfPeak: peak ? gflops / peak : null,
      vsTorchStep: ref ? t.samplesPerSecond / ref.samplesPerSecondStep : null,
      ...roundRatios(t, ref),
      vsTorchEpoch: ref ? t.samplesPerSecond / ref.samplesPerSecondEpoch : null,
      peakRssMiB: o.peakRssMiB,
      load1AtStart: o.load1AtStart,
    };
  });
  const profile = ok<ProfileSummary>('profile').map((o) => ({
    config: (o.job as Extract<Job, { kind: 'profile' }>).config,
    threads: (o.job as Extract<Job, { kind: 'profile' }>).threads,
    summary: o.result,
  }));
  const inference = {
    cases: INFERENCE_CASES.map((c) => ({ name: c.name, description: c.description })),
    results: ok<InferenceResult[]>('infer').flatMap((o) => o.result),
  };
  const ingest = ok<IngestBenchResult>('ingest').map((o) => ({
    format: (o.job as Extract<Job, { kind: 'ingest' }>).format,
    result: o.result,
    childPeakRssMiB: o.peakRssMiB,
  }));
  const mem = ok<MemoryResult>('memory')[0];
  const memory = mem ? { ...mem.result, childPeakRssMiB: mem.peakRssMiB } : null;
  const trainer = ok<TrainerBenchResult>('trainer').map((o) => o.result);
  const serve = ok<ServeSectionResult>('serve')[0]?.result ?? null;
  const scoring = ok<ScoringBenchResult>('scoring')[0]?.result ?? null;
  const stream = ok<StreamSectionResult>('stream')[0]?.result ?? null;
  const start = ok<StartBenchResult>('start')[0]?.result ?? null;
  const pkg = ok<PackageBenchResult>('package')[0]?.result ?? null;

  const cpu = cpuInfo();
  const meta: RunMeta = {
    command: opts.command,
    date: new Date().toISOString(),
    quick: opts.quick,
    only: opts.only,
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    onnxruntimeWeb: packageVersion('onnxruntime-web'),
    cpuModel: cpu.model,
    cpuFlags: { avx2: cpu.avx2, avx512f: cpu.avx512f },
    cores: availableParallelism(),
    memoryGiB: totalmem() / 2 ** 30,
    loadavgBefore,
    loadavgAfter: loadavg(),
    torch,
    env: blasEnvironment(),
    wallSeconds: (performance.now() - t0) / 1000,
  };
  const tgs = targets({ train, matmul, reference, trainer, serve, meta, package: pkg });
  const results: BenchResults = {
    format: 'ocsf-embed.bench/1',
    meta,
    configs,
    status,
    train,
    matmul,
    profile,
    inference,
    ingest,
    scoring,
    memory,
    trainer,
    serve,
    stream,
    start,
    package: pkg,
    reference,
    targets: tgs,
    proposals: proposals({ profile, train, matmul, targets: tgs, trainer, serve, start }),
  };
  writeResults(results, opts.outDir);
  return results;
}

function writeResults(results: BenchResults, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'bench-results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(join(outDir, 'benchmarks.md'), renderReport(results));
  log(
    `wrote ${join(outDir, 'benchmarks.md')} and bench-results.json (run took ${results.meta.wallSeconds.toFixed(0)} s)`,
  );
}

/**
 * Rebuilds the report of an earlier run from its bench-results.json: the targets and findings are derived
 * again from the stored measurements, nothing is measured.
 */
export function rerender(file: string, outDir: string): BenchResults {
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  // Files written before a section existed lack its fields: mark it as not run.
  results.trainer ??= [];
  results.serve ??= null;
  results.start ??= null;
  results.package ??= null;
  for (const s of SECTIONS) {
    results.status[s] ??= {
      status: 'skipped',
      reason: 'skipped: not part of the benchmark when this run was made',
    };
  }
  results.targets = targets(results);
  results.proposals = proposals(results);
  writeResults(results, outDir);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const opts = parseOptions(process.argv.slice(2));
    if (opts.render) rerender(opts.render, opts.outDir);
    else await runBench(opts);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
