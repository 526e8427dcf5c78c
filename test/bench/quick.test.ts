// The benchmark's option parsing, profile maths, the parsing of `npm start`'s summary and the trainer and
// service targets. The quick benchmark run end to end is `npm run bench:check`, outside the unit suite.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { gemmFlops, type ProfileEvent, summarizeProfile } from '../../scripts/bench/profile.ts';
import type { BenchResults, TorchConfigRow, TrainRow } from '../../scripts/bench/results.ts';
import { targets } from '../../scripts/bench/results.ts';
import { blasEnvironment, medianTorchRows, parseOptions, REPO_ROOT } from '../../scripts/bench/run.ts';
import type { ServeSectionResult } from '../../scripts/bench/service.ts';
import { parseStartOutput } from '../../scripts/bench/start.ts';
import type { TrainerBenchResult } from '../../scripts/bench/trainer.ts';

const _DOCS_REPORT = join(REPO_ROOT, 'docs', 'benchmarks.md');

describe('bench options', () => {
  test('quick and --only never default to docs/', () => {
    assert.notEqual(parseOptions(['--quick']).outDir, resolve(REPO_ROOT, 'docs'));
    assert.notEqual(parseOptions(['--only', 'train,matmul']).outDir, resolve(REPO_ROOT, 'docs'));
    assert.equal(parseOptions([]).outDir, resolve(REPO_ROOT, 'docs'));
    assert.deepEqual(parseOptions(['--only', 'train,infer']).only, ['train', 'inference']);
    assert.deepEqual(parseOptions(['--only', 'trainer,serve,start']).only, ['trainer', 'serve', 'start']);
    assert.deepEqual(blasEnvironment({ OPENBLAS_CORETYPE: 'Haswell', PATH: '/bin', OMP_NUM_THREADS: '1' }), {
      OMP_NUM_THREADS: '1',
      OPENBLAS_CORETYPE: 'Haswell',
    });
    assert.throws(() => parseOptions(['--only', 'nope']), /unknown section 'nope'/);
  });
});

describe('npm start summary', () => {
  test('parses the training, detection and threshold lines', () => {
    const out = [
      'generated 72000 training events (day 1, 1440 anomalous) → runs/demo/data/events.jsonl',
      '── summary ─────────────────────────────────────────────',
      'run directory   runs/demo  (model.onnx, report.html, checkpoints, metrics.jsonl)',
      'training        2530 steps, 5869 samples/s, completed 10 epochs',
      'detection       24000 held-out events of day 2: ROC-AUC 0.912, PR-AUC 0.404 (anomaly rate 0.020)',
      'at threshold    precision 0.250, recall 0.600, 1152 flagged',
      'total time      115 s',
    ].join('\n');
    assert.deepEqual(parseStartOutput(out), {
      trainingEvents: 72000,
      steps: 2530,
      samplesPerSecond: 5869,
      stopReason: 'completed 10 epochs',
      detectionOn: '24000 held-out events of day 2',
      rocAuc: 0.912,
      prAuc: 0.404,
      anomalyRate: 0.02,
      precision: 0.25,
      recall: 0.6,
      flagged: 1152,
      scriptSeconds: 115,
    });
    assert.equal(parseStartOutput('nothing').rocAuc, null);
  });
});

/** The target whose name contains `part`. */
function named(list: ReturnType<typeof targets>, part: string) {
  const t = list.find((x) => x.name.includes(part));
  assert.ok(t, `no target named like ${part}`);
  return t;
}

