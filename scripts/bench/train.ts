// The training-step harness: builds the fused step for a model size, feeds it random batches on
// onnxruntime-node or onnxruntime-web, and times it (warm-up, then repetitions of several steps).
import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-common';
import { Tensor } from 'onnxruntime-common';
import { type Artifacts, buildArtifacts, NEXT } from '../../graphs/artifacts.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { CARDINALITIES, type ModelSize, NUM_NUMERICAL, type TimingPlan, trainingConfig } from './configs.ts';
import { median } from './stats.ts';

/** Where a session runs: onnxruntime-node's CPU provider or onnxruntime-web's wasm, with its thread count. */
export interface RuntimeChoice {
  runtime: 'node' | 'wasm';
  threads: number;
}

/** A readable label such as `node ×2` or `wasm ×1`. */
export function runtimeLabel(r: RuntimeChoice): string {
  return `${r.runtime === 'node' ? 'onnxruntime-node cpu' : 'onnxruntime-web wasm'} ×${r.threads}`;
}

/** Creates an ONNX Runtime session on the chosen runtime through the project's session factories. */
export async function openSession(
  bytes: Uint8Array,
  choice: RuntimeChoice,
  profile?: string,
): Promise<{ session: InferenceSession; notice?: string }> {
  const config = { device: 'cpu' as const, threads: choice.threads, ...(profile ? { profile } : {}) };
  if (choice.runtime === 'node') {
    const { createSession } = await import('../../src/runtime/session.node.ts');
    return createSession(bytes, config);
  }
  const { createSession } = await import('../../src/runtime/session.web.ts');
  return createSession(bytes, config);
}

/** A seeded xorshift generator with uniform and standard-normal draws. */
export class Random {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

/** Standard-normal numericals [rows, 50] and uniform categorical ids [rows, 4] for the tutorial's columns. */
export function randomRows(
  rows: number,
  rng: Random,
): { numerical: Float32Array; categorical: BigInt64Array } {
  const numerical = new Float32Array(rows * NUM_NUMERICAL);
  for (let i = 0; i < numerical.length; i++) numerical[i] = rng.normal();
  const categorical = new BigInt64Array(rows * CARDINALITIES.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < CARDINALITIES.length; c++) {
      categorical[r * CARDINALITIES.length + c] = BigInt(rng.int(CARDINALITIES[c]!));
    }
  }
  return { numerical, categorical };
}

function tensorOf(t: TensorData): Tensor {
  return new Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
}

/** A batch as the step's `numerical` and `categorical` feeds. */
export function batchFeeds(batch: number, numerical: Float32Array, categorical: BigInt64Array) {
  return {
    numerical: new Tensor('float32', numerical, [batch, NUM_NUMERICAL]),
    categorical: new Tensor('int64', categorical, [batch, CARDINALITIES.length]),
  };
}

/**
 * The training loop's state between steps: every parameter, buffer and AdamW moment as a tensor.
 * `advance` replaces each input with the step's `<name>.next` output, without copying.
 */
export class StepState {
  readonly feeds: Record<string, Tensor> = {};
  private readonly carried: string[];
  private stepNumber = 0;

  constructor(
    readonly artifacts: Artifacts,
    readonly lr = 1e-3,
    readonly seed = 1,
  ) {
    const m = artifacts.manifest;
    for (const s of m.state) {
      const t = artifacts.initial.get(s.name);
      if (!t) throw new Error(`no initial value for ${s.name}`);
      this.feeds[s.name] = tensorOf(t);
    }
    const p = m.optimizerLayout.reduce((a, s) => a + s.size, 0);
    this.feeds['optim.exp_avg'] = new Tensor('float32', new Float32Array(p), [p]);
    this.feeds['optim.exp_avg_sq'] = new Tensor('float32', new Float32Array(p), [p]);
    this.feeds.lr = new Tensor('float64', Float64Array.of(lr), []);
    this.feeds.seed = new Tensor('int64', BigInt64Array.of(BigInt(seed)), []);
    this.carried = m.graphs.train_step.outputs.filter((o) => o.name.endsWith(NEXT)).map((o) => o.name);
  }

