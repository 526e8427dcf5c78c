// Memory of a long training run: the demo config trained over a large encoded dataset held in typed
// arrays, with the resident set sampled along the way to show it does not grow with the step count.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Tensor } from 'onnxruntime-common';
import { CARDINALITIES, type ModelSize, NUM_NUMERICAL } from './configs.ts';
import { batchFeeds, buildFor, openSession, Random, randomRows, StepState } from './train.ts';

/** Rows, steps, the steps at which the resident set is sampled, and the step growth is measured from. */
export interface MemoryPlan {
  rows: number;
  steps: number;
  checkpoints: number[];
  growthFrom: number;
}

/** The memory plan for full or quick mode. */
export function memoryPlan(quick: boolean): MemoryPlan {
  return quick
    ? { rows: 10_000, steps: 4, checkpoints: [2, 4], growthFrom: 2 }
    : { rows: 1_000_000, steps: 200, checkpoints: [10, 50, 100, 150, 200], growthFrom: 50 };
}

/** Current and peak resident set of this process, MiB (from /proc/self/status; maxRSS where it is missing). */
export function rssMiB(): { rss: number; hwm: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (key: string) =>
      Number(status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? Number.NaN);
    return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
  } catch {
    const peak = process.resourceUsage().maxRSS / 1024;
    return { rss: process.memoryUsage().rss / 1048576, hwm: peak };
  }
}

/** What the memory run measured. */
export interface MemoryResult {
  config: string;
  rows: number;
  steps: number;
  datasetMiB: number;
  rssAfterDataMiB: number;
  rssAfterSessionMiB: number;
  /** Resident set after each checkpoint step. */
  rssAtStep: { step: number; rssMiB: number }[];
  /** Growth from step `growthFrom` to the last step. */
  growthFrom: number;
  growthMiB: number;
  peakRssMiB: number;
  maxRssMiB: number;
  msPerStep: number;
}

/** Trains `size` for `plan.steps` shuffled batches drawn from `plan.rows` random encoded rows. */
export async function benchMemory(size: ModelSize, plan: MemoryPlan): Promise<MemoryResult> {
  const rng = new Random(3);
  const data = randomRows(plan.rows, rng);
  const datasetMiB = (data.numerical.byteLength + data.categorical.byteLength) / 1048576;
  const order = new Uint32Array(plan.rows);
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const rssAfterDataMiB = rssMiB().rss;
  const { artifacts } = buildFor(size);
  const { session } = await openSession(artifacts.trainStep, { runtime: 'node', threads: 1 });
  const rssAfterSessionMiB = rssMiB().rss;
  const state = new StepState(artifacts);
  const nc = CARDINALITIES.length;
  const num = new Float32Array(size.batch * NUM_NUMERICAL);
  const cat = new BigInt64Array(size.batch * nc);
  const feeds = batchFeeds(size.batch, num, cat);
  const rssAtStep: { step: number; rssMiB: number }[] = [];
  let cursor = 0;
  const t0 = performance.now();
  for (let s = 1; s <= plan.steps; s++) {
    for (let r = 0; r < size.batch; r++) {
      const row = order[cursor]!;
      cursor = (cursor + 1) % plan.rows;
      num.set(data.numerical.subarray(row * NUM_NUMERICAL, (row + 1) * NUM_NUMERICAL), r * NUM_NUMERICAL);
      cat.set(data.categorical.subarray(row * nc, (row + 1) * nc), r * nc);
    }
    state.advance((await session.run(state.prepare(feeds))) as Record<string, Tensor>);
    if (plan.checkpoints.includes(s)) rssAtStep.push({ step: s, rssMiB: rssMiB().rss });
  }
  const msPerStep = (performance.now() - t0) / plan.steps;
  await session.release();
  const first = rssAtStep.find((x) => x.step === plan.growthFrom)?.rssMiB ?? Number.NaN;
  const last = rssAtStep[rssAtStep.length - 1]?.rssMiB ?? Number.NaN;
  return {
    config: size.name,
    rows: plan.rows,
    steps: plan.steps,
    datasetMiB,
    rssAfterDataMiB,
    rssAfterSessionMiB,
    rssAtStep,
    growthFrom: plan.growthFrom,
    growthMiB: last - first,
    peakRssMiB: rssMiB().hwm,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    msPerStep,
  };
}
