// The Trainer: drives the fused train step and the eval step over encoded batches — seeded
// shuffling, state fed back step to step without copies, LR schedule, validation, early stopping,
// checkpoints through callbacks. Portable: sessions come from an injected factory.
import { type InferenceSession, Tensor } from 'onnxruntime-common';
import {
  type Artifacts,
  buildArtifacts,
  type GraphTarget,
  NEXT,
  type TrainingConfig,
} from '../../graphs/artifacts.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { MOMENTS } from '../../graphs/optim/adamw.ts';
import { type EncodedDataset, gatherRows, shuffledBatches } from '../dataset/dataset.ts';
import type { Checkpoint, TrainerPosition } from '../run/checkpoint.ts';
import type { EpochRecord, StepRecord } from '../run/metrics.ts';
import type { SessionFactory } from '../runtime/session.ts';
import { learningRate, type ScheduleOptions } from './schedule.ts';

/** How to run `fit`. */
export interface FitOptions {
  epochs: number;
  /** Peak learning rate. */
  lr: number;
  /** Floor of the cosine schedule. */
  minLr: number;
  schedule: 'cosine' | 'constant';
  warmupSteps: number;
  /** Epochs without a validation improvement larger than `minDelta` before stopping. */
  patience: number;
  minDelta: number;
  /** Stop after the epoch in which this many seconds have passed (no limit when absent). */
  maxSeconds?: number;
  /** Emit a step record every this many steps. */
  logEvery: number;
}

export const FIT_DEFAULTS: FitOptions = {
  epochs: 20,
  lr: 1e-3,
  minLr: 0,
  schedule: 'cosine',
  warmupSteps: 0,
  patience: 5,
  minDelta: 1e-4,
  logEvery: 10,
};

/** What `fit` reports as it goes; `checkpoint` is awaited before training continues. */
export interface FitCallbacks {
  onStep?(r: StepRecord): void;
  onEpoch?(r: EpochRecord): void;
  /** Progress within the epoch, for progress bars. */
  onBatch?(p: {
    epoch: number;
    batch: number;
    batches: number;
    loss: number;
    lr: number;
    samplesPerSecond: number;
  }): void;
  checkpoint?(kind: 'last' | 'best', c: Checkpoint): Promise<void> | void;
}

export interface FitResult {
  position: TrainerPosition;
  /** Set when the loss stopped being finite: no checkpoint of that state was saved. */
  diverged?: string;
  epochsRun: number;
  seconds: number;
  samplesPerSecond: number;
}

/** When fitting began and the samples trained since. */
interface FitClock {
  started: number;
  samples: number;
}

/** One epoch's batches as trained: the loss and metric sums, the steps run now, the last learning rate, and why it stopped early. */
interface EpochRun {
  loss: number;
  batches: number;
  metrics: Record<string, number>;
  steps: number;
  lr: number;
  stop: 'diverged' | 'requested' | null;
}

export interface TrainerOptions {
  config: TrainingConfig;
  batchSize: number;
  seed: number;
  createSession: SessionFactory;
  /** Continue from a checkpoint instead of the seed's initial weights. */
  resume?: Checkpoint;
  /** Per-column cumulative category frequencies [columns, K], for empirical swaps. */
  categoryCdf?: TensorData;
  /** Where the sessions run, as far as it shapes the graphs (see `graphTargetFor`); default: anywhere. */
  target?: GraphTarget;
}

function toTensor(t: TensorData): Tensor {
  if (t.dtype === 'string') return new Tensor('string', t.data as string[], t.dims);
  return new Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
}

function scalar(type: 'int64' | 'float64', v: number): Tensor {
  return type === 'int64'
    ? new Tensor('int64', BigInt64Array.from([BigInt(v)]), [])
    : new Tensor('float64', Float64Array.from([v]), []);
}

/**
 * Per categorical column, the running sums of its ids' frequencies in `ds` (padded with 2 to the
 * widest column): the inverse CDF that empirical swaps sample from. The last id ([MASK]) is never drawn.
 */
