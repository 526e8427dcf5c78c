// The Embedder (portable core): raw OCSF events → embeddings with one exported model.onnx, in
// Node or a browser. Flattening and derived features run here in TypeScript (stage 1 of the
// feature spec); vocabulary lookup, scaling and the encoder run in the graph.
import { type InferenceSession, Tensor } from 'onnxruntime-common';
import type { ModelConfig } from '../../graphs/models/tabular-resnet.ts';
import { readMetadata } from '../../graphs/onnx/metadata.ts';
import { UserError } from '../core/errors.ts';
import { extractRaw } from '../features/encode.ts';
import { parseSpec } from '../features/spec.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import type { SessionFactory } from '../runtime/session.ts';
import { META, MISSING_STRING, MODEL_FORMAT } from './export.ts';

/** Rows per ONNX Runtime call unless told otherwise (the batch commands' `--batch-size` default too). */
export const EMBED_BATCH_SIZE = 1024;

export interface EmbedOptions {
  /** Unit-length embeddings (`embedding_normalized`). Default false. */
  normalized?: boolean;
  /** Rows per ONNX Runtime call. Default {@link EMBED_BATCH_SIZE}. */
  batchSize?: number;
}

/** Raw model inputs of a batch of events: stage-1 strings and numbers, row-major. */
export interface RawBatch {
  rows: number;
  categorical: string[];
  numerical: Float32Array;
}

/** Stage 1 of feature encoding for each event under `spec`: what model.onnx takes as input. */
export function rawBatch(spec: FittedSpec, events: readonly object[]): RawBatch {
  return rawBatchOf(spec, events.length, (r) => extractRaw(spec, events[r]!));
}

/** The raw batch of events already through stage 1 ({@link extractRaw}), rows `start` to `end`. */
export function rawBatchOfExtracted(
  spec: FittedSpec,
  raws: readonly RawFeatures[],
  start = 0,
  end = raws.length,
): RawBatch {
  return rawBatchOf(spec, end - start, (r) => raws[start + r]!);
}

function rawBatchOf(spec: FittedSpec, rows: number, raw: (row: number) => RawFeatures): RawBatch {
  const nc = spec.categorical.length;
  const nn = spec.numerical.length;
  const categorical = new Array<string>(rows * nc);
  const numerical = new Float32Array(rows * nn);
  for (let r = 0; r < rows; r++) {
    const { cat, num } = raw(r);
    for (let j = 0; j < nc; j++) categorical[r * nc + j] = cat[j] ?? MISSING_STRING;
    for (let j = 0; j < nn; j++) numerical[r * nn + j] = num[j]!;
  }
  return { rows, categorical, numerical };
}

/** The session inputs of a raw batch (`categorical` strings, `numerical` floats; each only when the spec has one). */
export function rawFeeds(spec: FittedSpec, raw: RawBatch): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  const nc = spec.categorical.length;
  const nn = spec.numerical.length;
  if (nc > 0) feeds.categorical = new Tensor('string', raw.categorical, [raw.rows, nc]);
  if (nn > 0) feeds.numerical = new Tensor('float32', raw.numerical, [raw.rows, nn]);
  return feeds;
}

/** Embeds OCSF events with an exported model; create with `Embedder.fromBytes` or a platform entry's `load`. */
export class Embedder {
  private constructor(
    readonly spec: FittedSpec,
    readonly model: ModelConfig,
    readonly info: Record<string, unknown>,
    private readonly session: InferenceSession,
  ) {}

  /** Opens a model.onnx written by `ocsf-embed export` (or `train`). */
  static async fromBytes(bytes: Uint8Array, createSession: SessionFactory): Promise<Embedder> {
    let meta: Map<string, string>;
    try {
      meta = readMetadata(bytes);
    } catch (e) {
      throw new UserError(
        `this is not an ONNX model (${(e as Error).message.split('\n')[0]}): give the model.onnx of a run, or the run directory`,
      );
    }
    if (meta.get(META.format) !== MODEL_FORMAT) {
      throw new UserError(
        'this ONNX file was not exported by ocsf-embed (no feature spec in its metadata); export one with `ocsf-embed export <run> --out model.onnx`',
      );
    }
    const spec = parseSpec(meta.get(META.spec)!);
    const model = JSON.parse(meta.get(META.model)!) as ModelConfig;
    const info = JSON.parse(meta.get(META.info) ?? '{}') as Record<string, unknown>;
    return new Embedder(spec, model, info, await createSession(bytes));
  }

  /** Width of the embeddings. */
  get dimension(): number {
    return this.model.dModel;
  }

  /** Stage 1 of feature encoding for each event: what the graph takes as input. */
  rawBatch(events: readonly object[]): RawBatch {
    return rawBatch(this.spec, events);
  }

  /** Embeddings of a raw batch, row-major [rows, dimension]. */
  async embedRaw(raw: RawBatch, normalized = false): Promise<Float32Array> {
    const feeds = rawFeeds(this.spec, raw);
    const name = normalized ? 'embedding_normalized' : 'embedding';
    const out = await this.session.run(feeds, [name]);
    return out[name]!.data as Float32Array;
  }

  /** Embeddings of OCSF events (nested or flattened objects), row-major [events, dimension]. */
  embed(events: readonly object[], options: EmbedOptions = {}): Promise<Float32Array> {
    return this.embedBatches(events.length, (start, end) => this.rawBatch(events.slice(start, end)), options);
  }

  /** Embeddings of events already through stage 1 ({@link extractRaw}): the same as {@link embed} of the events. */
  embedExtracted(raws: readonly RawFeatures[], options: EmbedOptions = {}): Promise<Float32Array> {
    return this.embedBatches(
      raws.length,
      (start, end) => rawBatchOfExtracted(this.spec, raws, start, end),
      options,
    );
  }

  private async embedBatches(
    rows: number,
    rawOf: (start: number, end: number) => RawBatch,
    options: EmbedOptions,
  ): Promise<Float32Array> {
    const batch = options.batchSize ?? EMBED_BATCH_SIZE;
    const out = new Float32Array(rows * this.dimension);
    for (let start = 0; start < rows; start += batch) {
      const e = await this.embedRaw(rawOf(start, Math.min(rows, start + batch)), options.normalized);
      for (let i = 0; i < e.length; i++) {
        if (!Number.isFinite(e[i]!)) {
          throw new UserError(
            `the model gave a non-finite embedding (${e[i]}) for event ${start + Math.floor(i / this.dimension) + 1} of the batch: its weights are broken; train the run again (or export it from an earlier checkpoint)`,
          );
        }
      }
      out.set(e, start * this.dimension);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
