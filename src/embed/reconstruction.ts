// The reconstruction model (`reconstruction.onnx` of a run trained with masked feature prediction): raw
// event fields in, each field's surprise out — how badly the MFP heads predict the field from the event's
// other fields. Every field is masked in one of RECONSTRUCTION_PASSES passes, so an event costs that many
// encoder passes, all in one session run.
import type { InferenceSession } from 'onnxruntime-common';
import { encoderForward } from '../../graphs/artifacts.ts';
import type { ModelConfig } from '../../graphs/models/tabular-resnet.ts';
import { linear } from '../../graphs/nn/linear.ts';
import { type Forward, Params } from '../../graphs/nn/params.ts';
import { Builder, type TensorData, type Value } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { readMetadata } from '../../graphs/onnx/metadata.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { UserError } from '../core/errors.ts';
import { extractRaw, numericalFeatureNames } from '../features/encode.ts';
import { parseSpec, serializeSpec } from '../features/spec.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import type { SessionFactory } from '../runtime/session.ts';
import { EMBED_BATCH_SIZE, rawBatchOfExtracted, rawFeeds } from './embedder.ts';
import { encodeInputs, foldBatchNorms, META } from './export.ts';

/** Format of a reconstruction model's metadata. */
export const RECONSTRUCTION_FORMAT = 'ocsf-embed.reconstruction/1';

/**
 * Passes per event: column j (numericals with their indicators first, then categoricals) is masked in
 * pass j mod 3, so each pass hides about a third of the fields, and each field is predicted once.
 */
export const RECONSTRUCTION_PASSES = 3;

/**
 * Events per session run at least (padded with copies): with one or two events, ONNX Runtime's GEMMs take
 * small-matrix paths whose rounding differs from the batched one.
 */
const MIN_BATCH_EVENTS = 8;

/** The parameter-name prefix of the MFP heads in a checkpoint. */
export const HEADS_PREFIX = 'mfp_heads.';

/** The pass in which column `j` is masked. */
function passOf(j: number): number {
  return j % RECONSTRUCTION_PASSES;
}

/**
 * Masks each pass's columns in `x` [N, w] (column j of the table is `offset + j`) with `masked` (a
 * scalar or one value per column): [P·N, w], pass after pass.
 */
function maskedPasses(x: Value, width: number, offset: number, masked: number[], dtype: 'float32' | 'int64') {
  const b = x.builder;
  const P = RECONSTRUCTION_PASSES;
  const keep: number[] = [];
  const fill: number[] = [];
  for (let p = 0; p < P; p++) {
    for (let j = 0; j < width; j++) {
      const hidden = passOf(offset + j) === p;
      keep.push(hidden ? 0 : 1);
      fill.push(hidden ? masked[j]! : 0);
    }
  }
  const k = b.constant(dtype, [P, 1, width], dtype === 'int64' ? keep.map(BigInt) : keep);
  const f = b.constant(dtype, [P, 1, width], dtype === 'int64' ? fill.map(BigInt) : fill);
  return op.reshape(op.add(op.mul(op.unsqueeze(x, [0]), k), f), [-1, width]);
}

/**
 * −log softmax(logits)[id] per row ([rows, card] logits, [rows, 1] ids → [rows, 1]). The exponentials are
 * summed by a MatMul with ones: a ReduceSum's summation order changes with the number of rows, and an
 * event's surprise must not depend on the events it is scored with.
 */
function surpriseOf(logits: Value, card: number, id: Value): Value {
  const b = logits.builder;
  const shifted = op.sub(logits, op.reduceMax(logits, [1], true));
  const total = op.matMul(op.exp(shifted), b.constant('float32', [card, 1], new Array(card).fill(1)));
  return op.sub(op.log(total), op.gatherElements(shifted, id, 1));
}

/**
 * Builds `reconstruction.onnx`: the inputs of model.onnx (raw fields), output `surprise` [N, columns]:
 * for each numerical input column (indicators included) half the squared error of the head's prediction
 * in scaled units, for each categorical column −log p of the event's id, each predicted with the column
 * masked. `weights` is a checkpoint's state: the encoder and the `mfp_heads.*` parameters.
 */
