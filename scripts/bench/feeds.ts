// The portable side of the training harness (Node and the browser): seeded random batches, the step's
// state carried from one step to the next, and the timed loop of warm-up and repetitions.
import { Tensor } from 'onnxruntime-common';
import type { Artifacts } from '../../graphs/artifacts.ts';
import { NEXT } from '../../graphs/artifacts.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { CARDINALITIES, NUM_NUMERICAL, type TimingPlan } from './configs.ts';

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

const BATCH_POOL = 8;

/** A pool of random batches, each already wrapped as feeds. */
export function batchPool(batch: number, count = BATCH_POOL, seed = 7) {
  const rng = new Random(seed);
  return Array.from({ length: count }, () => {
    const { numerical, categorical } = randomRows(batch, rng);
    return batchFeeds(batch, numerical, categorical);
  });
}

/** What the timed loop measured: ms per step of each repetition, and the first and last loss. */
export interface StepTimes {
  repetitionStepMs: number[];
  firstLoss: number;
  lastLoss: number;
}

/**
 * Runs `plan.warmupSteps` untimed steps, then `plan.repetitions` timed groups of `plan.stepsPerRepetition`
 * steps through `run` (one `session.run` on the given feeds), carrying the state from step to step.
 */
export async function timeSteps(
  artifacts: Artifacts,
  batch: number,
  plan: TimingPlan,
  run: (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>,
): Promise<StepTimes> {
  const state = new StepState(artifacts);
  const pool = batchPool(batch);
  let k = 0;
  let firstLoss = Number.NaN;
  let lastLoss = Number.NaN;
  const step = async () => {
    lastLoss = state.advance(await run(state.prepare(pool[k++ % pool.length]!)));
    if (Number.isNaN(firstLoss)) firstLoss = lastLoss;
  };
  for (let i = 0; i < plan.warmupSteps; i++) await step();
  const repetitionStepMs: number[] = [];
  for (let r = 0; r < plan.repetitions; r++) {
    const start = performance.now();
    for (let i = 0; i < plan.stepsPerRepetition; i++) await step();
    repetitionStepMs.push((performance.now() - start) / plan.stepsPerRepetition);
  }
  return { repetitionStepMs, firstLoss, lastLoss };
}
