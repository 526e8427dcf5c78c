// The shape of docs/bench-results.json and the figures derived from the raw measurements: FLOP rates,
// ratios to the PyTorch reference, the matmul ceilings, the targets and the findings.

import type { InferenceResult } from './inference.ts';
import type { IngestBenchResult } from './ingest.ts';
import type { MatmulResult } from './matmul.ts';
import type { MemoryResult } from './memory.ts';
import type { PackageBenchResult } from './package.ts';
import type { ProfileSummary } from './profile.ts';
import type { BlasInfo, ReferenceOutput } from './reference.ts';
import type { ScoringBenchResult } from './scoring.ts';
import type { ServeSectionResult } from './service.ts';
import type { StartBenchResult } from './start.ts';
import type { StreamSectionResult } from './stream.ts';
import type { TrainTiming } from './train.ts';
import type { TrainerBenchResult } from './trainer.ts';

/** Every section of the results, in report order. */
export const SECTIONS = [
  'train',
  'trainer',
  'matmul',
  'profile',
  'inference',
  'ingest',
  'scoring',
  'memory',
  'serve',
  'stream',
  'start',
  'package',
  'reference',
] as const;
export type SectionName = (typeof SECTIONS)[number];

/** How a section went: `ok`, `partial` (some jobs failed), `failed`, or `skipped` with a reason. */
export interface SectionStatus {
  status: 'ok' | 'partial' | 'failed' | 'skipped';
  reason?: string;
  errors?: { job: string; error: string }[];
}

/** Where and how the run happened. */
export interface RunMeta {
  command: string;
  date: string;
  quick: boolean;
  only: SectionName[] | null;
  node: string;
  onnxruntimeNode: string;
  onnxruntimeWeb: string;
  cpuModel: string;
  cpuFlags: { avx2: boolean; avx512f: boolean };
  cores: number;
  memoryGiB: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  torch: string | null;
  /** BLAS-related environment variables as set when the run started (OPENBLAS_*, OMP_*, MKL_*). */
  env?: Record<string, string>;
  wallSeconds: number;
}

/** A model size with its parameter count and analytic cost. */
export interface ConfigInfo {
  name: string;
  dModel: number;
  numBlocks: number;
  batch: number;
  forwardMacsPerRow: number;
  trainFlopsPerSample: { model: number; similarityMatmul: number; total: number };
}

/** One training measurement with its derived rates. */
export interface TrainRow extends TrainTiming {
  gflops: number;
  gflopsModelOnly: number;
  /** Achieved GFLOP/s over the ORT matmul ceiling at the same thread count (node only). */
  fractionOfPeak: number | null;
  /** Our samples/s over PyTorch's per-step samples/s (batch / median step time). */
  vsTorchStep: number | null;
  /** Our samples/s over PyTorch's epoch samples/s (its headline figure, data loading included). */
  vsTorchEpoch: number | null;
  /** Round by round (ours and PyTorch alternating): our samples/s over PyTorch's per-step samples/s. */
  vsTorchRounds?: number[];
  peakRssMiB: number;
  load1AtStart: number;
}

/** The reference's figures for one config. */
export interface TorchConfigRow {
  config: string;
  params: number;
  samplesPerSecondEpoch: number;
  stepMs: number;
  samplesPerSecondStep: number;
  gflops: number;
  inferRowsPerSecond: number;
  inferBatch: number;
  inferBatch1LatencyMs: number;
  peakRssMiB: number;
  maxOtherCpuLoad: number;
  /** Per-step samples/s of every round, when the reference ran in rounds alternating with ours. */
  roundSamplesPerSecondStep?: number[];
}

/** A reported (never asserted) target. */
export interface Target {
  name: string;
  goal: number;
  measured: number | null;
  met: boolean | null;
  detail: string;
}

