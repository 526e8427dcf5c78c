// Inference throughput: embeddings/s of exported graphs at several batch sizes on onnxruntime-node and
// onnxruntime-web. Every graph measured is one entry of INFERENCE_CASES.
import { performance } from 'node:perf_hooks';
import type { Tensor } from 'onnxruntime-common';
import { buildArtifacts, buildEncoder } from '../../graphs/artifacts.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { modelSize, trainingConfig } from './configs.ts';
import { median } from './stats.ts';
import { batchFeeds, openSession, Random, type RuntimeChoice, randomRows } from './train.ts';

/** What a case needs to know about the run. */
export interface InferenceContext {
  quick: boolean;
}

/** A built inference graph and a way to make its inputs for `n` rows. */
export interface PreparedInference {
  bytes: Uint8Array;
  /** Feeds for `n` rows; called once per batch size, outside the timed loop. */
  feeds(n: number): Record<string, Tensor>;
  /** The output holding the embeddings. */
  output: string;
}

/**
 * One inference graph to measure. To measure another graph (for example an exported `model.onnx` with
 * raw-field inputs), append an entry to {@link INFERENCE_CASES}: the report and JSON pick it up.
 */
export interface InferenceCase {
  /** Short identifier used in the JSON and the report. */
  name: string;
  /** One line saying what goes in and what comes out. */
  description: string;
  prepare(ctx: InferenceContext): Promise<PreparedInference> | PreparedInference;
}

/** The demo config's eval-mode encoder: encoded `numerical` [N, 50] and `categorical` [N, 4] in, `embedding` out. */
export const encoderCase: InferenceCase = {
  name: 'encoder',
  description:
    'demo-config encoder (encoded numerical [N, 50] float32 + categorical [N, 4] int64 → embedding)',
  prepare(ctx) {
    const size = modelSize('base', ctx.quick);
    const cfg = trainingConfig(size);
    const a = buildArtifacts(cfg, size.batch, 1);
    const bytes = encodeModel(buildEncoder(cfg.model, a.initial));
    const rng = new Random(5);
    return {
      bytes,
      output: 'embedding',
      feeds(n) {
        const { numerical, categorical } = randomRows(n, rng);
        return batchFeeds(n, numerical, categorical);
      },
    };
  },
};

/** Every inference graph the benchmark measures. */
export const INFERENCE_CASES: InferenceCase[] = [encoderCase];

/** Batch sizes measured for each case. */
export function inferenceBatches(quick: boolean): number[] {
  return quick ? [1, 16] : [1, 1024];
}

/** One case at one batch size on one runtime. */
export interface InferenceResult {
  case: string;
  runtime: RuntimeChoice['runtime'];
  threads: number;
  batch: number;
  runs: number;
  msPerBatchMedian: number;
  embeddingsPerSecond: number;
  embeddingDim: number;
  sessionMs: number;
}

/** Times `c` at each batch size on `choice`: warm-up, then runs for a fixed time; median ms per batch. */
export async function benchInference(
  c: InferenceCase,
  choice: RuntimeChoice,
  batches: number[],
  quick: boolean,
): Promise<InferenceResult[]> {
  const prepared = await c.prepare({ quick });
  const t0 = performance.now();
  const { session } = await openSession(prepared.bytes, choice);
  const sessionMs = performance.now() - t0;
  const results: InferenceResult[] = [];
  for (const batch of batches) {
    const feeds = prepared.feeds(batch);
    const first = (await session.run(feeds))[prepared.output]!;
    for (let i = 0; i < (quick ? 1 : 3); i++) await session.run(feeds);
    const minMs = quick ? 20 : 1500;
    const minRuns = quick ? 2 : 10;
    const times: number[] = [];
    const end = performance.now() + minMs;
    while (times.length < minRuns || performance.now() < end) {
      const s = performance.now();
      await session.run(feeds);
      times.push(performance.now() - s);
    }
    const msPerBatchMedian = median(times);
    results.push({
      case: c.name,
      runtime: choice.runtime,
      threads: choice.threads,
      batch,
      runs: times.length,
      msPerBatchMedian,
      embeddingsPerSecond: (1000 * batch) / msPerBatchMedian,
      embeddingDim: Number(first.dims[first.dims.length - 1]),
      sessionMs,
    });
  }
  await session.release();
  return results;
}
