// The training-step harness: builds the fused step for a model size, feeds it random batches on
// onnxruntime-node or onnxruntime-web (in Node, or in Chromium through browser.ts), and times it
// (warm-up, then repetitions of several steps).
import { performance } from 'node:perf_hooks';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { type Artifacts, buildArtifacts } from '../../graphs/artifacts.ts';
import { CPU_TARGET, type ModelSize, type TimingPlan, trainingConfig } from './configs.ts';
import { type StepTimes, timeSteps } from './feeds.ts';
import { median } from './stats.ts';

export { batchFeeds, batchPool, Random, randomRows, StepState } from './feeds.ts';

/** Where a session runs: onnxruntime-node's CPU provider or onnxruntime-web's wasm, with its thread count. */
export interface RuntimeChoice {
  runtime: 'node' | 'wasm';
  threads: number;
}

/** Where a training timing ran: a `RuntimeChoice`, or onnxruntime-web's wasm in headless Chromium. */
export type TrainRuntime = RuntimeChoice['runtime'] | 'chromium';

/** A readable label such as `onnxruntime-node cpu ×2` or `onnxruntime-web wasm ×1`. */
export function runtimeLabel(r: { runtime: TrainRuntime; threads: number }): string {
  const names = {
    node: 'onnxruntime-node cpu',
    wasm: 'onnxruntime-web wasm',
    chromium: 'onnxruntime-web wasm in Chromium',
  };
  return `${names[r.runtime]} ×${r.threads}`;
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

/** Builds the fused step (and everything else) for a model size; returns the artifacts and the build time. */
export function buildFor(size: ModelSize): { artifacts: Artifacts; buildMs: number } {
  const t0 = performance.now();
  const artifacts = buildArtifacts(trainingConfig(size), size.batch, 1, CPU_TARGET);
  return { artifacts, buildMs: performance.now() - t0 };
}

/** The result of timing one configuration on one runtime. */
export interface TrainTiming {
  config: string;
  dModel: number;
  numBlocks: number;
  batch: number;
  params: number;
  runtime: TrainRuntime;
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
  /** Median ms per step of each round, when the job ran in rounds alternating with PyTorch (this is the median round). */
  roundStepMs?: number[];
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
  const { repetitionStepMs, firstLoss, lastLoss } = await timeSteps(
    artifacts,
    size.batch,
    plan,
    async (feeds) => (await session.run(feeds)) as Record<string, Tensor>,
  );
  await session.release();
  return trainTiming(
    size,
    choice,
    plan,
    { buildMs, sessionMs, params, notice },
    { repetitionStepMs, firstLoss, lastLoss },
  );
}

/** The timing record of one configuration on one runtime, from the timed loop's measurements. */
export function trainTiming(
  size: ModelSize,
  where: { runtime: TrainRuntime; threads: number },
  plan: TimingPlan,
  setup: { buildMs: number; sessionMs: number; params: number; notice?: string | undefined },
  times: StepTimes,
): TrainTiming {
  const stepMsMedian = median(times.repetitionStepMs);
  return {
    config: size.name,
    dModel: size.dModel,
    numBlocks: size.numBlocks,
    batch: size.batch,
    params: setup.params,
    runtime: where.runtime,
    threads: where.threads,
    buildMs: setup.buildMs,
    sessionMs: setup.sessionMs,
    warmupSteps: plan.warmupSteps,
    repetitions: plan.repetitions,
    stepsPerRepetition: plan.stepsPerRepetition,
    repetitionStepMs: times.repetitionStepMs,
    stepMsMedian,
    stepMsMin: Math.min(...times.repetitionStepMs),
    stepMsMax: Math.max(...times.repetitionStepMs),
    samplesPerSecond: (1000 * size.batch) / stepMsMedian,
    firstLoss: times.firstLoss,
    lastLoss: times.lastLoss,
    ...(setup.notice ? { notice: setup.notice } : {}),
  };
}
