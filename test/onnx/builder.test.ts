// The graph builder: determinism, scopes, constants, validation errors, ORT loading.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grad } from '../../graphs/autodiff/grad.ts';
import { Builder, MAX_NODE_TENSORS, narrowTree } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { validate } from '../../graphs/onnx/validate.ts';
import { ort, runOnce } from '../helpers/ort.ts';

function mlp(): Builder {
  const b = new Builder('mlp');
  const x = b.input('x', 'float32', ['batch', 4]);
  const w = b.scope('layer', () =>
    b.initializer(b.qualified('weight'), {
      dtype: 'float32',
      dims: [4, 2],
      data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
    }),
  );
  const h = op.relu(op.add(op.matMul(x, w), b.scalar('float32', 0.5)));
  const loss = op.reduceMean(op.mul(h, h), undefined, false);
  b.output(loss, 'loss');
  b.output(grad(loss, [w])[0]!, 'grad_w');
  b.metadata.set('note', 'x');
  return b;
}

test('the same graph built twice encodes to identical bytes', () => {
  assert.deepEqual(encodeModel(mlp()), encodeModel(mlp()));
});

test('scopes qualify parameter names and node names; constants are shared', () => {
  const b = mlp();
  assert.ok(b.initializers.some((i) => i.value.name === 'layer.weight'));
  assert.ok(b.nodes.some((n) => n.name.startsWith('grad/')));
  const x = b.scalar('float32', 0.5);
  assert.equal(x, b.scalar('float32', 0.5));
  assert.notEqual(x, b.scalar('float64', 0.5));
  assert.throws(() => b.input('layer.weight', 'float32', [1]), /already used/);
});

test('the encoded graph loads and runs in onnxruntime-node', async () => {
  const out = await runOnce(mlp(), { x: new ort.Tensor('float32', new Float32Array(8).fill(0.1), [2, 4]) });
  assert.equal(out.loss!.dims.length, 0);
  assert.deepEqual(out.grad_w!.dims, [4, 2]);
});

/** 20 inputs concatenated, doubled and split again, with a gradient through the Concat: the outputs checked. */
async function checkWideGraph(b: Builder): Promise<void> {
  const xs = Array.from({ length: 20 }, (_, i) => b.input(`x${i}`, 'float32', [2, i + 1]));
  const joined = op.concat(xs, 1);
  const sizes = xs.map((_, i) => i + 1);
  const parts = op.split(op.mul(joined, b.scalar('float32', 2)), sizes, 1);
  parts.forEach((p, i) => {
    assert.deepEqual(p.shape, [2, i + 1]);
    b.output(p, `y${i}`);
  });
  b.output(grad(op.reduceSum(op.mul(joined, joined), undefined, false), [xs[7]!])[0]!, 'g7');
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  xs.forEach((_, i) => {
    feeds[`x${i}`] = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * (i + 1) }, (_, k) => i * 100 + k),
      [2, i + 1],
    );
  });
  const out = await runOnce(b, feeds);
  xs.forEach((_, i) => {
    const x = feeds[`x${i}`]!.data as Float32Array;
    assert.deepEqual(
      [...(out[`y${i}`]!.data as Float32Array)],
      [...x].map((v) => 2 * v),
      `y${i}`,
    );
  });
  assert.deepEqual(
    [...(out.g7!.data as Float32Array)],
    [...(feeds.x7!.data as Float32Array)].map((v) => 2 * v),
  );
}

const joinsAndSplits = (b: Builder) => b.nodes.filter((n) => n.opType === 'Concat' || n.opType === 'Split');

test('wide Concat and Split nodes become trees that bind at most MAX_NODE_TENSORS tensors each', async () => {
  const b = new Builder('wide');
  await checkWideGraph(b);
  for (const n of joinsAndSplits(b)) {
    const tensors = n.inputs.filter((v) => v && !v.constant).length + n.outputs.length;
    assert.ok(tensors <= MAX_NODE_TENSORS, `${n.name} binds ${tensors} tensors`);
  }
});

