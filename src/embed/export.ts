// The portable inference model: raw feature values in (strings and numbers), in-graph encoding
// (vocabulary lookup with the reserved MISSING/UNKNOWN ids, scaling, imputation, indicators),
// the eval-mode encoder with BatchNorm folded into the preceding Linear, embeddings out. The
// fitted feature spec travels in the file's metadata, so the file alone is enough to embed events.

import { encoderForward } from '../../graphs/artifacts.ts';
import { l2Normalize } from '../../graphs/losses/contrastive.ts';
import type { ModelConfig } from '../../graphs/models/tabular-resnet.ts';
import { BN_EPS } from '../../graphs/nn/batch-norm.ts';
import { Builder, type TensorData, type Value } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { indicatorColumns, MAX_SCALED_MAGNITUDE } from '../features/encode.ts';
import { serializeSpec } from '../features/spec.ts';
import { type FittedSpec, MISSING_ID, UNKNOWN_ID, VOCAB_OFFSET } from '../features/types.ts';

/** Metadata keys of an exported model. */
export const META = {
  format: 'ocsf-embed.format',
  spec: 'ocsf-embed.spec',
  model: 'ocsf-embed.model',
  info: 'ocsf-embed.info',
} as const;
export const MODEL_FORMAT = 'ocsf-embed.model/1';

/** The string a missing categorical value takes in the model's `categorical` input. */
export const MISSING_STRING = '';

/**
 * Folds each eval-mode BatchNorm into the Linear before it: W' = W·s, b' = (b − μ)·s + β with
 * s = γ/√(σ² + ε). Returns new weights; the graph then leaves the BatchNorms out.
 */
export function foldBatchNorms(
  weights: Map<string, TensorData>,
  model: ModelConfig,
): Map<string, TensorData> {
  const out = new Map(weights);
  const pairs: [string, string][] = [['initial_projection', 'initial_bn']];
  for (let i = 0; i < model.numBlocks; i++) {
    pairs.push([`blocks.${i}.fc1`, `blocks.${i}.bn1`], [`blocks.${i}.fc2`, `blocks.${i}.bn2`]);
  }
  const f32 = (name: string) => weights.get(name)!.data as Float32Array;
  for (const [lin, bn] of pairs) {
    const w = f32(`${lin}.weight`);
    const bias = f32(`${lin}.bias`);
    const [gamma, beta, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) =>
      f32(`${bn}.${k}`),
    ) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const outF = bias.length;
    const inF = w.length / outF;
    const w2 = new Float32Array(w.length);
    const b2 = new Float32Array(outF);
    for (let o = 0; o < outF; o++) {
      const s = gamma[o]! / Math.sqrt(variance[o]! + BN_EPS);
      for (let i = 0; i < inF; i++) w2[o * inF + i] = w[o * inF + i]! * s;
      b2[o] = (bias[o]! - mean[o]!) * s + beta[o]!;
    }
    const dims = weights.get(`${lin}.weight`)!.dims;
    out.set(`${lin}.weight`, { dtype: 'float32', dims, data: w2 });
    out.set(`${lin}.bias`, { dtype: 'float32', dims: [outF], data: b2 });
  }
  return out;
}

/** In-graph stage 2 of feature encoding: raw strings → ids; raw numbers → scaled values and indicators. */
export function encodeInputs(
  b: Builder,
  spec: FittedSpec,
): { numerical: Value | null; categorical: Value | null } {
  let categorical: Value | null = null;
  if (spec.categorical.length > 0) {
    const raw = b.input('categorical', 'string', ['N', spec.categorical.length]);
    const columns =
      spec.categorical.length > 1
        ? op.split(
            raw,
            spec.categorical.map(() => 1),
            1,
          )
        : [raw];
    const ids = spec.categorical.map((c, j) =>
      b.op('LabelEncoder', [columns[j]!], {
        keys_strings: [MISSING_STRING, ...c.vocabulary],
        values_int64s: [MISSING_ID, ...c.vocabulary.map((_, i) => i + VOCAB_OFFSET)],
        default_int64: UNKNOWN_ID,
      }),
    );
    categorical = op.concat(ids, 1);
  }
  let numerical: Value | null = null;
  if (spec.numerical.length > 0) {
    const x = b.input('numerical', 'float32', ['N', spec.numerical.length]);
    const n = spec.numerical.length;
    const missing = b.op('IsNaN', [x]);
    const mean = b.constant(
      'float32',
      [n],
      spec.numerical.map((f) => f.mean),
    );
    const std = b.constant(
      'float32',
      [n],
      spec.numerical.map((f) => f.std),
    );
    // Clip: ±Infinity or a huge raw value gives an extreme but finite input (as stage 2 of encoding does).
    const z = b.op('Clip', [
      op.div(op.sub(x, mean), std),
      b.scalar('float32', -MAX_SCALED_MAGNITUDE),
      b.scalar('float32', MAX_SCALED_MAGNITUDE),
    ]);
    const scaled = op.where(missing, b.scalar('float32', 0), z);
    const ind = indicatorColumns(spec);
    if (ind.length > 0) {
      const flags = op.cast(op.gather(missing, b.ints(ind), 1), 'float32');
      numerical = op.concat([scaled, flags], 1);
    } else numerical = scaled;
  }
  return { numerical, categorical };
}

export interface ExportInfo {
  /** Versions and provenance recorded in the file. */
  [key: string]: unknown;
}

/** Builds `model.onnx`: raw fields in, `embedding` and `embedding_normalized` [N, dModel] out. */
export function buildInferenceModel(
  spec: FittedSpec,
  model: ModelConfig,
  weights: Map<string, TensorData>,
  info: ExportInfo = {},
): Uint8Array {
  const b = new Builder('ocsf_embed');
  const inputs = encodeInputs(b, spec);
  const embedding = encoderForward(
    b,
    model,
    foldBatchNorms(weights, model),
    inputs.numerical,
    inputs.categorical,
    true,
  );
  b.output(embedding, 'embedding');
  b.output(l2Normalize(embedding), 'embedding_normalized');
  b.metadata.set(META.format, MODEL_FORMAT);
  b.metadata.set(META.spec, serializeSpec(spec));
  b.metadata.set(META.model, JSON.stringify(model));
  b.metadata.set(META.info, JSON.stringify(info));
  return encodeModel(b);
}
