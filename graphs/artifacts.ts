// From one training config to the training artifacts: the fused train step, the eval step, the
// encoder, the parameter manifest and the initial state.

import { addNoise, bernoulliMask, swapCategories } from './augment.ts';
import { grad } from './autodiff/grad.ts';
import { ConfigError, OBJECTIVE_DEFAULTS, type TrainingConfig, validateConfig } from './config.ts';
import { ntXent } from './losses/contrastive.ts';
import { mfpLoss } from './losses/mfp.ts';
import { type ModelConfig, tabularResNet } from './models/tabular-resnet.ts';
import { type Forward, initialState, type ParamSpec, Params } from './nn/params.ts';
import { Builder, type TensorData, type Value } from './onnx/builder.ts';
import type { DType } from './onnx/dtype.ts';
import { encodeModel } from './onnx/encode.ts';
import * as op from './onnx/ops.ts';
import { adamw, type FlatSlot, flatLayout, NEXT } from './optim/adamw.ts';
import { type BernoulliPool, bernoulliPool, streamKey, streamKeys } from './rng.ts';

export type { TrainingConfig };
export { NEXT };

export interface IoSpec {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

export interface GraphManifest {
  inputs: IoSpec[];
  outputs: IoSpec[];
}

/** Everything the trainer needs to know about the artifacts. */
export interface Manifest {
  format: 'ocsf-embed.artifacts/1';
  config: TrainingConfig;
  /** Parameters and buffers in state_dict order. */
  state: { name: string; shape: number[]; dtype: DType; role: 'param' | 'buffer' }[];
  /** Where each parameter lives in the flat AdamW moment vectors `optim.exp_avg` / `optim.exp_avg_sq`. */
  optimizerLayout: FlatSlot[];
  /** The batch size the train step is built for (its batch dimension is static). */
  batchSize: number;
  graphs: Record<'train_step' | 'eval_step' | 'encoder', GraphManifest>;
  /** Metric outputs of the train and eval steps besides `loss`. */
  metrics: string[];
}

interface Batch {
  numerical: Value | null;
  categorical: Value | null;
}

function batchInputs(b: Builder, m: ModelConfig, batch: number | 'batch' = 'batch'): Batch {
  return {
    numerical: m.numNumerical > 0 ? b.input('numerical', 'float32', [batch, m.numNumerical]) : null,
    categorical:
      m.cardinalities.length > 0 ? b.input('categorical', 'int64', [batch, m.cardinalities.length]) : null,
  };
}

/** The categorical ids augmentation may draw: every id but the reserved last one ([MASK]) when MFP uses it. */
function swapChoices(c: TrainingConfig): number[] {
  const reserve = c.objective.kind !== 'contrastive' || c.objective.reserveMaskId ? 1 : 0;
  return c.model.cardinalities.map((k) => k - reserve);
}

interface ObjectiveOut {
  loss: Value;
  metrics: Record<string, Value>;
}

/** Builds the objective's forward passes and loss on `f` (train or eval mode). */
function objective(
  f: Forward,
  c: TrainingConfig,
  batch: Batch,
  key: (stream: number) => Value,
  cdf: Value | null,
): ObjectiveOut {
  const { b } = f;
  const o = c.objective;
  const m = c.model;
  const contrastive = o.kind === 'contrastive' || o.kind === 'both';
  const masked = o.kind === 'mfp' || o.kind === 'both';
  // Row groups travel stacked through one encoder pass: [view 1; view 2; masked rows].
  const numGroups: Value[] = [];
  const catGroups: Value[] = [];
  if (contrastive) {
    b.nodeScope('views', () => {
      if (batch.numerical) {
        numGroups.push(addNoise(op.concat([batch.numerical, batch.numerical], 0), o.noiseLevel, key(10)));
      }
      if (batch.categorical) {
        const both = op.concat([batch.categorical, batch.categorical], 0);
        catGroups.push(
          swapCategories(
            both,
            o.swapProb,
            swapChoices(c),
            { mask: key(20), pick: key(30) },
            cdf ?? undefined,
          ),
        );
      }
    });
  }
  let numMask: Value | null = null;
  let catMask: Value | null = null;
  if (masked) {
    b.nodeScope('mask', () => {
      if (batch.numerical) {
        numMask = maskFor(b, 'numerical_mask', batch.numerical, o.maskProb, key(40), o.maskInputs);
        numGroups.push(op.where(numMask, b.scalar('float32', 0), batch.numerical));
      }
      if (batch.categorical) {
        catMask = maskFor(b, 'categorical_mask', batch.categorical, o.maskProb, key(41), o.maskInputs);
        const maskIds = b.constant(
          'int64',
          [m.cardinalities.length],
          m.cardinalities.map((k) => k - 1),
        );
        catGroups.push(op.where(catMask, maskIds, batch.categorical));
      }
    });
  }
  const groups = (contrastive ? 2 : 0) + (masked ? 1 : 0);
  const batchRows = (batch.numerical ?? batch.categorical)!.shape![0];
  let dropoutMasks: BernoulliPool | undefined;
  if (f.train && f.random && m.dropout > 0 && typeof batchRows === 'number') {
    // Two dropout sites per block, each [groups · batch, dModel].
    const count = m.numBlocks * 2 * groups * batchRows * m.dModel;
    if (count > 0) {
      dropoutMasks = b.nodeScope('dropout', () => bernoulliPool(key(50), count, m.dropout));
    }
  }
  const z = tabularResNet(
    { ...f, groups, dropoutMasks },
    m,
    numGroups.length ? op.concat(numGroups, 0) : null,
    catGroups.length ? op.concat(catGroups, 0) : null,
  );
  const zs = splitGroups(z, groups, contrastive && masked);

  const metrics: Record<string, Value> = {};
  const parts: Value[] = [];
  if (contrastive) {
    const { loss, positiveSimilarity } = b.nodeScope('nt_xent', () => ntXent(zs[0]!, o.temperature));
    metrics.contrastive_loss = loss;
    metrics.positive_similarity = positiveSimilarity;
    parts.push(o.kind === 'both' ? op.mul(loss, b.scalar('float32', o.contrastiveWeight)) : loss);
  }
  if (masked) {
    const out = b.nodeScope('mfp', () =>
      mfpLoss(
        f,
        zs[zs.length - 1]!,
        m.dModel,
        m.cardinalities,
        m.numNumerical,
        {
          numerical: batch.numerical,
          numericalMask: numMask,
          categorical: batch.categorical,
          categoricalMask: catMask,
        },
        o.numericalWeight,
      ),
    );
    metrics.mfp_loss = out.loss;
    metrics.mfp_categorical_loss = out.categoricalLoss;
    metrics.mfp_numerical_loss = out.numericalLoss;
    parts.push(o.kind === 'both' ? op.mul(out.loss, b.scalar('float32', o.mfpWeight)) : out.loss);
  }
  return { loss: parts.length === 1 ? parts[0]! : op.add(parts[0]!, parts[1]!), metrics };
}

/** [views (2 groups); masked rows (1 group)] from the stacked embedding. */
function splitGroups(z: Value, groups: number, both: boolean): Value[] {
  if (!both) return [z];
  const rows = z.shape![0];
  if (typeof rows === 'number') return op.split(z, [(2 * rows) / 3, rows / 3], 0);
  // Split sizes as an input, not `num_outputs`: with the attribute, onnxruntime-web's WebGPU eval step
  // failed (a Gemm on an empty group).
  const b = z.builder;
  const third = op.div(op.shape(z, 0, 1), b.ints([groups]));
  const sizes = op.concat([op.mul(third, b.ints([groups - 1])), third], 0);
  const [views, masked] = b.opMulti('Split', [z, sizes], { axis: 0 }, { outputs: 2 });
  return [views!, masked!];
}

function maskFor(b: Builder, name: string, like: Value, p: number, key: Value, fromInput: boolean): Value {
  if (fromInput) return b.input(name, 'bool', like.shape!);
  return bernoulliMask(like, p, key);
}

/** Where the graphs will run, as far as it shapes them. */
export interface GraphTarget {
  /**
   * The most tensors one Concat or Split node may bind (default `MAX_NODE_TENSORS`, which WebGPU
   * needs); `Infinity` where the graphs run on CPU providers only (onnxruntime-node's CPU or CUDA, wasm).
   */
  maxNodeTensors?: number;
}

interface StepGraph {
  builder: Builder;
  specs: ParamSpec[];
  metrics: string[];
}

/** The streams of the objective's randomness: view noise, category swaps, MFP masks, dropout. */
const STREAMS = [10, 20, 30, 40, 41, 50];

function randomKeys(seed: Value, step: Value) {
  let next = 100;
  return {
    key: streamKeys(seed, step, STREAMS),
    nextStream: () => streamKey(seed, step, next++),
  };
}

/**
 * The fused training step: forward (each view its own batch), loss, backward and AdamW in one
 * graph. Every parameter, buffer and moment is an input; its update is the output `<name>.next`.
 */
export function buildTrainStep(
  config: TrainingConfig,
  batchSize: number,
  options: { exposeGradients?: boolean } & GraphTarget = {},
): StepGraph {
  validateConfig(config);
  if (!Number.isInteger(batchSize) || batchSize < 2) {
    throw new ConfigError(`the batch size must be a whole number ≥ 2; got ${batchSize}`);
  }
  const b = new Builder('train_step', options.maxNodeTensors);
  const params = new Params(b, 'inputs');
  const lr = b.input('lr', 'float64', []);
  const step = b.input('step', 'int64', []);
  const seed = b.input('seed', 'int64', []);
  const batch = batchInputs(b, config.model, batchSize);
  const cdf =
    config.objective.swapSampling === 'empirical' && config.objective.swapProb > 0 && batch.categorical
      ? b.input('category_cdf', 'float32', [config.model.cardinalities.length, 'K'])
      : null;
  const rand = randomKeys(seed, step);
  const f: Forward = { b, params, train: true, random: config.model.dropout > 0 ? rand.nextStream : null };
  const { loss, metrics } = objective(f, config, batch, rand.key, cdf);
  const trainable = params.specs.filter((s) => s.role === 'param');
  const grads = b.nodeScope('backward', () =>
    grad(
      loss,
      trainable.map((s) => params.current(s.name)),
    ),
  );
  if (options.exposeGradients) {
    trainable.forEach((s, i) => {
      b.output(grads[i]!, `grad.${s.name}`);
    });
  }
  const { updates, moments, gradNorm } = adamw(
    trainable.map((spec, i) => ({ spec, value: params.current(spec.name), grad: grads[i]! })),
    lr,
    step,
    config.optimizer,
  );
  b.output(loss, 'loss');
  const metricNames = Object.keys(metrics).sort();
  for (const name of metricNames) b.output(metrics[name]!, name);
  if (gradNorm) {
    b.output(gradNorm, 'grad_norm');
    metricNames.push('grad_norm');
  }
  for (const spec of params.specs) {
    const next =
      spec.role === 'param'
        ? updates.get(spec.name)!
        : (params.updates.get(spec.name) ?? params.current(spec.name));
    b.output(next, spec.name + NEXT);
  }
  b.output(moments.m);
  b.output(moments.v);
  return { builder: b, specs: params.specs, metrics: metricNames };
}

/** The validation step: the same objective in eval mode (running-stat BN, no dropout), no update. */
export function buildEvalStep(config: TrainingConfig, target: GraphTarget = {}): StepGraph {
  validateConfig(config);
  const b = new Builder('eval_step', target.maxNodeTensors);
  const params = new Params(b, 'inputs');
  const step = b.input('step', 'int64', []);
  const seed = b.input('seed', 'int64', []);
  const batch = batchInputs(b, config.model);
  const cdf =
    config.objective.swapSampling === 'empirical' && config.objective.swapProb > 0 && batch.categorical
      ? b.input('category_cdf', 'float32', [config.model.cardinalities.length, 'K'])
      : null;
  const rand = randomKeys(seed, step);
  const f: Forward = { b, params, train: false, random: null };
  const { loss, metrics } = objective(f, config, batch, rand.key, cdf);
  b.output(loss, 'loss');
  const metricNames = Object.keys(metrics).sort();
  for (const name of metricNames) b.output(metrics[name]!, name);
  return { builder: b, specs: params.specs, metrics: metricNames };
}

/**
 * The eval-mode encoder with `weights` baked in as initializers, on `numerical` / `categorical`
 * values of `b`. With `foldedBatchNorm` the weights already hold each BatchNorm folded into the
 * Linear before it, and the BatchNorms are left out.
 */
export function encoderForward(
  b: Builder,
  model: ModelConfig,
  weights: Map<string, TensorData>,
  numerical: Value | null,
  categorical: Value | null,
  foldedBatchNorm = false,
): Value {
  const params = new Params(b, 'initializers', weights);
  return tabularResNet(
    { b, params, train: false, random: null, foldedBatchNorm },
    model,
    numerical,
    categorical,
  );
}

/** Eval-mode encoder with weights baked in: encoded inputs → `embedding` [N, dModel]. */
export function buildEncoder(model: ModelConfig, weights: Map<string, TensorData>): Builder {
  const b = new Builder('encoder');
  const batch = batchInputs(b, model);
  b.output(encoderForward(b, model, weights, batch.numerical, batch.categorical), 'embedding');
  return b;
}

/** Specs of everything the step trains: the encoder and, for MFP, its heads. */
export function trainingSpecs(config: TrainingConfig): ParamSpec[] {
  return buildTrainStep(config, 2).specs;
}

function manifestOf(b: Builder): GraphManifest {
  const io = (v: Value): IoSpec => ({ name: v.name, dtype: v.dtype, shape: v.shape ?? [] });
  return { inputs: b.inputs.map(io), outputs: b.outputs.map(io) };
}

export interface Artifacts {
  trainStep: Uint8Array;
  evalStep: Uint8Array;
  encoder: Uint8Array;
  manifest: Manifest;
  /** Initial parameters and buffers (and zero moments) by name. */
  initial: Map<string, TensorData>;
}

/**
 * Builds and encodes every artifact of a config; the initial weights come from `seed`. The train and
 * eval steps are shaped for `target` (by default they run everywhere); the encoder always runs everywhere.
 */
export function buildArtifacts(
  config: TrainingConfig,
  batchSize: number,
  seed: number,
  target: GraphTarget = {},
): Artifacts {
  const train = buildTrainStep(config, batchSize, target);
  const evalStep = buildEvalStep(config, target);
  const initial = initialState(train.specs, seed);
  const encoder = buildEncoder(config.model, initial);
  const manifest: Manifest = {
    format: 'ocsf-embed.artifacts/1',
    config,
    state: train.specs.map((s) => ({ name: s.name, shape: s.shape, dtype: s.dtype, role: s.role })),
    optimizerLayout: flatLayout(train.specs),
    batchSize,
    graphs: {
      train_step: manifestOf(train.builder),
      eval_step: manifestOf(evalStep.builder),
      encoder: manifestOf(encoder),
    },
    metrics: train.metrics,
  };
  return {
    trainStep: encodeModel(train.builder),
    evalStep: encodeModel(evalStep.builder),
    encoder: encodeModel(encoder),
    manifest,
    initial,
  };
}

export { OBJECTIVE_DEFAULTS };