test('without the limit, a wide Concat and Split are one node each, with the same values', async () => {
  const b = new Builder('wide', Number.POSITIVE_INFINITY);
  await checkWideGraph(b);
  // The forward Concat, the Split, and the Concat's gradient (a Split).
  assert.deepEqual(
    joinsAndSplits(b).map((n) => n.opType),
    ['Concat', 'Split', 'Split'],
  );
});

test('the tree of a wide Concat copies large parts fewest times: they stay near the top', () => {
  type Tree = number | Tree[];
  const depths = (trees: Tree[], depth = 1, out = new Map<number, number>()) => {
    for (const t of trees) {
      if (typeof t === 'number') out.set(t, depth);
      else {
        assert.ok(t.length >= 2 && t.length <= 7, `a node of ${t.length} parts`);
        depths(t, depth + 1, out);
      }
    }
    return out;
  };
  // Twelve large parts, each followed by three small ones (a model's weights and biases).
  const sizes = Array.from({ length: 12 }, () => [1000, 1, 1, 1]).flat();
  const top = narrowTree(sizes, 7);
  assert.ok(top.length <= 7);
  const d = depths(top);
  assert.deepEqual(
    [...d.keys()].sort((a, b) => a - b),
    sizes.map((_, i) => i),
  );
  // The small parts go three levels down so that no large part is copied more than twice.
  sizes.forEach((size, i) => {
    if (size === 1000) assert.ok(d.get(i)! <= 2, `part ${i} at depth ${d.get(i)}`);
  });
  assert.ok(Math.max(...d.values()) === 3);
});

test('validate() rejects an undefined value, naming the node', () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [2]);
  const other = new Builder();
  const ghost = other.input('ghost', 'float32', [2]);
  b.rawNode('Add', [x, ghost], [{ name: 'y', dtype: 'float32', shape: [2] }]);
  assert.throws(() => validate(b), /node Add_0 \(Add\): input 1 "ghost" is used before it is defined/);
});

test('validate() rejects a dtype mismatch, naming the node', () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [2]);
  const y = b.input('y', 'float64', [2]);
  b.rawNode('Mul', [x, y], [{ name: 'z', dtype: 'float32', shape: [2] }]);
  assert.throws(() => validate(b), /node Mul_0 \(Mul\): input dtypes differ/);
  const c = new Builder();
  const a = c.input('a', 'float32', [2]);
  c.rawNode('Relu', [a], [{ name: 'r', dtype: 'float64', shape: [2] }]);
  assert.throws(
    () => validate(c),
    /node Relu_0 \(Relu\): output 0 "r" is float64 but its inputs make it float32/,
  );
});

test('validate() rejects an unknown op, naming the node', () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [2]);
  b.rawNode('FancyOp', [x], [{ name: 'y', dtype: 'float32', shape: [2] }]);
  assert.throws(() => validate(b), /node FancyOp_0 \(FancyOp\): unknown op "FancyOp"/);
  assert.throws(() => b.op('FancyOp', [x]), /unknown op "FancyOp"/);
});

test('attribute types are fixed per op: whole-number floats stay FLOAT', async () => {
  const b = new Builder();
  const x = b.input('x', 'float32', [2, 3]);
  const s = b.initializer('s', { dtype: 'float32', dims: [3], data: new Float32Array([1, 1, 1]) });
  b.output(op.layerNormalization(x, s, null, { axis: -1, epsilon: 1 }).y, 'y');
  const out = await runOnce(b, {
    x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
  });
  // (x − μ)/√(σ² + 1) with σ² = 2/3
  const expected = -1 / Math.sqrt(2 / 3 + 1);
  assert.ok(Math.abs((out.y!.data as Float32Array)[0]! - expected) < 1e-6);
});
