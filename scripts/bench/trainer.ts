// The Trainer against the raw step: the demo config trained through `Trainer.fit` (batch gathering, int64
// conversion, feeds, LR schedule) and the bare fused step of the train harness, interleaved on the same runtime
// and thread count in the same process, and the ratio of their samples/s.
import { Tensor } from 'onnxruntime-common';
import type { EncodedDataset } from '../../src/dataset/dataset.ts';
import { createSession, graphTargetFor } from '../../src/runtime/session.node.ts';
import { FIT_DEFAULTS, Trainer } from '../../src/train/trainer.ts';
import { CARDINALITIES, type ModelSize, NUM_NUMERICAL, type TimingPlan, trainingConfig } from './configs.ts';
import { median } from './stats.ts';
import { Random, timeTraining } from './train.ts';

/** What one trainer-versus-raw comparison measured. */
export interface TrainerBenchResult {
  config: string;
  dModel: number;
  numBlocks: number;
  batch: number;
  threads: number;
  /** Rows of the random training set (batches per epoch × batch). */
  rows: number;
  /** One-epoch `fit` runs, each on a fresh Trainer, interleaved with the raw timings. */
  rounds: number;
  /** Steps run through `Trainer.trainStep` before each `fit`, untimed (the raw harness has the same warm-up). */
  trainerWarmupSteps: number;
  /** Steps one `fit` ran (one epoch). */
  trainerSteps: number;
  /** `FitResult.seconds` of each `fit`. */
  trainerSeconds: number[];
  /** `FitResult.samplesPerSecond` of each `fit`. */
  fitSamplesPerSecond: number[];
  /** Median of `fitSamplesPerSecond`. */
  trainerSamplesPerSecond: number;
  trainerStepMs: number;
  /** Raw step timings: the train harness run before, between and after the fits. */
  rawRepetitionStepMs: number[];
  rawStepMsMedian: number;
  rawSamplesPerSecond: number;
  /** Trainer samples/s over raw samples/s (1 = no overhead). */
  ratio: number;
  /** Trainer ms/step minus raw ms/step. */
  overheadMsPerStep: number;
  firstLoss: number;
  lastLoss: number;
}

/** How many batches the trainer's one epoch has. */
export function trainerBatches(quick: boolean): number {
  return quick ? 10 : 60;
}

/** A random encoded dataset with the tutorial's columns: standard-normal numericals, uniform category ids. */
export function randomDataset(rows: number, seed: number): EncodedDataset {
  const rng = new Random(seed);
  const numerical = new Float32Array(rows * NUM_NUMERICAL);
  for (let i = 0; i < numerical.length; i++) numerical[i] = rng.normal();
  const fc = CARDINALITIES.length;
  const categorical = new Int32Array(rows * fc);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < fc; c++) categorical[r * fc + c] = rng.int(CARDINALITIES[c]!);
  }
  return { numerical, categorical, rows, numNumerical: NUM_NUMERICAL, numCategorical: fc };
}

/** One epoch of a fresh Trainer after `warmupSteps` untimed steps: its `FitResult` and losses. */
async function fitOnce(size: ModelSize, threads: number, warmupSteps: number, train: EncodedDataset) {
  const trainer = await Trainer.create({
    config: trainingConfig(size),
    batchSize: size.batch,
    seed: 1,
    createSession: async (model) => (await createSession(model, { device: 'cpu', threads })).session,
    target: graphTargetFor('cpu'),
  });
  try {
    let firstLoss = Number.NaN;
    let lastLoss = Number.NaN;
    const warm = randomDataset(size.batch, 12);
    const warmBatch = {
      numerical: new Tensor('float32', warm.numerical, [size.batch, NUM_NUMERICAL]),
      categorical: new Tensor(
        'int64',
        BigInt64Array.from(warm.categorical, (x) => BigInt(x)),
        [size.batch, CARDINALITIES.length],
      ),
    };
    for (let i = 0; i < warmupSteps; i++) {
      const out = await trainer.trainStep(warmBatch, FIT_DEFAULTS.lr);
      if (Number.isNaN(firstLoss)) firstLoss = out.loss;
    }
    const stepBefore = trainer.progress.step;
    const fit = await trainer.fit(
      train,
      null,
      { ...FIT_DEFAULTS, epochs: 1, logEvery: 1_000_000 },
      {
        onBatch: (p) => {
          lastLoss = p.loss;
        },
      },
    );
    const steps = fit.position.step - stepBefore;
    if (steps < 1) throw new Error('Trainer.fit ran no steps');
    return { fit, steps, firstLoss, lastLoss };
  } finally {
    await trainer.release();
  }
}

/** How many Trainer epochs are interleaved with the raw timings. */
export function trainerRounds(quick: boolean): number {
  return quick ? 1 : 3;
}

/**
 * Interleaves the raw fused step (train harness) with `rounds` one-epoch `Trainer.fit` runs over `batches`
 * random batches, on onnxruntime-node with `threads` intra-op threads — raw, fit, raw, fit, …, raw — so that
 * drift in the machine's speed hits both alike; compares the median fit rate with the median raw step.
 */
export async function benchTrainer(
  size: ModelSize,
  threads: number,
  plan: TimingPlan,
  batches: number,
  rounds = 1,
): Promise<TrainerBenchResult> {
  const choice = { runtime: 'node' as const, threads };
  const rows = batches * size.batch;
  const train = randomDataset(rows, 11);
  const rawRepetitionStepMs: number[] = [];
  const fits: Awaited<ReturnType<typeof fitOnce>>[] = [];
  for (let round = 0; round < rounds; round++) {
    rawRepetitionStepMs.push(...(await timeTraining(size, choice, plan)).repetitionStepMs);
    fits.push(await fitOnce(size, threads, plan.warmupSteps, train));
  }
  rawRepetitionStepMs.push(...(await timeTraining(size, choice, plan)).repetitionStepMs);
  const rawStepMsMedian = median(rawRepetitionStepMs);
  const rawSamplesPerSecond = (1000 * size.batch) / rawStepMsMedian;
  const fitRates = fits.map((f) => f.fit.samplesPerSecond);
  const trainerSamplesPerSecond = median(fitRates);
  const trainerStepMs = (1000 * size.batch) / trainerSamplesPerSecond;
  return {
    config: size.name,
    dModel: size.dModel,
    numBlocks: size.numBlocks,
    batch: size.batch,
    threads,
    rows,
    rounds,
    trainerWarmupSteps: plan.warmupSteps,
    trainerSteps: fits[0]!.steps,
    trainerSeconds: fits.map((f) => f.fit.seconds),
    fitSamplesPerSecond: fitRates,
    trainerSamplesPerSecond,
    trainerStepMs,
    rawRepetitionStepMs,
    rawStepMsMedian,
    rawSamplesPerSecond,
    ratio: trainerSamplesPerSecond / rawSamplesPerSecond,
    overheadMsPerStep: trainerStepMs - rawStepMsMedian,
    firstLoss: fits[0]!.firstLoss,
    lastLoss: fits[fits.length - 1]!.lastLoss,
  };
}