export function categoryCdf(ds: EncodedDataset, cardinalities: number[]): TensorData {
  const k = Math.max(...cardinalities);
  const fc = cardinalities.length;
  const data = new Float32Array(fc * k).fill(2);
  cardinalities.forEach((card, j) => {
    const counts = new Float64Array(card - 1);
    for (let r = 0; r < ds.rows; r++) {
      const id = ds.categorical[r * fc + j]!;
      if (id < card - 1) counts[id]!++;
    }
    let run = 0;
    for (let i = 0; i < card - 1; i++) {
      run += counts[i]! / ds.rows;
      data[j * k + i] = run;
    }
    data[j * k + card - 2] = 1;
  });
  return { dtype: 'float32', dims: [fc, k], data };
}

/** Reusable batch buffers: encoded rows gathered into float32 / int64 arrays for ORT. */
class BatchBuffers {
  readonly numerical: Float32Array;
  readonly categoryIds: Int32Array;
  readonly categorical: BigInt64Array;
  constructor(
    readonly rows: number,
    readonly fn: number,
    readonly fc: number,
  ) {
    this.numerical = new Float32Array(rows * fn);
    this.categoryIds = new Int32Array(rows * fc);
    this.categorical = new BigInt64Array(rows * fc);
  }
  fill(ds: EncodedDataset, indices: ArrayLike<number>): this {
    gatherRows(ds, indices, this.numerical, this.categoryIds);
    for (let i = 0; i < this.categoryIds.length; i++) this.categorical[i] = BigInt(this.categoryIds[i]!);
    return this;
  }
  feeds(): Record<string, Tensor> {
    const f: Record<string, Tensor> = {};
    if (this.fn > 0) f.numerical = new Tensor('float32', this.numerical, [this.rows, this.fn]);
    if (this.fc > 0) f.categorical = new Tensor('int64', this.categorical, [this.rows, this.fc]);
    return f;
  }
}

/** Trains a TabularResNet with the fused ONNX train step. */
export class Trainer {
  private readonly state: Record<string, Tensor> = {};
  private position: TrainerPosition;
  private stopRequested: string | null = null;

  private constructor(
    readonly config: TrainingConfig,
    readonly batchSize: number,
    readonly seed: number,
    readonly artifacts: Artifacts,
    private readonly trainSession: InferenceSession,
    private readonly evalSession: InferenceSession,
    private readonly extraFeeds: Record<string, Tensor>,
    resume?: Checkpoint,
  ) {
    const manifest = artifacts.manifest;
    const initial = resume?.state ?? artifacts.initial;
    for (const s of manifest.state) {
      const t = initial.get(s.name);
      if (!t) throw new Error(`the checkpoint has no value for ${s.name}`);
      this.state[s.name] = toTensor(t);
    }
    const total = manifest.optimizerLayout.reduce((a, s) => a + s.size, 0);
    this.state[MOMENTS.m] = new Tensor('float32', resume?.moments.m ?? new Float32Array(total), [total]);
    this.state[MOMENTS.v] = new Tensor('float32', resume?.moments.v ?? new Float32Array(total), [total]);
    this.position = resume?.position ?? {
      step: 0,
      epoch: 0,
      batchInEpoch: 0,
      best: null,
      badEpochs: 0,
      finished: false,
      stopReason: null,
    };
  }

  /** Builds the graphs for `config` and opens their sessions. */
  static async create(o: TrainerOptions): Promise<Trainer> {
    const artifacts = buildArtifacts(o.config, o.batchSize, o.seed, o.target);
    // The updated state is fed straight back: a GPU provider may keep it on the device between steps.
    const stateOutputs = [...artifacts.manifest.state.map((s) => s.name), MOMENTS.m, MOMENTS.v].map(
      (name) => name + NEXT,
    );
    const [train, evalS] = await Promise.all([
      o.createSession(artifacts.trainStep, { outputsOnDevice: stateOutputs }),
      o.createSession(artifacts.evalStep),
    ]);
    const extra: Record<string, Tensor> = {};
    if (o.categoryCdf) extra.category_cdf = toTensor(o.categoryCdf);
    return new Trainer(o.config, o.batchSize, o.seed, artifacts, train, evalS, extra, o.resume);
  }