export interface BenchResults {
  format: 'ocsf-embed.bench/1';
  meta: RunMeta;
  configs: ConfigInfo[];
  status: Record<SectionName, SectionStatus>;
  train: TrainRow[];
  matmul: { results: MatmulResult[]; peakGflops: Record<string, number | null> };
  profile: { config: string; threads: number; summary: ProfileSummary }[];
  inference: { cases: { name: string; description: string }[]; results: InferenceResult[] };
  ingest: { format: string; result: IngestBenchResult; childPeakRssMiB: number }[];
  /** `embed` and `score` on the same events against a default-size run, per thread count. */
  scoring: ScoringBenchResult | null;
  memory: (MemoryResult & { childPeakRssMiB: number }) | null;
  /** `Trainer.fit` against the raw step, per thread count. */
  trainer: TrainerBenchResult[];
  /** `ocsf-embed serve` under concurrent single-event /score requests. */
  serve: ServeSectionResult | null;
  /** `ocsf-embed consume` workers on a NATS JetStream stream: events/s and publish → finding latency. */
  stream?: StreamSectionResult | null;
  /** `npm start`'s script end to end. */
  start: StartBenchResult | null;
  /** The packed package installed into a fresh project: its CLI's start against a bare `node -e 0`. */
  package: PackageBenchResult | null;
  reference: {
    torch: string | null;
    /** The BLAS PyTorch's GEMMs ran on. */
    blas: BlasInfo | null;
    dir: string | null;
    commands: string[];
    train: TorchConfigRow[];
    matmulPeakGflops: Record<string, number | null>;
    raw: ReferenceOutput | null;
  };
  targets: Target[];
  proposals: string[];
}

type Stat = { median: number };
interface TorchSummary {
  params: number;
  train_samples_per_s: Stat;
  train_step_ms_median: Stat;
  achieved_train_gflops_incl_similarity: Stat;
  infer_rows_per_s: Stat;
  infer_batch1_latency_ms: Stat;
  peak_rss_mib: Stat;
  max_other_cpu_load_measured_epochs: Stat;
}

/** The per-config rows of bench_train.py's JSON (medians over its repeats). */
export function torchRows(raw: unknown, batch: number, inferBatch: number): TorchConfigRow[] {
  const configs =
    (raw as { configs?: Record<string, { summary?: TorchSummary }> } | undefined)?.configs ?? {};
  return Object.entries(configs).flatMap(([config, entry]) => {
    const s = entry.summary;
    if (!s) return [];
    return [
      {
        config,
        params: s.params,
        samplesPerSecondEpoch: s.train_samples_per_s.median,
        stepMs: s.train_step_ms_median.median,
        samplesPerSecondStep: (1000 * batch) / s.train_step_ms_median.median,
        gflops: s.achieved_train_gflops_incl_similarity.median,
        inferRowsPerSecond: s.infer_rows_per_s.median,
        inferBatch,
        inferBatch1LatencyMs: s.infer_batch1_latency_ms.median,
        peakRssMiB: s.peak_rss_mib.median,
        maxOtherCpuLoad: s.max_other_cpu_load_measured_epochs.median,
      },
    ];
  });
}

/** Best square-matmul GFLOP/s per BLAS thread count from bench_matmul.py's JSON. */
export function torchMatmulPeak(raw: ReferenceOutput | null): Record<string, number | null> {
  const out: Record<string, number | null> = { '1': null, '2': null };
  for (const run of raw?.matmul ?? []) {
    const square = (run.result as { square?: { torch_best_gflops: number }[] } | undefined)?.square ?? [];
    if (square.length) out[String(run.blasThreads)] = Math.max(...square.map((r) => r.torch_best_gflops));
  }
  return out;
}

/** Best GFLOP/s over every measured shape, per thread count. */
export function ortMatmulPeak(results: MatmulResult[]): Record<string, number | null> {
  const out: Record<string, number | null> = { '1': null, '2': null };
  for (const r of results) {
    const key = String(r.threads);
    out[key] = Math.max(out[key] ?? 0, r.bestGflops);
  }
  return out;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(0)}%`;
}

function blasCaveat(
  r: Pick<BenchResults, 'reference' | 'matmul'> & Partial<Pick<BenchResults, 'meta'>>,
): string {
  const blas = r.reference.blas;
  const coretype = r.meta?.env?.OPENBLAS_CORETYPE;
  if (blas?.kind === 'openblas' && coretype) {
    return `. PyTorch's OpenBLAS ran with OPENBLAS_CORETYPE=${coretype} from the environment (its kernels for that core type${r.meta?.cpuFlags.avx512f ? ', not the AVX-512 ones this CPU could use' : ''})`;
  }
  if (blas?.kind === 'unknown') {
    return '. Caveat: the probe could not tell which BLAS PyTorch used, so its speed relative to an optimised BLAS is unknown';
  }
  if (!blas || blas.kind === 'openblas' || blas.kind === 'mkl' || blas.kind === 'blis') return '';
  const torchPeak = Math.max(r.reference.matmulPeakGflops['1'] ?? 0, r.reference.matmulPeakGflops['2'] ?? 0);
  const ortPeak = Math.max(r.matmul.peakGflops['1'] ?? 0, r.matmul.peakGflops['2'] ?? 0);
  const peaks =
    torchPeak > 0 && ortPeak > 0
      ? ` (best matmul ${torchPeak.toFixed(1)} GFLOP/s vs ONNX Runtime's ${ortPeak.toFixed(1)})`
      : '';
  return `. Caveat: PyTorch here runs its GEMMs on the ${blas.name}${peaks}, so this ratio overstates the lead over a PyTorch built on an optimised BLAS`;
}

