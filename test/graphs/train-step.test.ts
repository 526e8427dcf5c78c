// The fused train step as a whole: its gradients against finite differences (float32, stated
// tolerance), learning on a clustered table, determinism, and onnxruntime-web agreeing with node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ortWeb from 'onnxruntime-web';
import {
  buildArtifacts,
  buildTrainStep,
  type GraphTarget,
  NEXT,
  type TrainingConfig,
} from '../../graphs/artifacts.ts';
import { REFERENCE_OBJECTIVE, resolveTrainingConfig } from '../../graphs/config.ts';
import { initialState } from '../../graphs/nn/params.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { flatLayout, MOMENTS } from '../../graphs/optim/adamw.ts';
import { type EncodedDataset, gatherRows, shuffledBatches } from '../../src/dataset/dataset.ts';
import { categoryCdf } from '../../src/train/trainer.ts';
import { type Feeds, ort, randn, rng, sessionFor } from '../helpers/ort.ts';
import { clusteredDataset } from '../helpers/synthetic.ts';

type AnyTensor = { data: unknown; dims: readonly number[] };
type TensorCtor = new (type: string, data: unknown, dims: readonly number[]) => AnyTensor;

function stateFeeds(
  T: TensorCtor,
  initial: Map<string, TensorData>,
  specs: { name: string }[],
  total: number,
) {
  const feeds: Record<string, AnyTensor> = {};
  for (const s of specs) {
    const t = initial.get(s.name)!;
    feeds[s.name] = new T(t.dtype, t.data, t.dims);
  }
  feeds[MOMENTS.m] = new T('float32', new Float32Array(total), [total]);
  feeds[MOMENTS.v] = new T('float32', new Float32Array(total), [total]);
  return feeds;
}

/** The category frequencies empirical swaps draw from, as the trainer feeds them. */
function cdfFeed(T: TensorCtor, ds: EncodedDataset, cardinalities: number[]) {
  const cdf = categoryCdf(ds, cardinalities);
  return { category_cdf: new T('float32', cdf.data, cdf.dims) };
}

function batchFeeds(
  T: TensorCtor,
  num: Float32Array,
  cat: Int32Array,
  rows: number,
  fn: number,
  fc: number,
  step: number,
  lr: number,
) {
  return {
    numerical: new T('float32', num, [rows, fn]),
    categorical: new T(
      'int64',
      BigInt64Array.from(cat, (v) => BigInt(v)),
      [rows, fc],
    ),
    lr: new T('float64', Float64Array.from([lr]), []),
    step: new T('int64', BigInt64Array.from([BigInt(step)]), []),
    seed: new T('int64', BigInt64Array.from([3n]), []),
  };
}

const tiny = (kind: 'contrastive' | 'mfp' | 'both'): TrainingConfig =>
  resolveTrainingConfig({
    model: { numNumerical: 6, cardinalities: [9, 5], dModel: 8, numBlocks: 1, dropout: 0.2 },
    objective: { kind, temperature: 0.5 },
  });

for (const kind of ['contrastive', 'mfp', 'both'] as const) {
  test(`full train step gradients (${kind}, dropout and augmentation on) match central differences per parameter (float32: eps 1e-4, 2% + 5e-3)`, async () => {
    // float32 only (the step's augmentation and optimizer are float32): a small step keeps clear of
    // ReLU kinks, and the tolerance covers float32 rounding of the loss divided by 2·eps.
    const config = tiny(kind);
    const step = buildTrainStep(config, 16, { exposeGradients: true });
    const session = await sessionFor(step.builder);
    const initial = initialState(step.specs, 11);
    const total = flatLayout(step.specs).reduce((a, s) => a + s.size, 0);
    const data = clusteredDataset(16, 9);
    const base = {
      ...stateFeeds(ort.Tensor as unknown as TensorCtor, initial, step.specs, total),
      ...batchFeeds(ort.Tensor as unknown as TensorCtor, data.numerical, data.categorical, 16, 6, 2, 1, 1e-3),
      ...cdfFeed(ort.Tensor as unknown as TensorCtor, data, [9, 5]),
    } as unknown as Feeds;
    const out = await session.run(base);
    const random = rng(17);
    const eps = 1e-4;
    const params = step.specs.filter((s) => s.role === 'param');
    assert.ok(params.length >= 17);
    for (const p of params) {
      const x = initial.get(p.name)!.data as Float32Array;
      const t = randn(x.length, random);
      const g = out[`grad.${p.name}`]!.data as Float32Array;
      const analytic = t.reduce((acc, v, i) => acc + v * g[i]!, 0);
      const lossAt = async (sign: number) => {
        const dims = initial.get(p.name)!.dims;
        const moved = new ort.Tensor(
          'float32',
          Float32Array.from(x, (v, i) => v + sign * eps * t[i]!),
          dims,
        );
        return Number((await session.run({ ...base, [p.name]: moved })).loss!.data[0]);
      };
      const numeric = ((await lossAt(1)) - (await lossAt(-1))) / (2 * eps);
      assert.ok(
        Math.abs(analytic - numeric) <= 2e-2 * Math.abs(numeric) + 5e-3,
        `${p.name}: ⟨g, t⟩ ${analytic} vs finite difference ${numeric}`,
      );
    }
    await session.release();
  });
}