  get progress(): TrainerPosition {
    return { ...this.position };
  }

  /** Asks `fit` to stop after the step in flight; it then saves a checkpoint and returns. */
  requestStop(reason = 'interrupted'): void {
    this.stopRequested = reason;
  }

  /** Whether the graphs take the training data's category frequencies (empirical swaps). */
  private get needsCdf(): boolean {
    return this.artifacts.manifest.graphs.train_step.inputs.some((i) => i.name === 'category_cdf');
  }

  /** Empirical swaps draw from category frequencies: those of the first data seen, unless given. */
  private ensureCdf(ds: EncodedDataset): void {
    if (this.needsCdf && !this.extraFeeds.category_cdf) {
      this.extraFeeds.category_cdf = toTensor(categoryCdf(ds, this.config.model.cardinalities));
    }
  }

  /** One optimisation step on a prepared batch; returns the loss and metrics. */
  async trainStep(
    batch: Record<string, Tensor>,
    lr: number,
  ): Promise<{ loss: number; metrics: Record<string, number> }> {
    const step = this.position.step + 1;
    const feeds = {
      ...this.state,
      ...this.extraFeeds,
      ...batch,
      lr: scalar('float64', lr),
      step: scalar('int64', step),
      seed: scalar('int64', this.seed),
    };
    const out = await this.trainSession.run(feeds);
    for (const name of Object.keys(this.state)) {
      const previous = this.state[name]!;
      this.state[name] = out[name + NEXT]!;
      if (previous.location === 'gpu-buffer') previous.dispose();
    }
    this.position.step = step;
    const metrics: Record<string, number> = {};
    for (const name of this.artifacts.manifest.metrics) metrics[name] = Number(out[name]!.data[0]);
    return { loss: Number(out.loss!.data[0]), metrics };
  }