/** The Trainer's target: its samples/s at least this fraction of the raw step's. */
export const TRAINER_GOAL = 0.9;

/**
 * The reported targets: demo config ≥ 2× PyTorch, ≥ 50% of the 2-thread matmul ceiling at dModel 512, the
 * Trainer within 10% of the raw step, and the service's /score p99 under 50 ms with 100 clients.
 */
export function targets(
  r: Pick<BenchResults, 'train' | 'reference' | 'matmul'> &
    Partial<Pick<BenchResults, 'trainer' | 'serve' | 'meta' | 'package'>>,
): Target[] {
  const out: Target[] = [];
  for (const [config, goal, label] of [
    ['base', 2, 'demo config (base)'],
    ['large', 1.2, 'large config'],
    ['small', 3, 'small config'],
  ] as const) {
    out.push(versusTorch(r, config, goal, label));
  }
  const large = r.train.find((t) => t.config === 'large' && t.runtime === 'node' && t.threads === 2);
  const peak2 = r.matmul.peakGflops['2'] ?? null;
  if (large && peak2) {
    const f = large.gflops / peak2;
    out.push({
      name: 'large config (dModel 512) training ≥ 50% of the 2-thread matmul ceiling',
      goal: 0.5,
      measured: f,
      met: f >= 0.5,
      detail:
        `${large.gflops.toFixed(1)} GFLOP/s (onnxruntime-node ×2) of ${peak2.toFixed(1)} GFLOP/s: ${pct(f)}` +
        (f >= 0.5
          ? ''
          : `; missed by ${(100 * (0.5 - f)).toFixed(0)} percentage points (a ${(0.5 / f).toFixed(2)}× speed-up is still needed)`),
    });
  } else {
    out.push({
      name: 'large config (dModel 512) training ≥ 50% of the 2-thread matmul ceiling',
      goal: 0.5,
      measured: null,
      met: null,
      detail: 'not measured: needs the train and matmul sections with 2 threads',
    });
  }
  out.push(wasmTarget(r.train));
  out.push(trainerTarget(r.trainer ?? []));
  out.push(serveTarget(r.serve ?? null));
  out.push(startupTarget(r.package ?? null));
  return out;
}

/** The installed CLI's `--version` within 8× a bare `node -e 0` of the same rounds. */
function startupTarget(p: PackageBenchResult | null): Target {
  const name = 'installed CLI `--version` ≤ 8× a bare `node -e 0`';
  if (!p)
    return { name, goal: 8, measured: null, met: null, detail: 'not measured: needs the package section' };
  const r = p.versionOverNode;
  return {
    name,
    goal: 8,
    measured: r,
    met: r <= 8,
    detail: `median ${p.medianMs.version.toFixed(0)} ms against ${p.medianMs.node.toFixed(0)} ms over ${p.rounds} alternating rounds: ${r.toFixed(2)}×`,
  };
}