/** Runs `steps` train steps on the clustered table; returns the losses. */
async function trainLosses(
  T: TensorCtor,
  create: (
    bytes: Uint8Array,
  ) => Promise<{ run(f: Record<string, AnyTensor>): Promise<Record<string, AnyTensor>> }>,
  steps: number,
  objective: Record<string, unknown> = {},
  target: GraphTarget = {},
) {
  const config = resolveTrainingConfig({
    model: { numNumerical: 6, cardinalities: [9, 5], dModel: 32, numBlocks: 2, dropout: 0.1 },
    objective,
  });
  const a = buildArtifacts(config, 64, 2, target);
  const session = await create(a.trainStep);
  const total = a.manifest.optimizerLayout.reduce((x, s) => x + s.size, 0);
  let state = stateFeeds(T, a.initial, a.manifest.state, total);
  const data = clusteredDataset(1024, 4);
  const cdf = a.manifest.graphs.train_step.inputs.some((i) => i.name === 'category_cdf')
    ? cdfFeed(T, data, [9, 5])
    : {};
  const num = new Float32Array(64 * 6);
  const cat = new Int32Array(64 * 2);
  const losses: number[] = [];
  for (let k = 0; losses.length < steps; k++) {
    for (const batch of shuffledBatches(data.rows, 64, 2, k, { dropLast: true })) {
      if (losses.length === steps) break;
      gatherRows(data, batch, num, cat);
      const out = await session.run({
        ...state,
        ...batchFeeds(T, num.slice(), cat.slice(), 64, 6, 2, losses.length + 1, 2e-3),
        ...cdf,
      });
      const next: Record<string, AnyTensor> = {};
      for (const name of Object.keys(state)) next[name] = out[name + NEXT]!;
      state = next;
      losses.push(Number((out.loss!.data as Float32Array)[0]));
    }
  }
  return losses;
}

const nodeCreate = (bytes: Uint8Array) =>
  ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 }) as never;

test('contrastive training on a clustered table drives the loss well below ln(2B − 1), deterministically, and alike with Concat and Split nodes whole', async () => {
  const a = await trainLosses(ort.Tensor as unknown as TensorCtor, nodeCreate, 300);
  const b = await trainLosses(
    ort.Tensor as unknown as TensorCtor,
    nodeCreate,
    300,
    {},
    {
      maxNodeTensors: Number.POSITIVE_INFINITY,
    },
  );
  assert.deepEqual(a, b);
  const last = a.slice(-20).reduce((x, y) => x + y, 0) / 20;
  assert.ok(
    last < Math.log(127) - 1.5,
    `mean loss of the last 20 steps ${last}, ln(2B−1) = ${Math.log(127).toFixed(2)}`,
  );
});

for (const [label, objective, steps] of [
  ['reference swaps', REFERENCE_OBJECTIVE, 20],
  // Empirical swaps feed more float arithmetic into each step; runtimes' GEMMs differ in the last
  // bits, and the difference grows step by step, so fewer steps are compared.
  ['empirical swaps', {}, 10],
] as const) {
  test(`onnxruntime-web (wasm, in Node) gives the same losses as onnxruntime-node to 1e-5 (${label})`, async () => {
    ortWeb.env.wasm.numThreads = 1;
    const node = await trainLosses(ort.Tensor as unknown as TensorCtor, nodeCreate, steps, objective);
    const web = await trainLosses(
      ortWeb.Tensor as unknown as TensorCtor,
      (bytes) => ortWeb.InferenceSession.create(bytes) as never,
      steps,
      objective,
    );
    node.forEach((l, i) => {
      assert.ok(
        Math.abs(l - web[i]!) <= 1e-5 * Math.max(1, Math.abs(l)),
        `step ${i + 1}: node ${l}, web ${web[i]}`,
      );
    });
  });
}

test('the train step encodes to identical bytes when built twice', () => {
  const c = tiny('both');
  assert.deepEqual(encodeModel(buildTrainStep(c, 8).builder), encodeModel(buildTrainStep(c, 8).builder));
});

for (const [label, model] of [
  ['no numericals', { numNumerical: 0, cardinalities: [9, 5] }],
  ['no categoricals', { numNumerical: 6, cardinalities: [] }],
] as const) {
  test(`a model with ${label} builds, trains a step and embeds`, async () => {
    const config = resolveTrainingConfig({
      model: { ...model, dModel: 16, numBlocks: 1 },
      objective: { kind: 'both' },
    });
    const a = buildArtifacts(config, 8, 1);
    const total = a.manifest.optimizerLayout.reduce((x, s) => x + s.size, 0);
    const T = ort.Tensor as unknown as TensorCtor;
    const feeds: Record<string, AnyTensor> = { ...stateFeeds(T, a.initial, a.manifest.state, total) };
    if (a.manifest.graphs.train_step.inputs.some((i) => i.name === 'category_cdf')) {
      Object.assign(feeds, cdfFeed(T, clusteredDataset(8, 1), [9, 5]));
    }
    if (model.numNumerical > 0)
      feeds.numerical = new T('float32', Float32Array.from(randn(8 * 6, rng(1))), [8, 6]);
    if (model.cardinalities.length > 0)
      feeds.categorical = new T(
        'int64',
        BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i % 3)),
        [8, 2],
      );
    feeds.lr = new T('float64', Float64Array.from([1e-3]), []);
    feeds.step = new T('int64', BigInt64Array.from([1n]), []);
    feeds.seed = new T('int64', BigInt64Array.from([1n]), []);
    const session = await ort.InferenceSession.create(a.trainStep);
    const out = await session.run(feeds as unknown as Feeds);
    assert.ok(Number.isFinite(Number(out.loss!.data[0])));
    const encoder = await ort.InferenceSession.create(a.encoder);
    const { numerical, categorical } = feeds as unknown as Feeds;
    const emb = await encoder.run({
      ...(numerical ? { numerical } : {}),
      ...(categorical ? { categorical } : {}),
    });
    assert.deepEqual(emb.embedding!.dims, [8, 16]);
    await session.release();
    await encoder.release();
  });
}
