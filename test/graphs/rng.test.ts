// The in-graph counter RNG against its TypeScript reference, and its statistics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Builder } from '../../graphs/onnx/builder.ts';
import {
  bitsOf,
  keyOf,
  normalOf,
  randomBitsLike,
  randomNormalLike,
  randomUniformLike,
  streamKey,
  uniformOf,
} from '../../graphs/rng.ts';
import { ort, runOnce } from '../helpers/ort.ts';

function rngGraph() {
  const b = new Builder('rng');
  const seed = b.input('seed', 'int64', []);
  const step = b.input('step', 'int64', []);
  const like = b.input('like', 'float32', ['n']);
  const keyA = streamKey(seed, step, 0);
  const keyB = streamKey(seed, step, 1);
  b.output(keyA, 'key');
  b.output(randomBitsLike(keyA, like), 'bits');
  b.output(randomUniformLike(keyA, like), 'uniform');
  b.output(randomNormalLike(keyB, like), 'normal');
  return b;
}

async function run(seed: number, step: number, n: number) {
  return runOnce(rngGraph(), {
    seed: new ort.Tensor('int64', BigInt64Array.from([BigInt(seed)]), []),
    step: new ort.Tensor('int64', BigInt64Array.from([BigInt(step)]), []),
    like: new ort.Tensor('float32', new Float32Array(n), [n]),
  });
}

test('node and the TypeScript reference agree bit for bit (keys, bits, uniforms)', async () => {
  for (const [seed, step] of [
    [0, 0],
    [42, 7],
    [123456789, 99999],
  ] as const) {
    const out = await run(seed, step, 1000);
    const key = keyOf(seed, step, 0);
    assert.equal((out.key!.data as Uint32Array)[0], key);
    assert.deepEqual(Array.from(out.bits!.data as Uint32Array), Array.from(bitsOf(key, 1000)));
    assert.deepEqual(Array.from(out.uniform!.data as Float32Array), Array.from(uniformOf(key, 1000)));
    const ref = normalOf(keyOf(seed, step, 1), 1000);
    const got = out.normal!.data as Float32Array;
    // float32 log/cos in ONNX Runtime against float64 in JS: equal to float32 rounding.
    ref.forEach((r, i) => {
      assert.ok(Math.abs(got[i]! - r) <= 1e-5 * Math.max(1, Math.abs(r)), `normal ${i}: ${got[i]} vs ${r}`);
    });
  }
});

test('one million normals have mean 0 and variance 1 within 1e-2; uniforms cover [0, 1)', async () => {
  const n = 1_000_000;
  const out = await run(5, 3, n);
  const z = out.normal!.data as Float32Array;
  let sum = 0;
  let sq = 0;
  for (const v of z) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / n;
  const variance = sq / n - mean * mean;
  assert.ok(Math.abs(mean) < 1e-2, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 1e-2, `variance ${variance}`);
  const u = out.uniform!.data as Float32Array;
  let lo = 1;
  let hi = 0;
  let usum = 0;
  for (const v of u) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    usum += v;
  }
  assert.ok(lo >= 0 && hi < 1 && Math.abs(usum / n - 0.5) < 1e-2);
});

test('different seeds, steps and streams give different streams', async () => {
  const a = await run(1, 1, 64);
  const b = await run(2, 1, 64);
  const c = await run(1, 2, 64);
  const bits = (o: typeof a) => Array.from(o.bits!.data as Uint32Array);
  assert.notDeepEqual(bits(a), bits(b));
  assert.notDeepEqual(bits(a), bits(c));
  assert.notEqual(keyOf(1, 1, 0), keyOf(1, 1, 1));
  const same = bits(a).filter((v, i) => v === bits(b)[i]).length;
  assert.ok(same < 2);
});