/** Training at 2 threads on onnxruntime-node against PyTorch's per-step throughput from the same run. */
function versusTorch(
  r: Pick<BenchResults, 'train' | 'reference' | 'matmul'> & Partial<Pick<BenchResults, 'meta'>>,
  config: string,
  goal: number,
  label: string,
): Target {
  const name = `${label} training at 2 threads ≥ ${goal}× PyTorch throughput`;
  const ours = r.train.find((t) => t.config === config && t.runtime === 'node' && t.threads === 2);
  const torch = r.reference.train.find((t) => t.config === config);
  if (!ours || !torch) {
    return {
      name,
      goal,
      measured: null,
      met: null,
      detail: 'not measured: needs the train and reference sections',
    };
  }
  const ratio = ours.samplesPerSecond / torch.samplesPerSecondStep;
  const rounds = ours.vsTorchRounds ?? [];
  const met = ratio >= goal && rounds.every((x) => x >= goal);
  return {
    name,
    goal,
    measured: ratio,
    met,
    detail:
      `${ours.samplesPerSecond.toFixed(0)} samples/s (onnxruntime-node ×2) vs PyTorch ` +
      `${torch.samplesPerSecondStep.toFixed(0)} samples/s per step: ${ratio.toFixed(2)}×` +
      (rounds.length > 1
        ? ` (medians of ${rounds.length} alternating rounds; round by round ${rounds.map((x) => `${x.toFixed(2)}×`).join(', ')})`
        : '') +
      (ratio >= goal
        ? ''
        : `; missed by ${pct(1 - ratio / goal)} (a ${(goal / ratio).toFixed(2)}× speed-up is still needed)`) +
      blasCaveat(r),
  };
}

/** onnxruntime-web's wasm (in Node and in Chromium) within 2× of onnxruntime-node's step time at the same thread count. */
function wasmTarget(train: TrainRow[]): Target {
  const name = 'wasm (Node; Chromium for base) within 2× of onnxruntime-node at the same thread count';
  const pairs = train
    .filter((t) => t.runtime !== 'node')
    .flatMap((w) => {
      const node = train.find(
        (t) => t.runtime === 'node' && t.config === w.config && t.threads === w.threads,
      );
      return node ? [{ w, slowdown: w.stepMsMedian / node.stepMsMedian }] : [];
    });
  if (pairs.length === 0) {
    return {
      name,
      goal: 2,
      measured: null,
      met: null,
      detail: 'not measured: needs wasm and node rows of the train section',
    };
  }
  const worst = Math.max(...pairs.map((p) => p.slowdown));
  return {
    name,
    goal: 2,
    measured: worst,
    met: worst <= 2,
    detail: `step time wasm / node: ${pairs
      .map(
        (p) =>
          `${p.w.config} ${p.w.runtime === 'chromium' ? 'Chromium' : 'Node'} ×${p.w.threads} ${p.slowdown.toFixed(2)}×`,
      )
      .join(', ')}`,
  };
}

function trainerTarget(rows: TrainerBenchResult[]): Target {
  const name = 'demo config through Trainer.fit within 10% of the raw step (samples/s ≥ 0.9× raw)';
  if (rows.length === 0) {
    return {
      name,
      goal: TRAINER_GOAL,
      measured: null,
      met: null,
      detail: 'not measured: needs the trainer section',
    };
  }
  const sorted = [...rows].sort((a, b) => a.threads - b.threads);
  const worst = [...rows].sort((a, b) => a.ratio - b.ratio)[0]!;
  const met = worst.ratio >= TRAINER_GOAL;
  const parts = sorted.map(
    (t) =>
      `×${t.threads}: ${t.trainerSamplesPerSecond.toFixed(0)} vs ${t.rawSamplesPerSecond.toFixed(0)} samples/s ` +
      `(${t.ratio.toFixed(2)}×, ${t.overheadMsPerStep >= 0 ? '+' : ''}${t.overheadMsPerStep.toFixed(1)} ms/step)`,
  );
  return {
    name,
    goal: TRAINER_GOAL,
    measured: worst.ratio,
    met,
    detail:
      `onnxruntime-node, median of ${sorted[0]!.rounds ?? 1} one-epoch fits of ${sorted[0]!.trainerSteps} steps against ` +
      'the train harness, interleaved in the same process: ' +
      parts.join('; ') +
      (met
        ? ''
        : `; missed at ×${worst.threads} by ${(100 * (TRAINER_GOAL - worst.ratio)).toFixed(0)} percentage points`),
  };
}

