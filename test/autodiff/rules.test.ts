// Every gradient rule, checked against central differences on onnxruntime-node in float64.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RULES } from '../../graphs/autodiff/rules/index.ts';
import * as op from '../../graphs/onnx/ops.ts';
import { checkVjp, type VjpCase } from '../helpers/vjp.ts';

const P = { kind: 'positive' as const };

/** Cases per rule: several shapes, broadcasting where the op broadcasts. */
const CASES: Record<string, VjpCase[]> = {
  Identity: [{ name: 'identity', inputs: [{ shape: [3, 4] }], f: ([x]) => op.identity(op.mul(x!, x!)) }],
  Add: [
    { name: 'same', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], f: ([a, b]) => op.add(a!, b!) },
    { name: 'row', inputs: [{ shape: [3, 4] }, { shape: [4] }], f: ([a, b]) => op.add(a!, b!) },
    { name: 'col+lead', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }], f: ([a, b]) => op.add(a!, b!) },
    { name: 'scalar', inputs: [{ shape: [] }, { shape: [2, 5] }], f: ([a, b]) => op.add(a!, b!) },
  ],
  Sub: [
    { name: 'same', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], f: ([a, b]) => op.sub(a!, b!) },
    { name: 'broadcast', inputs: [{ shape: [1, 4] }, { shape: [3, 1] }], f: ([a, b]) => op.sub(a!, b!) },
  ],
  Mul: [
    { name: 'same', inputs: [{ shape: [3, 4] }, { shape: [3, 4] }], f: ([a, b]) => op.mul(a!, b!) },
    { name: 'broadcast', inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], f: ([a, b]) => op.mul(a!, b!) },
    { name: 'fan-out', inputs: [{ shape: [5] }], f: ([a]) => op.mul(op.mul(a!, a!), a!) },
  ],
  Div: [
    { name: 'same', inputs: [{ shape: [3, 4] }, { shape: [3, 4], ...P }], f: ([a, b]) => op.div(a!, b!) },
    {
      name: 'broadcast',
      inputs: [{ shape: [3, 4] }, { shape: [3, 1], ...P }],
      f: ([a, b]) => op.div(a!, b!),
    },
  ],
  Neg: [{ name: 'neg', inputs: [{ shape: [2, 3] }], f: ([x]) => op.neg(x!) }],
  Relu: [
    { name: 'relu', inputs: [{ shape: [4, 5] }], f: ([x]) => op.relu(x!) },
    { name: 'relu-3d', inputs: [{ shape: [2, 3, 4] }], f: ([x]) => op.relu(op.mul(x!, x!)) },
  ],
  Exp: [{ name: 'exp', inputs: [{ shape: [3, 4] }], f: ([x]) => op.exp(x!) }],
  Log: [{ name: 'log', inputs: [{ shape: [3, 4], ...P }], f: ([x]) => op.log(x!) }],
  Sqrt: [{ name: 'sqrt', inputs: [{ shape: [3, 4], ...P }], f: ([x]) => op.sqrt(x!) }],
  Reciprocal: [{ name: 'reciprocal', inputs: [{ shape: [3, 4], ...P }], f: ([x]) => op.reciprocal(x!) }],
  Pow: [
    { name: 'square', inputs: [{ shape: [3, 4] }], f: ([x]) => op.pow(x!, x!.builder.scalar('float64', 2)) },
    {
      name: 'frac',
      inputs: [{ shape: [5], ...P }],
      f: ([x]) => op.pow(x!, x!.builder.scalar('float64', -1.5)),
    },
  ],
  Sum: [
    {
      name: 'three',
      inputs: [{ shape: [3, 4] }, { shape: [4] }, { shape: [3, 1] }],
      f: ([a, b, c]) => a!.builder.op('Sum', [a!, b!, c!]),
    },
  ],
  MatMul: [
    { name: '2d', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], f: ([a, b]) => op.matMul(a!, b!) },
    { name: 'batched', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], f: ([a, b]) => op.matMul(a!, b!) },
    {
      name: 'both-batched',
      inputs: [{ shape: [2, 3, 4] }, { shape: [2, 4, 2] }],
      f: ([a, b]) => op.matMul(a!, b!),
    },
    { name: 'gram', inputs: [{ shape: [4, 3] }], f: ([a]) => op.matMul(a!, op.transpose(a!, [1, 0])) },
  ],
  Gemm: [
    {
      name: 'plain',
      inputs: [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }],
      f: ([a, b, c]) => op.gemm(a!, b!, c!),
    },
    {
      name: 'transB-alpha-beta',
      inputs: [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [3, 5] }],
      f: ([a, b, c]) => op.gemm(a!, b!, c!, { transB: 1, alpha: 0.7, beta: 1.3 }),
    },
    {
      name: 'transA-transB',
      inputs: [{ shape: [4, 3] }, { shape: [5, 4] }, { shape: [1, 5] }],
      f: ([a, b, c]) => op.gemm(a!, b!, c!, { transA: 1, transB: 1 }),
    },
    {
      name: 'transA',
      inputs: [{ shape: [4, 3] }, { shape: [4, 2] }],
      f: ([a, b]) => op.gemm(a!, b!, null, { transA: 1 }),
    },
  ],
  ReduceSum: [
    { name: 'axis1-keep', inputs: [{ shape: [3, 4] }], f: ([x]) => op.reduceSum(x!, [1], true) },
    { name: 'axis0-drop', inputs: [{ shape: [2, 3, 4] }], f: ([x]) => op.reduceSum(x!, [0, 2], false) },
    { name: 'all', inputs: [{ shape: [3, 4] }], f: ([x]) => op.reduceSum(x!, undefined, false) },
  ],
  ReduceMean: [
    { name: 'axis1', inputs: [{ shape: [3, 4] }], f: ([x]) => op.reduceMean(x!, [1], true) },
    {
      name: 'symbolic-batch',
      inputs: [{ shape: [3, 4], dims: ['B', 4] }],
      f: ([x]) => op.reduceMean(x!, [0], false),
    },
  ],
  ReduceMax: [
    { name: 'axis1', inputs: [{ shape: [3, 5] }], f: ([x]) => op.reduceMax(x!, [1], true) },
    { name: 'axis0-drop', inputs: [{ shape: [4, 3] }], f: ([x]) => op.reduceMax(x!, [0], false) },
  ],
  ReduceLogSumExp: [
    { name: 'axis1', inputs: [{ shape: [3, 5] }], f: ([x]) => op.reduce('ReduceLogSumExp', x!, [1], true) },
    {
      name: 'axis0-drop',
      inputs: [{ shape: [4, 3] }],
      f: ([x]) => op.reduce('ReduceLogSumExp', x!, [0], false),
    },
  ],
  Softmax: [
    { name: 'last', inputs: [{ shape: [3, 5] }], f: ([x]) => op.softmax(x!, -1) },
    { name: 'axis0', inputs: [{ shape: [4, 3] }], f: ([x]) => op.softmax(x!, 0) },
  ],
  LogSoftmax: [
    {
      name: 'last',
      inputs: [{ shape: [3, 5] }],
      f: ([x]) => x!.builder.op('LogSoftmax', [x!], { axis: -1 }),
    },
    {
      name: '3d',
      inputs: [{ shape: [2, 3, 4] }],
      f: ([x]) => x!.builder.op('LogSoftmax', [x!], { axis: 1 }),
    },
  ],
  Gather: [
    {
      name: 'embedding',
      inputs: [{ shape: [5, 3] }, { shape: [7], kind: 'int', max: 5 }],
      f: ([t, i]) => op.gather(t!, i!, 0),
    },
    {
      name: 'repeated-2d-indices',
      inputs: [{ shape: [4, 2] }, { shape: [3, 2], kind: 'int', values: [0, 0, 3, 1, 3, 3] }],
      f: ([t, i]) => op.gather(t!, i!, 0),
    },
  ],
  Concat: [
    { name: 'axis1', inputs: [{ shape: [3, 2] }, { shape: [3, 4] }], f: ([a, b]) => op.concat([a!, b!], 1) },
    {
      name: 'symbolic-axis0',
      inputs: [
        { shape: [3, 2], dims: ['B', 2] },
        { shape: [3, 2], dims: ['B', 2] },
      ],
      f: ([a, b]) => op.mul(op.concat([a!, b!], 0), op.concat([b!, a!], 0)),
    },
  ],
  Split: [
    { name: 'two', inputs: [{ shape: [5, 3] }], f: ([x]) => op.split(x!, [2, 3], 0) },
    { name: 'one-used', inputs: [{ shape: [3, 6] }], f: ([x]) => op.split(x!, [1, 2, 3], 1)[1]! },
  ],
  Reshape: [
    { name: 'flat', inputs: [{ shape: [3, 4] }], f: ([x]) => op.reshape(x!, [2, 6]) },
    { name: 'infer', inputs: [{ shape: [2, 3, 4] }], f: ([x]) => op.reshape(x!, [-1, 4]) },
  ],
  Transpose: [
    { name: '2d', inputs: [{ shape: [3, 4] }], f: ([x]) => op.transpose(x!) },
    { name: '3d', inputs: [{ shape: [2, 3, 4] }], f: ([x]) => op.transpose(x!, [1, 2, 0]) },
  ],
  Unsqueeze: [{ name: 'two-axes', inputs: [{ shape: [3, 4] }], f: ([x]) => op.unsqueeze(x!, [0, 2]) }],
  Squeeze: [{ name: 'middle', inputs: [{ shape: [3, 1, 4] }], f: ([x]) => op.squeeze(x!, [1]) }],
  Expand: [
    { name: 'row', inputs: [{ shape: [1, 4] }], f: ([x]) => op.expand(x!, [3, 4]) },
    { name: 'lead', inputs: [{ shape: [3, 1] }], f: ([x]) => op.expand(x!, [2, 3, 4]) },
  ],
  Max: [
    { name: 'broadcast', inputs: [{ shape: [3, 4] }, { shape: [4] }], f: ([a, b]) => op.max(a!, b!) },
    {
      name: 'scalar-floor',
      inputs: [{ shape: [5] }],
      f: ([a]) => op.max(a!, a!.builder.scalar('float64', 0.1)),
    },
  ],
  Where: [
    {
      name: 'broadcast',
      inputs: [{ shape: [3, 4], kind: 'bool' }, { shape: [3, 4] }, { shape: [4] }],
      f: ([c, x, y]) => op.where(c!, x!, y!),
    },
  ],
  Cast: [
    {
      name: 'f32-to-f64 (float32 inputs, tolerance 1e-4)',
      dtype: 'float32',
      tolerance: 1e-4,
      inputs: [{ shape: [3, 4] }],
      f: ([x]) => {
        const y = op.cast(x!, 'float64');
        return op.mul(y, y);
      },
    },
  ],
  LayerNormalization: [
    {
      name: 'last-axis',
      inputs: [{ shape: [4, 6] }, { shape: [6] }, { shape: [6] }],
      f: ([x, s, b]) => op.layerNormalization(x!, s!, b!, { axis: -1, epsilon: 1e-5 }).y,
    },
    {
      name: '3d-two-axes',
      inputs: [{ shape: [2, 3, 4] }, { shape: [3, 4] }, { shape: [3, 4] }],
      f: ([x, s, b]) => op.layerNormalization(x!, s!, b!, { axis: 1, epsilon: 1e-5 }).y,
    },
  ],
};

describe('gradient rules (float64, central differences)', () => {
  test('every registered rule has cases, and every case names a rule', () => {
    assert.deepEqual(Object.keys(CASES).sort(), RULES.map((r) => r.opType).sort());
  });

  for (const [opType, cases] of Object.entries(CASES)) {
    for (const c of cases) {
      test(`${opType}: ${c.name}`, async () => {
        const r = await checkVjp(c, 7);
        assert.ok(
          r.builder.nodes.some((n) => n.opType === opType),
          `the case does not use ${opType}`,
        );
        const scale = Math.max(1, Math.abs(r.analytic), Math.abs(r.numeric));
        assert.ok(
          Math.abs(r.analytic - r.numeric) <= (c.tolerance ?? 1e-6) * scale,
          `analytic ${r.analytic} vs numeric ${r.numeric} (rel ${Math.abs(r.analytic - r.numeric) / scale})`,
        );
      });
    }
  }
});
