// Inference throughput: embeddings/s of exported graphs at several batch sizes on onnxruntime-node and
// onnxruntime-web. Every graph measured is one entry of INFERENCE_CASES.
import { performance } from 'node:perf_hooks';
import type { InferenceSession } from 'onnxruntime-common';
import { buildArtifacts, buildEncoder } from '../../graphs/artifacts.ts';
import { withInputs } from '../../graphs/config.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { generate } from '../../src/data/generate/index.ts';
import { Embedder } from '../../src/embed/embedder.ts';
import { buildInferenceModel } from '../../src/embed/export.ts';
import { specInputWidths } from '../../src/features/encode.ts';
import { fitSpec } from '../../src/features/fit.ts';
import { modelSize, trainingConfig } from './configs.ts';
import { median } from './stats.ts';
import { batchFeeds, openSession, Random, type RuntimeChoice, randomRows } from './train.ts';

/** What a case needs to know about the run. */
export interface InferenceContext {
  quick: boolean;
  /** The largest batch that will be asked for. */
  maxBatch: number;
}

/** A case bound to an open session. */
export interface BoundInference {
  /** Width of the embeddings. */
  dimension: number;
  /** Inputs for `n` rows, made outside the timed loop; the returned call embeds them once. */
  batch(n: number): () => Promise<unknown>;
}

/** A built inference graph, ready to be bound to a session on any runtime. */
export interface PreparedInference {
  bytes: Uint8Array;
  bind(session: InferenceSession): Promise<BoundInference> | BoundInference;
  /** A line about what was built (input widths, for example), recorded with each result. */
  note?: string;
}

/**
 * One inference graph to measure. To measure another graph, append an entry to {@link INFERENCE_CASES}:
 * the report and JSON pick it up.
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
      bind: (session) => ({
        dimension: size.dModel,
        batch(n) {
          const { numerical, categorical } = randomRows(n, rng);
          const feeds = batchFeeds(n, numerical, categorical);
          return () => session.run(feeds);
        },
      }),
    };
  },
};

/** Generated events the model.onnx cases fit their spec on and embed. */
function modelOnnxInputs(ctx: InferenceContext) {
  const fitEvents = ctx.quick ? 300 : 2000;
  const fitted = generate({ events: fitEvents, seed: 3 }).events;
  const spec = fitSpec(fitted);
  const size = modelSize('base', ctx.quick);
  const config = withInputs(trainingConfig(size), specInputWidths(spec));
  const initial = buildArtifacts(config, size.batch, 1).initial;
  const weights = new Map([...initial].filter(([k]) => !k.startsWith('mfp_heads.')));
  const bytes = buildInferenceModel(spec, config.model, weights, { bench: true });
  const events = generate({ events: ctx.maxBatch, seed: 11 }).events;
  const note =
    `${spec.numerical.length} raw numerical + ${spec.categorical.length} raw categorical inputs ` +
    `(${config.model.numNumerical} numerical model inputs with the missing-value indicators) from a spec fitted on ` +
    `${fitEvents} generated events; dModel ${size.dModel} × ${size.numBlocks} blocks; events embedded: generated, seed 11`;
  return { bytes, events, note };
}

/** A model.onnx case: the same exported model, with `timed` choosing what one timed call does for n events. */
function modelOnnxCaseWith(
  name: string,
  description: string,
  timed: (embedder: Embedder, events: object[]) => () => Promise<unknown>,
): InferenceCase {
  return {
    name,
    description,
    prepare(ctx) {
      const { bytes, events, note } = modelOnnxInputs(ctx);
      return {
        bytes,
        note,
        async bind(session) {
          const embedder = await Embedder.fromBytes(bytes, async () => session);
          return { dimension: embedder.dimension, batch: (n) => timed(embedder, events.slice(0, n)) };
        },
      };
    },
  };
}

/**
 * The exported raw-field model.onnx through `Embedder.embed`: OCSF event objects in, stage-1 extraction in
 * TypeScript, then vocabulary lookup, scaling and the encoder in the graph.
 */
export const modelOnnxCase = modelOnnxCaseWith(
  'model.onnx',
  'exported raw-field model.onnx (`buildInferenceModel` of src/embed/export.ts: the demo config’s encoder size with ' +
    'its initial weights, BatchNorm folded, over a feature spec fitted on generated events) through `Embedder.embed`: ' +
    'OCSF event objects → stage-1 field extraction in TypeScript → in-graph vocabulary lookup, scaling and encoder → ' +
    'embedding',
  (embedder, chunk) => () => embedder.embed(chunk, { batchSize: chunk.length }),
);

/** The same model.onnx through `Embedder.embedRaw`: stage-1 values extracted beforehand, the graph alone timed. */
export const modelOnnxRawCase = modelOnnxCaseWith(
  'model.onnx raw',
  'the same model.onnx through `Embedder.embedRaw`: stage-1 raw values (strings and numbers) extracted outside ' +
    'the timed loop, so only the session run (string lookup, scaling, encoder) is timed',
  (embedder, chunk) => {
    const raw = embedder.rawBatch(chunk);
    return () => embedder.embedRaw(raw);
  },
);

/** Every inference graph the benchmark measures. */
export const INFERENCE_CASES: InferenceCase[] = [encoderCase, modelOnnxCase, modelOnnxRawCase];

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
  /** What the case built (input widths), when it says. */
  note?: string;
}

/** Times `c` at each batch size on `choice`: warm-up, then runs for a fixed time; median ms per batch (session creation not timed). */
export async function benchInference(
  c: InferenceCase,
  choice: RuntimeChoice,
  batches: number[],
  quick: boolean,
): Promise<InferenceResult[]> {
  const prepared = await c.prepare({ quick, maxBatch: Math.max(...batches) });
  const t0 = performance.now();
  const { session } = await openSession(prepared.bytes, choice);
  const sessionMs = performance.now() - t0;
  const bound = await prepared.bind(session);
  const results: InferenceResult[] = [];
  for (const batch of batches) {
    const run = bound.batch(batch);
    for (let i = 0; i < (quick ? 2 : 4); i++) await run();
    const minMs = quick ? 20 : 1500;
    const minRuns = quick ? 2 : 10;
    const times: number[] = [];
    const end = performance.now() + minMs;
    while (times.length < minRuns || performance.now() < end) {
      const s = performance.now();
      await run();
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
      embeddingDim: bound.dimension,
      sessionMs,
      ...(prepared.note ? { note: prepared.note } : {}),
    });
  }
  await session.release();
  return results;
}