function serveTarget(s: ServeSectionResult | null): Target {
  const name = 'service /score p99 < 50 ms under 100 concurrent single-event requests';
  if (!s)
    return { name, goal: 50, measured: null, met: null, detail: 'not measured: needs the serve section' };
  const l = s.latencyMs;
  const msPerEvent = 1000 / s.requestsPerSecond;
  const why =
    `; missed: at ${s.requestsPerSecond.toFixed(0)} req/s the service spends ≈ ${msPerEvent.toFixed(2)} ms per event ` +
    `(the model call and the scorer's k-NN search over ${s.referenceEvents ?? '?'} reference events; docs/serving.md puts ` +
    'the scoring cost at ≈ 0.3 ms per event on one core), so with ' +
    `${s.concurrency} requests in flight each waits ≈ ${s.concurrency} × ${msPerEvent.toFixed(2)} ≈ ` +
    `${(s.concurrency * msPerEvent).toFixed(0)} ms on average (Little's law), with ${s.cores} cores shared by the load generator`;
  return {
    name,
    goal: s.targetP99Ms,
    measured: l.p99,
    met: s.metTarget,
    detail:
      `p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, ${s.requestsPerSecond.toFixed(0)} req/s, ${s.errors} errors, ` +
      `${s.meanModelBatch?.toFixed(1) ?? '?'} events per model call (${s.requests} requests from ${s.concurrency} clients, ` +
      `run of dModel ${s.modelConfig.dModel} × ${s.modelConfig.numBlocks} blocks)` +
      (s.metTarget
        ? ''
        : s.errors > 0 && l.p99 < s.targetP99Ms
          ? `; missed: ${s.errors} requests failed`
          : why),
  };
}

interface Finding {
  /** Milliseconds per step this finding could win back at most. */
  ms: number;
  text: string;
  next: string;
}

/**
 * Findings from the demo config's profile, thread scaling and targets, largest first; the largest becomes the
 * proposed next step. Every figure comes from the run.
 */
export function proposals(
  r: Pick<BenchResults, 'profile' | 'train' | 'matmul' | 'targets'> &
    Partial<Pick<BenchResults, 'trainer' | 'serve' | 'start'>>,
): string[] {
  const { lines, next } = profileFindings(r);
  return [...lines, ...sectionFindings(r), ...(next ? [next] : [])];
}

/** Findings of the trainer, serve and start sections. */
function sectionFindings(r: Partial<Pick<BenchResults, 'trainer' | 'serve' | 'start'>>): string[] {
  const out: string[] = [];
  const trainer = [...(r.trainer ?? [])].sort((a, b) => a.threads - b.threads);
  if (trainer.length) {
    const worst = [...trainer].sort((a, b) => a.ratio - b.ratio)[0]!;
    const each = trainer
      .map(
        (t) =>
          `${t.ratio.toFixed(2)}× at ×${t.threads} (${t.trainerStepMs.toFixed(1)} vs ${t.rawStepMsMedian.toFixed(1)} ms/step)`,
      )
      .join(', ');
    const spreads = trainer
      .map((t) => {
        const reps = t.rawRepetitionStepMs;
        return `${Math.min(...reps).toFixed(1)}–${Math.max(...reps).toFixed(1)} ms at ×${t.threads}`;
      })
      .join(', ');
    const within = trainer.every(
      (t) => t.overheadMsPerStep <= Math.max(...t.rawRepetitionStepMs) - Math.min(...t.rawRepetitionStepMs),
    );
    const most = Math.max(...trainer.map((t) => t.overheadMsPerStep));
    out.push(
      worst.ratio >= TRAINER_GOAL
        ? `Trainer.fit keeps up with the raw step: ${each}. What it adds per step (gathering the shuffled batch, which ` +
            'it does while the previous step runs, converting the category ids to int64, building the feeds) costs ' +
            `${most > 0 ? `at most ${most.toFixed(1)} ms/step` : 'no measurable time'}` +
            (within ? `, within the spread of the raw step's own repetitions (${spreads}).` : '.')
        : `Trainer.fit falls behind the raw step: ${each}. Next: find what the Trainer does per step that the harness ` +
            'does not (batch gathering and int64 conversion, the feeds object, the scalars, the metrics read back) with a ' +
            'CPU profile of `fit`.',
    );
  }
  const s = r.serve;
  if (s) {
    const msPerEvent = 1000 / s.requestsPerSecond;
    out.push(
      `Service: /score p99 ${s.latencyMs.p99.toFixed(1)} ms (p50 ${s.latencyMs.p50.toFixed(1)} ms) with ${s.concurrency} ` +
        `clients at ${s.requestsPerSecond.toFixed(0)} req/s (≈ ${msPerEvent.toFixed(2)} ms of service time per event, ` +
        `scorer over ${s.referenceEvents ?? '?'} reference events), ${s.meanModelBatch?.toFixed(1) ?? '?'} events per ` +
        'model call' +
        (s.metTarget
          ? '.'
          : `: the latency is queueing behind ≈ ${msPerEvent.toFixed(2)} ms of scoring per event on one core ` +
            `(k-NN over ${s.referenceEvents ?? '?'} reference events). Next: a cheaper k-NN per event (fewer reference ` +
            'rows or a faster top-k) lowers the p99 in proportion; more clients than the service can score per 50 ms ' +
            'will always queue.'),
    );
  }
  const st = r.start;
  if (st) {
    out.push(
      `npm start end to end: ${st.wallSeconds.toFixed(0)} s wall for ${st.trainingEvents ?? '?'} training events ` +
        `(${st.steps ?? '?'} steps at ${st.samplesPerSecond ?? '?'} samples/s, ${st.stopReason ?? '?'}); detection on ` +
        `${st.detectionOn ?? '?'}: ROC-AUC ${st.rocAuc?.toFixed(3) ?? '?'}, PR-AUC ${st.prAuc?.toFixed(3) ?? '?'}.`,
    );
  }
  return out;
}

