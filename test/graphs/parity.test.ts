// Parity with PyTorch: one fused train step against the committed reference fixtures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildEvalStep, buildTrainStep, NEXT, type TrainingConfig } from '../../graphs/artifacts.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { flatLayout, MOMENTS } from '../../graphs/optim/adamw.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { type Feeds, ort, sessionFor } from '../helpers/ort.ts';

const DIR = 'test/fixtures/golden';
const REL = 1e-5;

function tensor(t: TensorData): ort.Tensor {
  const type =
    t.dtype === 'float32'
      ? 'float32'
      : t.dtype === 'int64'
        ? 'int64'
        : t.dtype === 'bool'
          ? 'bool'
          : 'float64';
  return new ort.Tensor(type, t.data as Float32Array, t.dims);
}

function numbers(x: ort.Tensor | TensorData): number[] {
  return Array.from(x.data as ArrayLike<number | bigint>, Number);
}

/** max |a − b| ≤ rel · max(1, max |b|) over the tensor. */
function assertClose(name: string, got: number[], want: number[], rel = REL): void {
  assert.equal(got.length, want.length, `${name}: length`);
  const scale = Math.max(1, ...want.map(Math.abs));
  const worst = Math.max(0, ...got.map((g, i) => Math.abs(g - want[i]!)));
  assert.ok(worst <= rel * scale, `${name}: max difference ${worst} exceeds ${rel} × ${scale}`);
}

function loadCase(name: string) {
  const meta = JSON.parse(readFileSync(join(DIR, name, 'config.json'), 'utf8')) as {
    config: TrainingConfig;
    lr: number;
    step: number;
  };
  const inputs = decodeSafetensors(readFileSync(join(DIR, name, 'inputs.safetensors'))).tensors;
  const expected = decodeSafetensors(readFileSync(join(DIR, name, 'expected.safetensors'))).tensors;
  return { ...meta, inputs, expected };
}

function feedsFor(c: ReturnType<typeof loadCase>, names: readonly string[]): Feeds {
  const feeds: Feeds = {};
  for (const name of names) {
    const batchKey = `batch.${name}`;
    const t = c.inputs.get(batchKey) ?? c.inputs.get(name);
    if (t) feeds[name] = tensor(t);
    else if (name.startsWith('optim.')) {
      const total = flatLayout(buildTrainStep(c.config, 2).specs).reduce((a, s) => a + s.size, 0);
      feeds[name] = new ort.Tensor('float32', new Float32Array(total), [total]);
    }
  }
  feeds.lr = new ort.Tensor('float64', Float64Array.from([c.lr]), []);
  feeds.step = new ort.Tensor('int64', BigInt64Array.from([BigInt(c.step)]), []);
  feeds.seed = new ort.Tensor('int64', BigInt64Array.from([0n]), []);
  return feeds;
}

for (const name of ['contrastive', 'mfp', 'both']) {
  describe(`PyTorch parity: ${name}`, () => {
    const c = loadCase(name);
    const train = buildTrainStep(c.config, c.inputs.get('batch.numerical')!.dims[0]!, {
      exposeGradients: true,
    });
    let out: Record<string, ort.Tensor>;

    test('train step runs; loss matches', async () => {
      const session = await sessionFor(train.builder);
      out = await session.run(feedsFor(c, session.inputNames));
      assertClose('loss', numbers(out.loss!), numbers(c.expected.get('loss')!));
    });

    test('every parameter gradient matches', () => {
      const grads = [...c.expected.keys()].filter((k) => k.startsWith('grad.'));
      assert.ok(grads.length > 10);
      const scale = Math.max(...grads.flatMap((k) => numbers(c.expected.get(k)!).map(Math.abs)));
      for (const k of grads) {
        // Relative to the largest gradient of the model: biases feeding a BatchNorm have a
        // gradient that is zero in exact arithmetic and float noise on both sides.
        assertClose(k, numbers(out[k]!), numbers(c.expected.get(k)!), REL * Math.max(1, scale));
      }
    });

    test('parameters, buffers and moments after one AdamW step match', () => {
      const expectedGrad = (param: string) => numbers(c.expected.get(`grad.${param}`)!);
      const gmax = Math.max(
        ...[...c.expected.keys()]
          .filter((k) => k.startsWith('grad.'))
          .flatMap((k) => numbers(c.expected.get(k)!).map(Math.abs)),
      );
      let checked = 0;
      for (const spec of train.specs) {
        const got = numbers(out[spec.name + NEXT]!);
        const want = numbers(c.expected.get(spec.name)!);
        if (spec.role === 'param') {
          // Adam's first step moves each weight by ≈ lr·sign(g); where g is float noise (the
          // BatchNorm-cancelled biases) the sign is arbitrary, so those elements may differ by ≤ 2·lr.
          const g = expectedGrad(spec.name);
          const noise = 1e-6 * gmax;
          got.forEach((v, i) => {
            const tol = Math.abs(g[i]!) <= noise ? 2 * c.lr + 1e-7 : REL * Math.max(1, Math.abs(want[i]!));
            assert.ok(Math.abs(v - want[i]!) <= tol, `${spec.name}[${i}]: ${v} vs ${want[i]}`);
          });
        } else assertClose(spec.name, got, want);
        checked++;
      }
      assert.equal(checked, train.specs.length);
      for (const slot of flatLayout(train.specs)) {
        for (const [flat, suffix] of [
          [MOMENTS.m, 'exp_avg'],
          [MOMENTS.v, 'exp_avg_sq'],
        ] as const) {
          const got = numbers(out[flat + NEXT]!).slice(slot.offset, slot.offset + slot.size);
          assertClose(
            `${slot.name} ${suffix}`,
            got,
            numbers(c.expected.get(`optim.${slot.name}.${suffix}`)!),
            REL * Math.max(1, gmax),
          );
        }
      }
      if (c.config.optimizer.clipNorm !== null) {
        assertClose('grad_norm', numbers(out.grad_norm!), numbers(c.expected.get('grad_norm')!));
      }
    });

    test('eval-mode loss after the step matches (running-statistics BatchNorm)', async () => {
      const evalStep = buildEvalStep(c.config);
      const session = await sessionFor(evalStep.builder);
      const feeds = feedsFor(c, session.inputNames);
      // PyTorch's updated state, so the BatchNorm-cancelled biases (see above) agree exactly.
      for (const spec of train.specs) feeds[spec.name] = tensor(c.expected.get(spec.name)!);
      const result = await session.run(feeds);
      assertClose('eval loss', numbers(result.loss!), numbers(c.expected.get('eval_loss_after')!));
    });
  });
}
