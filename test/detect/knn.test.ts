// k-NN search and scores on ONNX Runtime against a brute-force TypeScript computation, on node and web.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { knnScore, knnSearch, normalizeRows } from '../../src/detect/knn.ts';
import { bruteKnn, randomRows, runtime } from './helpers.ts';

const d = 16;

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Indices must agree except where the brute-force distances tie within float32 rounding. */
function assertSameNeighbours(
  got: Int32Array,
  gotDist: Float32Array,
  want: { distances: number[][]; indices: number[][] },
  k: number,
): void {
  want.indices.forEach((row, i) => {
    row.forEach((idx, j) => {
      const g = got[i * k + j]!;
      if (g === idx) return;
      const wantDist = want.distances[i]![j]!;
      assert.ok(Math.abs(gotDist[i * k + j]! - wantDist) < 1e-6, `query ${i} neighbour ${j}: ${g} vs ${idx}`);
    });
  });
}

describe('knnSearch / knnScore on ONNX Runtime', () => {
  const reference = randomRows(300, d, 1);
  const queries = randomRows(70, d, 2);

  test('new queries: equals brute force', async () => {
    const k = 7;
    const got = await knnSearch(reference, queries, d, { k }, runtime);
    const want = bruteKnn(reference, queries, d, k);
    assert.equal(got.k, k);
    assertClose(got.distances, want.distances.flat(), 2e-6, 'distances');
    assertSameNeighbours(got.indices, got.distances, want, k);
  });

  test('chunks across queries and reference rows give the same neighbours', async () => {
    const k = 9;
    const whole = await knnSearch(reference, queries, d, { k }, runtime);
    for (const [queryChunk, referenceChunk] of [
      [16, 64],
      [1, 5],
      [70, 300],
      [33, 299],
    ] as const) {
      const got = await knnSearch(reference, queries, d, { k, queryChunk, referenceChunk }, runtime);
      assertClose(got.distances, whole.distances, 2e-6, `distances q${queryChunk} r${referenceChunk}`);
      assertSameNeighbours(got.indices, got.distances, bruteKnn(reference, queries, d, k), k);
    }
  });

  test('excludeSelf leaves each row out of its own neighbours (also when chunked)', async () => {
    const k = 5;
    const want = bruteKnn(reference, reference, d, k, (i) => i);
    for (const chunks of [{}, { queryChunk: 37, referenceChunk: 50 }]) {
      const got = await knnScore(reference, reference, d, { k, excludeSelf: true, ...chunks }, runtime);
      assertClose(got.scores, want.scores, 2e-6, 'scores');
      for (let i = 0; i < 300; i++) {
        for (let j = 0; j < got.explain; j++) assert.notEqual(got.neighbours[i * got.explain + j], i);
      }
      assertClose(
        got.kDistances,
        want.distances.map((r) => r[k - 1]!),
        2e-6,
        'k-distances',
      );
    }
  });

  test('selfIndex leaves out given rows for a subset of the reference', async () => {
    const rows = [3, 10, 299];
    const q = new Float32Array(rows.length * d);
    rows.forEach((r, i) => {
      q.set(reference.subarray(r * d, (r + 1) * d), i * d);
    });
    const got = await knnScore(reference, q, d, { k: 4, selfIndex: rows }, runtime);
    const want = bruteKnn(reference, q, d, 4, (i) => rows[i]!);
    assertClose(got.scores, want.scores, 2e-6, 'scores');
  });

  test('exact ties: duplicates list the lower index first, across chunk borders too', async () => {
    const dd = 4;
    const ref = new Float32Array(12 * dd);
    for (let i = 0; i < 12; i++) ref[i * dd + (i % 3)] = 1;
    const qs = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    for (const referenceChunk of [12, 5, 1]) {
      const got = await knnSearch(ref, qs, dd, { k: 5, referenceChunk }, runtime);
      assert.deepEqual([...got.indices.subarray(0, 5)], [0, 3, 6, 9, 1]);
      assert.deepEqual([...got.indices.subarray(5, 10)], [1, 4, 7, 10, 0]);
      assert.deepEqual([...got.distances.subarray(0, 5)], [0, 0, 0, 0, 1]);
      assert.deepEqual([...got.distances.subarray(10, 15)], [1, 1, 1, 1, 1]);
    }
    const self = await knnScore(ref, ref, dd, { k: 3, excludeSelf: true, referenceChunk: 4 }, runtime);
    assert.deepEqual([...self.scores], new Array(12).fill(0));
    for (let i = 0; i < 12; i++) assert.ok(![...self.neighbours.subarray(i * 3, i * 3 + 3)].includes(i));
    const many = await knnScore(ref, ref, dd, { k: 2, excludeSelf: true }, runtime);
    assert.deepEqual([...many.neighbours.subarray(9 * 2, 9 * 2 + 2)], [0, 3]);
  });

  test('k above the reference size is capped; explain follows it', async () => {
    const small = randomRows(4, d, 3);
    const got = await knnScore(small, small, d, { k: 20, excludeSelf: true, explain: 5 }, runtime);
    assert.equal(got.k, 3);
    assert.equal(got.explain, 3);
    assert.throws(() => normalizeRows(new Float32Array(5), 2), /whole number of rows/);
    await assert.rejects(
      knnScore(small.subarray(0, d), small.subarray(0, d), d, { k: 1, excludeSelf: true }, runtime),
      /at least 2/,
    );
  });
});

describe('the same search on onnxruntime-web (wasm)', () => {
  test('web scores and neighbours equal the node ones', async () => {
    const { webKnnRuntime } = await import('../../src/detect/knn.web.ts');
    const web = webKnnRuntime({ device: 'cpu' });
    const reference = randomRows(200, d, 41);
    const queries = randomRows(30, d, 42);
    const opts = { k: 6, referenceChunk: 64 };
    const a = await knnScore(reference, queries, d, opts, runtime);
    const b = await knnScore(reference, queries, d, opts, web);
    assertClose(b.scores, a.scores, 1e-6, 'scores');
    assert.deepEqual(b.neighbours, a.neighbours);
  });
});