  /** Mean validation loss over `ds` (eval-mode BatchNorm, no dropout, fixed augmentation seed). */
  async evaluate(ds: EncodedDataset): Promise<{ loss: number; metrics: Record<string, number> }> {
    this.ensureCdf(ds);
    const params: Record<string, Tensor> = {};
    // Only the state the eval step takes (it has no BatchNorm batch counter); onnxruntime-web rejects extra feeds.
    const takes = new Set(this.artifacts.manifest.graphs.eval_step.inputs.map((i) => i.name));
    for (const s of this.artifacts.manifest.state)
      if (takes.has(s.name)) params[s.name] = this.state[s.name]!;
    let total = 0;
    let rows = 0;
    const sums: Record<string, number> = {};
    for (let start = 0, k = 0; start < ds.rows; start += this.batchSize, k++) {
      const n = Math.min(this.batchSize, ds.rows - start);
      if (n < 2) break;
      const idx = Uint32Array.from({ length: n }, (_, i) => start + i);
      const buf = new BatchBuffers(n, ds.numNumerical, ds.numCategorical).fill(ds, idx);
      const out = await this.evalSession.run({
        ...params,
        ...this.extraFeeds,
        ...buf.feeds(),
        step: scalar('int64', 1_000_000 + k),
        seed: scalar('int64', this.seed),
      });
      total += Number(out.loss!.data[0]) * n;
      for (const name of Object.keys(out))
        if (name !== 'loss') sums[name] = (sums[name] ?? 0) + Number(out[name]!.data[0]) * n;
      rows += n;
    }
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) metrics[k] = v / rows;
    return { loss: rows ? total / rows : Number.NaN, metrics };
  }

  /** A copy of a state tensor's values on the CPU (read back from the GPU when it lives there). */
  private async read(name: string): Promise<Float32Array> {
    const t = this.state[name]!;
    const data = t.location === 'cpu' ? t.data : await t.getData();
    return (data as Float32Array).slice();
  }

  /** The current weights, buffers, moments and position. */
  async snapshot(info: Record<string, unknown> = {}): Promise<Checkpoint> {
    const state = new Map<string, TensorData>();
    for (const s of this.artifacts.manifest.state) {
      const t = this.state[s.name]!;
      state.set(s.name, { dtype: s.dtype, dims: [...t.dims], data: await this.read(s.name) });
    }
    return {
      state,
      moments: {
        m: await this.read(MOMENTS.m),
        v: await this.read(MOMENTS.v),
      },
      layout: this.artifacts.manifest.optimizerLayout,
      position: { ...this.position, best: this.position.best ? { ...this.position.best } : null },
      info: { config: this.config, batchSize: this.batchSize, seed: this.seed, ...info },
    };
  }

  /**
   * Trains over `train` for the configured epochs (continuing from the current position),
   * validating on `val` after each epoch, stopping early when validation stalls.
   */
  async fit(
    train: EncodedDataset,
    val: EncodedDataset | null,
    o: FitOptions,
    cb: FitCallbacks = {},
  ): Promise<FitResult> {
    if (train.rows < this.batchSize) {
      throw new Error(
        `the training split has ${train.rows} rows, fewer than the batch size ${this.batchSize}`,
      );
    }
    this.ensureCdf(train);
    const schedule: ScheduleOptions = {
      kind: o.schedule,
      lr: o.lr,
      minLr: o.minLr,
      warmupSteps: o.warmupSteps,
      totalSteps: o.epochs * Math.floor(train.rows / this.batchSize),
    };
    const buffers = [0, 1].map(
      () => new BatchBuffers(this.batchSize, train.numNumerical, train.numCategorical),
    );
    const clock: FitClock = { started: performance.now(), samples: 0 };
    let epochsRun = 0;
    const pos = this.position;
    this.stopRequested = null;
    while (pos.epoch < o.epochs && !pos.finished) {
      const epochStart = performance.now();
      const run = await this.trainEpoch(train, buffers, schedule, o, cb, clock);
      if (run.stop === 'diverged') {
        return { ...this.result(epochsRun, clock.started, clock.samples), diverged: pos.stopReason! };
      }
      if (run.stop === 'requested') {
        await cb.checkpoint?.('last', await this.snapshot());
        return this.result(epochsRun, clock.started, clock.samples);
      }
      const best = await this.closeEpoch(run, val, o, cb, epochStart, clock.started);
      epochsRun++;
      if (best) await cb.checkpoint?.('best', await this.snapshot());
      await cb.checkpoint?.('last', await this.snapshot());
    }
    return this.result(epochsRun, clock.started, clock.samples);
  }

  /**
   * The epoch's remaining batches from the current position: one step each (the next batch gathered while
   * it runs), the loss and metric sums kept in the position, callbacks called. Stops on a non-finite loss
   * (the weights are then non-finite too: nothing is checkpointed) or a requested stop.
   */
  private async trainEpoch(
    train: EncodedDataset,
    buffers: BatchBuffers[],
    schedule: ScheduleOptions,
    o: FitOptions,
    cb: FitCallbacks,
    clock: FitClock,
  ): Promise<EpochRun> {
    const pos = this.position;
    const batches = shuffledBatches(train.rows, this.batchSize, this.seed, pos.epoch, { dropLast: true });
    // A resumed epoch continues the sums of the batches it ran before the stop.
    const carried = pos.batchInEpoch > 0 ? pos.epochSums : undefined;
    let lossSum = carried?.loss ?? 0;
    let lossCount = carried?.batches ?? 0;
    const metricSums: Record<string, number> = { ...carried?.metrics };
    let steps = 0;
    let windowStart = performance.now();
    let windowSamples = 0;
    let lr = 0;
    const run = (stop: EpochRun['stop']): EpochRun => ({
      loss: lossSum,
      batches: lossCount,
      metrics: metricSums,
      steps,
      lr,
      stop,
    });
    // Batch i lives in buffers[i % 2]: the next batch is gathered while the step on this one runs.
    const first = pos.batchInEpoch;
    let next = first < batches.length ? buffers[first % 2]!.fill(train, batches[first]!) : null;
    for (let i = pos.batchInEpoch; i < batches.length; i++) {
      const current = next!;
      lr = learningRate(schedule, pos.step);
      const pending = this.trainStep(current.feeds(), lr);
      next = i + 1 < batches.length ? buffers[(i + 1) % 2]!.fill(train, batches[i + 1]!) : null;
      const { loss, metrics } = await pending;
      pos.batchInEpoch = i + 1;
      lossSum += loss;
      lossCount++;
      steps++;
      for (const [k, v] of Object.entries(metrics)) metricSums[k] = (metricSums[k] ?? 0) + v;
      pos.epochSums = { loss: lossSum, batches: lossCount, metrics: { ...metricSums } };
      clock.samples += this.batchSize;
      windowSamples += this.batchSize;
      const now = performance.now();
      const rate = (windowSamples / Math.max(1e-9, now - windowStart)) * 1000;
      cb.onBatch?.({
        epoch: pos.epoch,
        batch: i + 1,
        batches: batches.length,
        loss,
        lr,
        samplesPerSecond: rate,
      });
      if (pos.step % o.logEvery === 0) {
        cb.onStep?.({
          type: 'step',
          epoch: pos.epoch + 1,
          step: pos.step,
          loss,
          lr,
          samples_per_s: rate,
          time_s: (now - clock.started) / 1000,
        });
        windowStart = now;
        windowSamples = 0;
      }
      if (!Number.isFinite(loss)) {
        pos.stopReason = `the loss became ${loss} at step ${pos.step}`;
        return run('diverged');
      }
      if (this.stopRequested) {
        pos.stopReason = this.stopRequested;
        return run('requested');
      }
    }
    return run(null);
  }

  /**
   * Ends a fully trained epoch: validates, keeps the best and the early-stopping count, reports the epoch
   * record, and decides whether training is finished. Returns whether this epoch is the best so far.
   */
  private async closeEpoch(
    run: EpochRun,
    val: EncodedDataset | null,
    o: FitOptions,
    cb: FitCallbacks,
    epochStart: number,
    started: number,
  ): Promise<boolean> {
    const pos = this.position;
    const trainLoss = run.batches ? run.loss / run.batches : Number.NaN;
    const evaluated = val && val.rows >= 2 ? await this.evaluate(val) : null;
    const valLoss = evaluated?.loss ?? null;
    const monitored = valLoss ?? trainLoss;
    let best = false;
    if (!pos.best || monitored < pos.best.valLoss - o.minDelta) {
      pos.best = { valLoss: monitored, epoch: pos.epoch + 1, step: pos.step };
      pos.badEpochs = 0;
      best = true;
    } else pos.badEpochs++;
    const epochSeconds = (performance.now() - epochStart) / 1000;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(run.metrics)) metrics[k] = v / Math.max(1, run.batches);
    for (const [k, v] of Object.entries(evaluated?.metrics ?? {})) metrics[`val_${k}`] = v;
    pos.epoch++;
    pos.batchInEpoch = 0;
    pos.epochSums = undefined;
    cb.onEpoch?.({
      type: 'epoch',
      epoch: pos.epoch,
      step: pos.step,
      train_loss: trainLoss,
      val_loss: valLoss,
      lr: run.lr,
      samples_per_s: (run.steps * this.batchSize) / Math.max(1e-9, epochSeconds),
      time_s: (performance.now() - started) / 1000,
      metrics,
      best,
    });
    if (valLoss !== null && pos.badEpochs >= o.patience) {
      pos.finished = true;
      pos.stopReason = `early stopping: no validation improvement > ${o.minDelta} for ${o.patience} epochs`;
    } else if (pos.epoch >= o.epochs) {
      pos.finished = true;
      pos.stopReason = `completed ${o.epochs} epochs`;
    } else if (o.maxSeconds !== undefined && (performance.now() - started) / 1000 >= o.maxSeconds) {
      pos.finished = true;
      pos.stopReason = `time budget of ${o.maxSeconds} s reached`;
    }
    return best;
  }

  private result(epochsRun: number, started: number, samples: number): FitResult {
    const seconds = (performance.now() - started) / 1000;
    return {
      position: this.progress,
      epochsRun,
      seconds,
      samplesPerSecond: samples / Math.max(1e-9, seconds),
    };
  }

  async release(): Promise<void> {
    for (const t of Object.values(this.state)) if (t.location === 'gpu-buffer') t.dispose();
    await Promise.all([this.trainSession.release(), this.evalSession.release()]);
  }
}