export function buildReconstructionModel(
  spec: FittedSpec,
  model: ModelConfig,
  weights: Map<string, TensorData>,
): Uint8Array {
  const b = new Builder('ocsf_embed_reconstruction');
  const inputs = encodeInputs(b, spec);
  const fn = model.numNumerical;
  const fc = model.cardinalities.length;
  const encoder = new Map([...weights].filter(([k]) => !k.startsWith(HEADS_PREFIX)));
  const z = encoderForward(
    b,
    model,
    foldBatchNorms(encoder, model),
    inputs.numerical && maskedPasses(inputs.numerical, fn, 0, new Array(fn).fill(0), 'float32'),
    inputs.categorical &&
      maskedPasses(
        inputs.categorical,
        fc,
        fn,
        model.cardinalities.map((k) => k - 1),
        'int64',
      ),
    true,
  );
  const d = model.dModel;
  const heads: Forward = { b, params: new Params(b, 'initializers', weights), train: false, random: null };
  const parts: Value[] = [];
  b.scope('mfp_heads', () => {
    if (inputs.numerical) {
      const x = inputs.numerical;
      const pred = op.reshape(linear(heads, 'num_head', z, d, fn), [RECONSTRUCTION_PASSES, -1, fn]);
      const err = op.sub(pred, op.unsqueeze(x, [0]));
      const hidden: number[] = [];
      for (let p = 0; p < RECONSTRUCTION_PASSES; p++) {
        for (let j = 0; j < fn; j++) hidden.push(passOf(j) === p ? 0.5 : 0);
      }
      const weight = b.constant('float32', [RECONSTRUCTION_PASSES, 1, fn], hidden);
      parts.push(op.reduceSum(op.mul(op.mul(err, err), weight), [0], false));
    }
    model.cardinalities.forEach((card, i) => {
      // The head runs on every pass's rows, then the pass that masked the column is kept: on fewer rows
      // ONNX Runtime's GEMM takes other kernels, with other rounding (see MIN_BATCH_EVENTS).
      const id = op.slice(inputs.categorical!, [i], [i + 1], [1]);
      const ids = op.reshape(op.expand(op.unsqueeze(id, [0]), [RECONSTRUCTION_PASSES, 1, 1]), [-1, 1]);
      const all = op.reshape(surpriseOf(linear(heads, `cat_heads.${i}`, z, d, card), card, ids), [
        RECONSTRUCTION_PASSES,
        -1,
        1,
      ]);
      parts.push(op.gather(all, b.scalar('int64', passOf(fn + i)), 0));
    });
  });
  b.output(op.concat(parts, 1), 'surprise');
  b.metadata.set(META.format, RECONSTRUCTION_FORMAT);
  b.metadata.set(META.spec, serializeSpec(spec));
  b.metadata.set(META.model, JSON.stringify(model));
  return encodeModel(b);
}

/** Whether a checkpoint's state holds the MFP heads a reconstruction model needs. */
export function hasReconstructionHeads(state: Map<string, unknown>): boolean {
  for (const k of state.keys()) if (k.startsWith(HEADS_PREFIX)) return true;
  return false;
}

/** Names of the surprise columns: the numerical model inputs (`<name>:missing` indicators too), then the categoricals. */
export function surpriseColumns(spec: FittedSpec): string[] {
  return [...numericalFeatureNames(spec), ...spec.categorical.map((c) => c.name)];
}

/** Runs a reconstruction model; create with `Reconstructor.fromBytes`. */
export class Reconstructor {
  private constructor(
    readonly spec: FittedSpec,
    readonly width: number,
    private readonly session: InferenceSession,
  ) {}

  /** Opens a reconstruction.onnx written by `ocsf-embed train`; `name` is its path or file name in messages. */
  static async fromBytes(
    bytes: Uint8Array,
    createSession: SessionFactory,
    name = 'reconstruction.onnx',
  ): Promise<Reconstructor> {
    let meta: Map<string, string>;
    try {
      meta = readMetadata(bytes);
    } catch (e) {
      throw new UserError(
        `${name} is not an ONNX model (${(e as Error).message.split('\n')[0]}): give the run's reconstruction.onnx`,
      );
    }
    if (meta.get(META.format) !== RECONSTRUCTION_FORMAT) {
      throw new UserError(
        `${name} is not an ocsf-embed reconstruction model: give the run's reconstruction.onnx`,
      );
    }
    const spec = parseSpec(meta.get(META.spec)!);
    return new Reconstructor(spec, surpriseColumns(spec).length, await createSession(bytes));
  }

  /** Each event's surprise per column, row-major [events, width]. */
  surprise(events: readonly object[], batchSize = EMBED_BATCH_SIZE): Promise<Float32Array> {
    return this.surpriseExtracted(
      events.map((e) => extractRaw(this.spec, e)),
      batchSize,
    );
  }

  /** The surprise of events already through stage 1 ({@link extractRaw}): the same as {@link surprise} of the events. */
  async surpriseExtracted(raws: readonly RawFeatures[], batchSize = EMBED_BATCH_SIZE): Promise<Float32Array> {
    const out = new Float32Array(raws.length * this.width);
    for (let start = 0; start < raws.length; start += batchSize) {
      const chunk = raws.slice(start, start + batchSize);
      const rows = chunk.length;
      // Fewer rows take other GEMM kernels with other rounding: padded, an event's surprise is the same
      // whichever events it is scored with.
      while (chunk.length < MIN_BATCH_EVENTS) chunk.push(chunk[0]!);
      const feeds = rawFeeds(this.spec, rawBatchOfExtracted(this.spec, chunk));
      const result = await this.session.run(feeds, ['surprise']);
      out.set((result.surprise!.data as Float32Array).subarray(0, rows * this.width), start * this.width);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
