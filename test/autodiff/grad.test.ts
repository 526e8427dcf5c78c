// Autodiff behaviour beyond single rules: nulls for integer inputs, stop-gradient, fan-out, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GradContext, grad } from '../../graphs/autodiff/grad.ts';
import { ruleFor } from '../../graphs/autodiff/rules/index.ts';
import { Builder, type Value } from '../../graphs/onnx/builder.ts';
import { attr } from '../../graphs/onnx/opdefs.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { ort, runOnce } from '../helpers/ort.ts';

function contextFor(y: Value): GradContext {
  const node = y.producer!;
  return {
    b: y.builder,
    node,
    I: (i) => node.inputs[i]!,
    O: (i) => node.outputs[i]!,
    GO: (i) => (i === 0 ? op.identity(node.outputs[0]!) : null),
    needs: () => true,
    attr: (name, fallback) => attr(node.attrs, name, fallback),
  };
}

test('rules return null for integer and boolean inputs', () => {
  const b = new Builder();
  const table = b.input('table', 'float32', [5, 3]);
  const idx = b.input('idx', 'int64', [4]);
  const cond = b.input('cond', 'bool', [4, 3]);
  const x = b.input('x', 'float32', [4, 3]);
  const gathered = op.gather(table, idx);
  assert.equal(ruleFor('Gather')!.vjp(contextFor(gathered))[1], null);
  const chosen = op.where(cond, gathered, x);
  assert.equal(ruleFor('Where')!.vjp(contextFor(chosen))[0], null);
  const casted = op.cast(idx, 'float32');
  assert.equal(ruleFor('Cast')!.vjp(contextFor(casted))[0], null);
  const summed = op.reduceSum(x, [1]);
  assert.equal(ruleFor('ReduceSum')!.vjp(contextFor(summed))[1], null);
  const reshaped = op.reshape(x, [12]);
  assert.equal(ruleFor('Reshape')!.vjp(contextFor(reshaped))[1], null);
});

test('fan-out gradients are summed, stop-gradient blocks, unused inputs get zeros', async () => {
  const b = new Builder();
  const x = b.input('x', 'float64', [3]);
  const z = b.input('z', 'float64', [3]);
  // y = Σ x·x + x·stop(x) → dy/dx = 2x + stop(x) = 3x
  const y = op.reduceSum(op.add(op.mul(x, x), op.mul(x, op.stopGradient(x))), undefined, false);
  const [gx, gz] = grad(y, [x, z]);
  b.output(gx!, 'gx');
  b.output(gz!, 'gz');
  const out = await runOnce(b, {
    x: new ort.Tensor('float64', Float64Array.from([1, -2, 0.5]), [3]),
    z: new ort.Tensor('float64', Float64Array.from([9, 9, 9]), [3]),
  });
  assert.deepEqual(Array.from(out.gx!.data as Float64Array), [3, -6, 1.5]);
  assert.deepEqual(Array.from(out.gz!.data as Float64Array), [0, 0, 0]);
});

test('a missing rule names the op and the node', () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [3]);
  const y = op.reduceSum(op.sin(x), undefined, false);
  assert.throws(() => grad(y, [x]), /no gradient rule for op Sin \(node Sin_\d+\)/);
});

test('grad of a non-scalar without a seed is refused', () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [3]);
  assert.throws(() => grad(op.mul(x, x), [x]), /not a scalar/);
});
