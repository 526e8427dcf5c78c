// A first real use of the engine: a tiny MLP regression whose forward, MSE, gradients and SGD
// update are one ONNX graph, run step after step on onnxruntime-node.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grad } from '../../graphs/autodiff/grad.ts';
import { Builder } from '../../graphs/onnx/builder.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { ort, randn, rng, sessionFor } from '../helpers/ort.ts';

test('an MLP regression trained with one fused forward + MSE + grad + SGD graph: the loss falls', async () => {
  const b = new Builder('mlp_sgd');
  const x = b.input('x', 'float32', [64, 3]);
  const y = b.input('y', 'float32', [64, 1]);
  const lr = b.input('lr', 'float32', []);
  const w1 = b.input('w1', 'float32', [3, 16]);
  const b1 = b.input('b1', 'float32', [16]);
  const w2 = b.input('w2', 'float32', [16, 1]);
  const b2 = b.input('b2', 'float32', [1]);
  const h = op.relu(op.add(op.matMul(x, w1), b1));
  const diff = op.sub(op.add(op.matMul(h, w2), b2), y);
  const loss = op.reduceMean(op.mul(diff, diff), undefined, false);
  const params = [w1, b1, w2, b2];
  const grads = grad(loss, params);
  b.output(loss, 'loss');
  params.forEach((p, i) => {
    b.output(op.sub(p, op.mul(grads[i]!, lr)), `${p.name}.next`);
  });
  const session = await sessionFor(b);

  const random = rng(3);
  const xs = Float32Array.from(randn(64 * 3, random));
  const ys = new Float32Array(64);
  for (let i = 0; i < 64; i++) ys[i] = Math.sin(xs[i * 3]!) + 0.5 * xs[i * 3 + 1]! * xs[i * 3 + 2]!;
  const init = (n: number, scale: number) => Float32Array.from(randn(n, random), (v) => v * scale);
  let state: Record<string, ort.Tensor> = {
    w1: new ort.Tensor('float32', init(48, 0.5), [3, 16]),
    b1: new ort.Tensor('float32', new Float32Array(16), [16]),
    w2: new ort.Tensor('float32', init(16, 0.25), [16, 1]),
    b2: new ort.Tensor('float32', new Float32Array(1), [1]),
  };
  const feeds = {
    x: new ort.Tensor('float32', xs, [64, 3]),
    y: new ort.Tensor('float32', ys, [64, 1]),
    lr: new ort.Tensor('float32', Float32Array.from([0.05]), []),
  };
  const losses: number[] = [];
  for (let step = 0; step < 300; step++) {
    const out = await session.run({ ...feeds, ...state });
    losses.push(Number(out.loss!.data[0]));
    state = { w1: out['w1.next']!, b1: out['b1.next']!, w2: out['w2.next']!, b2: out['b2.next']! };
  }
  await session.release();
  assert.ok(losses.at(-1)! < 0.25 * losses[0]!, `loss ${losses[0]} → ${losses.at(-1)}`);
  for (let i = 1; i < losses.length; i += 50) assert.ok(Number.isFinite(losses[i]));
});