/** The profile's findings, largest first, and the training step's proposed next step. */
function profileFindings(r: Pick<BenchResults, 'profile' | 'train' | 'matmul' | 'targets'>): {
  lines: string[];
  next: string | null;
} {
  const prof = r.profile.find((p) => p.threads === 1) ?? r.profile[0];
  if (!prof) return { lines: [], next: null };
  const s = prof.summary;
  const cat = (name: string) => s.byCategory.find((c) => c.name.startsWith(name));
  const gemm = cat('GEMM');
  const rng = cat('RNG');
  const other = cat('other');
  const gemmMs = gemm?.msPerStep ?? 0;
  const gemmRate = gemm?.gflops ?? 0;
  const peak = r.matmul.peakGflops[String(prof.threads)] ?? null;
  const findings: Finding[] = [];
  const lead =
    `Profile of the demo config (×${prof.threads}, ${s.nodesPerStep.toFixed(0)} nodes/step): ` +
    `${s.wallMsPerStep.toFixed(1)} ms/step wall, of which kernels ${s.kernelMsPerStep.toFixed(1)} ms — ` +
    s.byCategory.map((c) => `${c.name} ${c.msPerStep.toFixed(1)} ms (${pct(c.share)})`).join(', ') +
    '.';
  if (gemm && peak) {
    const ideal = (gemm.gflopPerStep ?? 0) / peak;
    const slow = s.gemmShapes
      .filter((g) => g.msPerStep >= 0.05 * gemmMs)
      .sort((a, b) => a.gflops - b.gflops)
      .slice(0, 2)
      .map(
        (g) =>
          `${g.op} ${g.shape} (${g.phase}, ${g.nodesPerStep.toFixed(0)}×/step, ${g.gflops.toFixed(0)} GFLOP/s)`,
      );
    findings.push({
      ms: gemmMs - ideal * 1000,
      text:
        `GEMM kernels run at ${gemmRate.toFixed(0)} GFLOP/s, ${pct(gemmRate / peak)} of ONNX Runtime's ${prof.threads}-thread ` +
        `MatMul ceiling (${peak.toFixed(0)}); at the ceiling they would take ${(ideal * 1000).toFixed(1)} ms instead of ` +
        `${gemmMs.toFixed(1)} ms. Least efficient: ${slow.join('; ')}.`,
      next:
        'raise GEMM efficiency on the least efficient shapes above: measure each against plain MatMul on ' +
        'pre-transposed operands (the Gemm trans variants and the batched GEMV sums are the candidates) and give ' +
        'the GEMMs more rows (larger batch).',
    });
  }
  if (rng && rng.msPerStep > 0) {
    findings.push({
      ms: rng.msPerStep,
      text:
        `The in-graph RNG's uint32 hash takes ${rng.msPerStep.toFixed(1)} ms/step (${pct(rng.share)} of kernel time) in ` +
        `${rng.nodesPerStep.toFixed(0)} nodes, before the float conversion and mask ops that follow it.`,
      next:
        'make the RNG cheaper: one hash chain per step for all dropout layers and views (one counter range, then ' +
        'Split) instead of one chain per layer, or fewer mixing rounds per word.',
    });
  }
  if (other && other.msPerStep > 0) {
    const top = s.byOpType
      .filter((o) => o.name !== 'MatMul' && o.name !== 'Gemm')
      .slice(0, 4)
      .map((o) => `${o.name} ${o.msPerStep.toFixed(1)} ms/${o.nodesPerStep.toFixed(0)} nodes`)
      .join(', ');
    findings.push({
      ms: other.msPerStep,
      text: `Other kernels take ${other.msPerStep.toFixed(1)} ms/step (${pct(other.share)}); largest non-GEMM op types (RNG nodes included): ${top}.`,
      next:
        'fuse elementwise chains into fewer, larger nodes: the BatchNorm forward/backward arithmetic (e.g. ONNX ' +
        'BatchNormalization in inference form fed with the batch statistics), the dropout mask and scale, and the ' +
        'per-parameter reshapes around the flat AdamW update.',
    });
  }
  const outside = s.wallMsPerStep - s.kernelMsPerStep;
  if (outside > 0) {
    findings.push({
      ms: outside,
      text:
        `Outside kernels: ${outside.toFixed(1)} ms of the profiled step's ${s.wallMsPerStep.toFixed(1)} ms ` +
        `(${pct(outside / s.wallMsPerStep)}): ${s.overheadMsPerStep.toFixed(1)} ms executor overhead inside ONNX Runtime ` +
        `over ${s.nodesPerStep.toFixed(0)} nodes and ${s.outsideRunMsPerStep.toFixed(1)} ms in the binding and JavaScript ` +
        '(the profiler adds to both).',
      next: `cut the node count (${s.nodesPerStep.toFixed(0)} per step): every node costs executor time regardless of size.`,
    });
  }
  const out = [lead];
  findings.sort((a, b) => b.ms - a.ms);
  out.push(...findings.map((f) => f.text));
  const p2 = r.profile.find((p) => p.threads === 2 && p.config === prof.config);
  const gemm2 = p2?.summary.byCategory.find((c) => c.name.startsWith('GEMM'))?.msPerStep;
  const kernel2 = p2?.summary.kernelMsPerStep;
  const scaling =
    gemm2 !== undefined && kernel2 !== undefined
      ? ` In the ${prof.config} profile, GEMM kernels go from ${gemmMs.toFixed(1)} to ${gemm2.toFixed(1)} ms with the ` +
        `second thread and all other kernels from ${(s.kernelMsPerStep - gemmMs).toFixed(1)} to ` +
        `${(kernel2 - gemm2).toFixed(1)} ms.`
      : '';
  const ceilingScaling = (r.matmul.peakGflops['2'] ?? Number.NaN) / (r.matmul.peakGflops['1'] ?? Number.NaN);
  const lines = ['base', 'large'].flatMap((config) => {
    const n1 = r.train.find((t) => t.config === config && t.runtime === 'node' && t.threads === 1);
    const n2 = r.train.find((t) => t.config === config && t.runtime === 'node' && t.threads === 2);
    return n1 && n2
      ? [
          `${config} ${n1.stepMsMedian.toFixed(1)} → ${n2.stepMsMedian.toFixed(1)} ms (${(n1.stepMsMedian / n2.stepMsMedian).toFixed(2)}×)`,
        ]
      : [];
  });
  if (lines.length) {
    out.push(
      `Two intra-op threads: ${lines.join(', ')}, against ${ceilingScaling.toFixed(2)}× for the matmul ceiling.${scaling}`,
    );
  }
  const missed = r.targets.filter((t) => t.met === false && !t.name.startsWith('service'));
  const next = findings[0]
    ? `${missed.length ? 'Proposed next step' : 'Next step'} for the training step (largest recoverable time, ` +
      `${findings[0].ms.toFixed(1)} ms/step): ${findings[0].next}`
    : null;
  return { lines: out, next };
}