test('Bernoulli masks from 16-bit halves match the reference and their rate', async () => {
  const { bernoulliLike, halfWordsOf } = await import('../../graphs/rng.ts');
  const b = new Builder('bern');
  const seed = b.input('seed', 'int64', []);
  const step = b.input('step', 'int64', []);
  const like = b.input('like', 'float32', [512, 256]);
  b.output(bernoulliLike(streamKey(seed, step, 4), like, 0.1), 'mask');
  const out = await runOnce(b, {
    seed: new ort.Tensor('int64', BigInt64Array.from([9n]), []),
    step: new ort.Tensor('int64', BigInt64Array.from([2n]), []),
    like: new ort.Tensor('float32', new Float32Array(512 * 256), [512, 256]),
  });
  const got = out.mask!.data as Uint8Array;
  const words = halfWordsOf(keyOf(9, 2, 4), 512 * 256);
  const threshold = Math.round(0.1 * 65536);
  let hits = 0;
  words.forEach((w, i) => {
    assert.equal(got[i], w < threshold ? 1 : 0);
    hits += got[i]!;
  });
  assert.ok(Math.abs(hits / words.length - 0.1) < 3e-3, `rate ${hits / words.length}`);
});

test('a pooled draw hands out the negated Bernoulli draws in order, across the halves, for p in [0, 1)', async () => {
  const { bernoulliPool, halfWordsOf } = await import('../../graphs/rng.ts');
  const count = 2 * 3 * 1000;
  // Takes of 1,200 + 2,400 + 2,400 draws: the second straddles the low and high halves (3,000 each).
  const shapes = [
    [12, 100],
    [24, 100],
    [2, 1200],
  ];
  for (const p of [0, 0.1, 0.5, 0.99999, 0.999995]) {
    const b = new Builder('pool');
    const seed = b.input('seed', 'int64', []);
    const step = b.input('step', 'int64', []);
    const pool = bernoulliPool(streamKey(seed, step, 7), count, p);
    shapes.forEach((shape, i) => {
      b.output(pool.take(shape), `kept${i}`);
    });
    const out = await runOnce(b, {
      seed: new ort.Tensor('int64', BigInt64Array.from([5n]), []),
      step: new ort.Tensor('int64', BigInt64Array.from([3n]), []),
    });
    const words = halfWordsOf(keyOf(5, 3, 7), count);
    const threshold = Math.round(p * 65536);
    let offset = 0;
    shapes.forEach((shape, i) => {
      const got = out[`kept${i}`]!;
      assert.deepEqual(got.dims, shape);
      (got.data as Uint8Array).forEach((kept, j) => {
        assert.equal(kept, words[offset + j]! < threshold ? 0 : 1, `p ${p}, draw ${offset + j}`);
      });
      offset += got.data.length;
    });
  }
  assert.throws(() => {
    const b = new Builder('short');
    const key = streamKey(b.input('seed', 'int64', []), b.input('step', 'int64', []), 0);
    bernoulliPool(key, 4, 0.1).take([6]);
  }, /not enough/);
});

test('keys picked from one vector hash equal each stream hashed on its own', async () => {
  const { streamKeys } = await import('../../graphs/rng.ts');
  const b = new Builder('keys');
  const seed = b.input('seed', 'int64', []);
  const step = b.input('step', 'int64', []);
  const key = streamKeys(seed, step, [10, 20, 50]);
  for (const stream of [50, 10, 20, 7]) b.output(key(stream), `key${stream}`);
  for (const [s, t] of [
    [0, 1],
    [12345, 987654],
  ] as const) {
    const out = await runOnce(b, {
      seed: new ort.Tensor('int64', BigInt64Array.from([BigInt(s)]), []),
      step: new ort.Tensor('int64', BigInt64Array.from([BigInt(t)]), []),
    });
    for (const stream of [50, 10, 20, 7]) {
      const got = out[`key${stream}`]!;
      assert.deepEqual(got.dims, []);
      assert.equal((got.data as Uint32Array)[0], keyOf(s, t, stream), `stream ${stream}`);
    }
  }
});