describe('bench targets', () => {
  const empty = {
    train: [],
    matmul: { results: [], peakGflops: {} },
    reference: {
      torch: null,
      blas: null,
      dir: null,
      commands: [],
      train: [],
      matmulPeakGflops: {},
      raw: null,
    },
  } satisfies Pick<BenchResults, 'train' | 'matmul' | 'reference'>;
  const trainerRow = (threads: number, ratio: number) =>
    ({
      threads,
      ratio,
      trainerSamplesPerSecond: 1000 * ratio,
      rawSamplesPerSecond: 1000,
      trainerStepMs: 256 / ratio,
      rawStepMsMedian: 256,
      overheadMsPerStep: 256 / ratio - 256,
      trainerSteps: 60,
    }) as TrainerBenchResult;

  test('a PyTorch target holds only if it holds in every round; wasm is compared at the same thread count', () => {
    const row = (runtime: string, stepMs: number, rounds?: number[]) =>
      ({
        config: 'base',
        runtime,
        threads: 2,
        batch: 256,
        stepMsMedian: stepMs,
        samplesPerSecond: (1000 * 256) / stepMs,
        ...(rounds && { vsTorchRounds: rounds }),
      }) as unknown as TrainRow;
    const torch = { config: 'base', samplesPerSecondStep: 900 } as TorchConfigRow;
    const train = [row('node', 128, [2.3, 1.9, 2.2]), row('wasm', 300), row('chromium', 250)];
    const list = targets({ ...empty, train, reference: { ...empty.reference, train: [torch] } });
    const base = named(list, 'demo config');
    assert.ok(Math.abs(base.measured! - 2000 / 900) < 1e-9);
    assert.equal(base.met, false);
    assert.match(base.detail, /round by round 2\.30×, 1\.90×, 2\.20×/);
    const wasm = named(list, 'wasm');
    assert.equal(wasm.met, false);
    assert.ok(Math.abs(wasm.measured! - 300 / 128) < 1e-9);
    assert.match(wasm.detail, /base Node ×2 2\.34×, base Chromium ×2 1\.95×/);
  });

  test('the median round is one of the rounds, with every round kept', () => {
    const rows = medianTorchRows([
      [{ config: 'base', samplesPerSecondStep: 800 } as TorchConfigRow],
      [{ config: 'base', samplesPerSecondStep: 1000 } as TorchConfigRow],
      [{ config: 'base', samplesPerSecondStep: 900 } as TorchConfigRow],
    ]);
    assert.equal(rows[0]!.samplesPerSecondStep, 900);
    assert.deepEqual(rows[0]!.roundSamplesPerSecondStep, [800, 1000, 900]);
  });

  test('the Trainer target takes the worse thread count', () => {
    const t = named(targets({ ...empty, trainer: [trainerRow(1, 0.97), trainerRow(2, 0.85)] }), 'Trainer');
    assert.equal(t.met, false);
    assert.equal(t.measured, 0.85);
    assert.match(t.detail, /missed at ×2 by 5 percentage points/);
    assert.equal(named(targets({ ...empty, trainer: [trainerRow(1, 0.95)] }), 'Trainer').met, true);
    assert.equal(named(targets(empty), 'Trainer').met, null);
  });

  test('a missed service p99 names the scoring cost per event', () => {
    const serve = {
      route: '/score',
      requests: 5000,
      concurrency: 100,
      microBatch: true,
      errors: 0,
      seconds: 2.5,
      requestsPerSecond: 2000,
      latencyMs: { p50: 45, p90: 55, p99: 68, max: 80, mean: 48 },
      targetP99Ms: 50,
      metTarget: false,
      meanModelBatch: 49,
      serverLatencyMs: null,
      referenceEvents: 16384,
      dimension: 64,
      cores: 2,
      cpuCores: { loadGenerator: 0.6, service: 1.1 },
      load1: 1.5,
      warmup: 3000,
      trainEvents: 20000,
      trainSeconds: 10,
      modelConfig: { dModel: 64, numBlocks: 2 },
    } satisfies ServeSectionResult;
    const t = named(targets({ ...empty, serve }), 'service');
    assert.equal(t.met, false);
    assert.equal(t.measured, 68);
    assert.match(t.detail, /≈ 0\.50 ms per event/);
    assert.match(t.detail, /16384 reference events/);
    assert.match(t.detail, /one core/);
  });
});

describe('profile summary', () => {
  const node = (name: string, op: string, ts: number, dur: number, a: number[], b: number[], y: number[]) =>
    ({
      cat: 'Node',
      name: `${name}_kernel_time`,
      ts,
      dur,
      args: {
        op_name: op,
        input_type_shape: [{ float: a }, { float: b }],
        output_type_shape: [{ float: y }],
      },
    }) as ProfileEvent;

  test('counts GEMM FLOPs from shapes', () => {
    assert.equal(
      gemmFlops(node('x/MatMul_1', 'MatMul', 0, 1, [512, 256], [256, 128], [512, 128])),
      2 * 512 * 256 * 128,
    );
    assert.equal(
      gemmFlops(node('x/Gemm_1', 'Gemm', 0, 1, [256, 512], [256, 64], [256, 64])),
      2 * 256 * 64 * 512,
    );
    assert.equal(gemmFlops(node('x/Add_1', 'Add', 0, 1, [4], [4], [4])), 0);
  });

  test('drops warm-up runs and splits kernel time by op type and phase', () => {
    const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur }) as ProfileEvent;
    const events = [
      run(0, 100),
      node('blocks.0/Gemm_1', 'Gemm', 10, 50, [8, 4], [4, 4], [8, 4]),
      run(200, 100),
      node('blocks.0/Gemm_1', 'Gemm', 210, 40, [8, 4], [4, 4], [8, 4]),
      node('backward/grad/Relu_2/Where_3', 'Where', 260, 20, [8], [8], [8]),
    ];
    const s = summarizeProfile(events, 1, [0.2, 0.15]);
    assert.equal(s.steps, 1);
    assert.equal(s.kernelMsPerStep, 0.06);
    assert.ok(Math.abs(s.overheadMsPerStep - 0.04) < 1e-12);
    assert.ok(Math.abs(s.outsideRunMsPerStep - 0.05) < 1e-12);
    assert.deepEqual(
      s.byOpType.map((o) => [o.name, o.nodesPerStep]),
      [
        ['Gemm', 1],
        ['Where', 1],
      ],
    );
    assert.deepEqual(s.byPhase.map((o) => o.name).sort(), ['backward', 'forward']);
  });
});