  /** Sets the batch and the next step number (1, 2, 3, …). */
  prepare(batch: { numerical: Tensor; categorical: Tensor }): Record<string, Tensor> {
    this.stepNumber += 1;
    this.feeds.step = new Tensor('int64', BigInt64Array.of(BigInt(this.stepNumber)), []);
    this.feeds.numerical = batch.numerical;
    this.feeds.categorical = batch.categorical;
    return this.feeds;
  }

  /** Feeds every `<name>.next` output back as `<name>`; returns the loss. */
  advance(out: Record<string, Tensor>): number {
    for (const name of this.carried) this.feeds[name.slice(0, -NEXT.length)] = out[name]!;
    return Number((out.loss!.data as Float32Array)[0]);
  }
}

/** Builds the fused step (and everything else) for a model size; returns the artifacts and the build time. */
export function buildFor(size: ModelSize): { artifacts: Artifacts; buildMs: number } {
  const t0 = performance.now();
  const artifacts = buildArtifacts(trainingConfig(size), size.batch, 1);
  return { artifacts, buildMs: performance.now() - t0 };
}

/** The result of timing one configuration on one runtime. */
export interface TrainTiming {
  config: string;
  dModel: number;
  numBlocks: number;
  batch: number;
  params: number;
  runtime: RuntimeChoice['runtime'];
  threads: number;
  buildMs: number;
  sessionMs: number;
  warmupSteps: number;
  repetitions: number;
  stepsPerRepetition: number;
  /** ms per step of each repetition (its mean). */
  repetitionStepMs: number[];
  stepMsMedian: number;
  stepMsMin: number;
  stepMsMax: number;
  samplesPerSecond: number;
  firstLoss: number;
  lastLoss: number;
  notice?: string;
}

const BATCH_POOL = 8;

/** A pool of random batches, each already wrapped as feeds. */
export function batchPool(batch: number, count = BATCH_POOL, seed = 7) {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => {
    const { numerical, categorical } = randomRows(batch, rng);
    return batchFeeds(batch, numerical, categorical);
  });
}

/** Times the fused training step of `size` on `choice` (session creation excluded). */
export async function timeTraining(
  size: ModelSize,
  choice: RuntimeChoice,
  plan: TimingPlan,
): Promise<TrainTiming> {
  const { artifacts, buildMs } = buildFor(size);
  const params = artifacts.manifest.optimizerLayout.reduce((a, s) => a + s.size, 0);
  const t0 = performance.now();
  const { session, notice } = await openSession(artifacts.trainStep, choice);
  const sessionMs = performance.now() - t0;
  const state = new StepState(artifacts);
  const pool = batchPool(size.batch);
  let k = 0;
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  const step = async () => {
    const out = (await session.run(state.prepare(pool[k++ % pool.length]!))) as Record<string, Tensor>;
    lastLoss = state.advance(out);
    if (Number.isNaN(firstLoss)) firstLoss = lastLoss;
  };
  for (let i = 0; i < plan.warmupSteps; i++) await step();
  const repetitionStepMs: number[] = [];
  for (let r = 0; r < plan.repetitions; r++) {
    const start = performance.now();
    for (let i = 0; i < plan.stepsPerRepetition; i++) await step();
    repetitionStepMs.push((performance.now() - start) / plan.stepsPerRepetition);
  }
  await session.release();
  const stepMsMedian = median(repetitionStepMs);
  return {
    config: size.name,
    dModel: size.dModel,
    numBlocks: size.numBlocks,
    batch: size.batch,
    params,
    runtime: choice.runtime,
    threads: choice.threads,
    buildMs,
    sessionMs,
    warmupSteps: plan.warmupSteps,
    repetitions: plan.repetitions,
    stepsPerRepetition: plan.stepsPerRepetition,
    repetitionStepMs,
    stepMsMedian,
    stepMsMin: Math.min(...repetitionStepMs),
    stepMsMax: Math.max(...repetitionStepMs),
    samplesPerSecond: (1000 * size.batch) / stepMsMedian,
    firstLoss,
    lastLoss,
    ...(notice ? { notice } : {}),
  };
}
