// k-NN search and scores on ONNX Runtime against a brute-force TypeScript computation, on node and web.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from 'onnxruntime-common';
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';
import {
  GRAPH_TOPK_MAX,
  knnScore,
  knnSearch,
  knnSession,
  normalizeRows,
  selectTopK,
  topKScratch,
} from '../../src/detect/knn.ts';
import { mulberry32 } from '../../src/detect/random.ts';
import { DEFAULT_COMPONENTS, DEFAULT_K_FRACTION, fitScorer, score } from '../../src/detect/scorer.ts';
import { ecdfRank, sortedCopy } from '../../src/detect/threshold.ts';
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

/**
 * The search as it ran before the partial selection: one similarity matmul + ONNX Runtime TopK graph over
 * the whole reference, distances max(1 − similarity, 0), self left out afterwards.
 */
async function topKGraphSearch(
  ref: Float32Array,
  qs: Float32Array,
  dd: number,
  k: number,
  excludeSelf: boolean,
): Promise<{ distances: Float32Array; indices: Int32Array }> {
  const b = new Builder('knn-topk');
  const qi = b.input('queries', 'float32', ['q', 'd']);
  const ri = b.input('reference', 'float32', ['n', 'd']);
  const ki = b.input('k', 'int64', [1]);
  const [values, indices] = b.opMulti(
    'TopK',
    [op.gemm(qi, ri, null, { transB: 1 }), ki],
    { axis: -1, largest: 1, sorted: 1 },
    { outputs: 2 },
  );
  b.output(values!, 'values');
  b.output(indices!, 'indices');
  const session = await runtime.createSession(encodeModel(b));
  const n = ref.length / dd;
  const q = qs.length / dd;
  const kk = k + (excludeSelf ? 1 : 0);
  const out = await session.run({
    queries: new runtime.Tensor('float32', qs, [q, dd]),
    reference: new runtime.Tensor('float32', ref, [n, dd]),
    k: new runtime.Tensor('int64', BigInt64Array.of(BigInt(kk)), [1]),
  });
  await session.release?.();
  const sims = (out.values as Tensor).data as Float32Array;
  const idx = (out.indices as Tensor).data as BigInt64Array;
  const distances = new Float32Array(q * k);
  const picked = new Int32Array(q * k);
  for (let i = 0; i < q; i++) {
    let j = 0;
    for (let t = 0; t < kk && j < k; t++) {
      const r = Number(idx[i * kk + t]);
      if (excludeSelf && r === i) continue;
      distances[i * k + j] = Math.max(1 - sims[i * kk + t]!, 0);
      picked[i * k + j++] = r;
    }
  }
  return { distances, indices: picked };
}

describe('the partial top-k selection', () => {
  test('selectTopK equals a full sort (descending, ties by position, NaN last, -0 as 0)', () => {
    const random = mulberry32(5);
    const scratch = topKScratch();
    const rows: [string, Float32Array][] = [];
    for (const len of [1, 2, 7, 100, 1000, 9000, 20_000]) {
      // few distinct values, so that ties cross the k-th place
      const row = Float32Array.from({ length: len }, () => Math.round(random() * 8) / 8 - 0.5);
      if (len > 3) [row[2], row[3]] = [Number.NaN, -0];
      rows.push([`ties ${len}`, row]);
    }
    const spread = Float32Array.from({ length: 20_000 }, () => random() * 2 - 1);
    rows.push(['distinct', spread]);
    rows.push(['ascending', spread.slice().sort()]);
    // the largest values exactly where the strided sample looks: for large k too few pass the sampled
    // threshold, and the whole row is used
    rows.push([
      'sampled',
      Float32Array.from({ length: 16_384 }, (_, i) => (i % 16 === 0 ? 1 + i / 16_384 : -1)),
    ]);
    for (const [name, row] of rows) {
      const clean = (v: number) => (Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v);
      const want = [...row.keys()].sort((a, b) => clean(row[b]!) - clean(row[a]!) || a - b);
      for (const k of new Set([1, 20, Math.ceil(row.length / 30), Math.ceil(row.length / 3), row.length])) {
        if (k > row.length) continue;
        const values = new Float32Array(k);
        const indices = new Int32Array(k);
        selectTopK(row, row.length, k, values, indices, 0, scratch);
        assert.deepEqual([...indices], want.slice(0, k), `${name}, k ${k}`);
        assert.deepEqual(
          values,
          Float32Array.from(want.slice(0, k), (i) => row[i]!),
          `${name}, k ${k}: values`,
        );
      }
    }
  });

  test('the search is bit for bit the ONNX Runtime TopK graph at width 256, k in the hundreds', async () => {
    const dd = 256;
    const ref = normalizeRows(randomRows(1500, dd, 61), dd);
    const qs = normalizeRows(randomRows(300, dd, 62), dd);
    for (const [k, excludeSelf] of [
      [20, false],
      [450, false],
      [45, true],
    ] as const) {
      const queries = excludeSelf ? ref : qs;
      const want = await topKGraphSearch(ref, queries, dd, k, excludeSelf);
      for (const queryChunk of [1024, 37]) {
        const got = await knnSearch(
          ref,
          queries,
          dd,
          { k, excludeSelf, normalized: true, queryChunk },
          runtime,
        );
        assert.deepEqual(got.indices, want.indices, `indices, k ${k}, queryChunk ${queryChunk}`);
        assert.deepEqual(got.distances, want.distances, `distances, k ${k}, queryChunk ${queryChunk}`);
      }
    }
  });

  test("small k is picked by the graph's TopK exactly as selectTopK picks it, ties included", async () => {
    const dd = 32;
    // few distinct rows, so that many similarities tie across the k-th place
    const distinct = normalizeRows(randomRows(40, dd, 81), dd);
    const random = mulberry32(82);
    const n = 3000;
    const ref = new Float32Array(n * dd);
    for (let i = 0; i < n; i++) {
      const from = Math.floor(random() * 40);
      ref.set(distinct.subarray(from * dd, (from + 1) * dd), i * dd);
    }
    const qs = normalizeRows(randomRows(90, dd, 83), dd);
    qs.set(ref.subarray(0, 10 * dd)); // queries equal to reference rows: ties at similarity 1
    const q = qs.length / dd;
    const session = await knnSession(runtime);
    const out = await session.run({
      queries: new runtime.Tensor('float32', qs, [q, dd]),
      reference: new runtime.Tensor('float32', ref, [n, dd]),
    });
    const sims = (out.similarities as Tensor).data as Float32Array;
    for (const k of [1, 20, GRAPH_TOPK_MAX]) {
      assert.ok(k <= GRAPH_TOPK_MAX);
      const values = new Float32Array(q * k);
      const indices = new Int32Array(q * k);
      const scratch = topKScratch();
      for (let i = 0; i < q; i++) {
        selectTopK(sims.subarray(i * n, (i + 1) * n), n, k, values, indices, i * k, scratch);
      }
      for (const referenceChunk of [n, 700]) {
        const got = await knnSearch(ref, qs, dd, { k, normalized: true, referenceChunk }, runtime);
        assert.deepEqual(got.indices, indices, `k ${k}, referenceChunk ${referenceChunk}`);
        assert.deepEqual(
          got.distances,
          Float32Array.from(values, (v) => Math.max(1 - v, 0)),
          `k ${k}, referenceChunk ${referenceChunk}: distances`,
        );
      }
    }
  });

  test('a fitted default scorer scores exactly as from the TopK graph search', async () => {
    const dd = 256;
    const n = 1200;
    const q = 200;
    const ref = normalizeRows(randomRows(n, dd, 71), dd);
    const qs = normalizeRows(randomRows(q, dd, 72), dd);
    const scorer = await fitScorer(ref, dd, {}, runtime);
    const got = await score(scorer, ref, qs, dd, runtime);
    const ks = [20, Math.ceil(DEFAULT_K_FRACTION * n)];
    assert.deepEqual(
      scorer.components?.map((c) => [c.method, c.k]),
      DEFAULT_COMPONENTS.map((m, i) => [m, ks[i]]),
    );
    const kMax = Math.max(...ks);
    const onRef = await topKGraphSearch(ref, ref, dd, kMax, true);
    const onQueries = await topKGraphSearch(ref, qs, dd, kMax, false);
    const meanOfFirst = (distances: Float32Array, rows: number, k: number): Float32Array =>
      Float32Array.from({ length: rows }, (_, i) => {
        let s = 0;
        for (let j = 0; j < k; j++) s += distances[i * kMax + j]!;
        return s / k;
      });
    const expected = new Float32Array(q).fill(Number.NEGATIVE_INFINITY);
    ks.forEach((k, m) => {
      const referenceScores = meanOfFirst(onRef.distances, n, k);
      assert.deepEqual(scorer.components![m]!.referenceScores, referenceScores, `member ${m} reference`);
      const sorted = sortedCopy(referenceScores);
      const queryScores = meanOfFirst(onQueries.distances, q, k);
      for (let i = 0; i < q; i++) expected[i] = Math.max(expected[i]!, ecdfRank(sorted, queryScores[i]!));
    });
    assert.deepEqual(got.scores, expected);
    for (let i = 0; i < q; i++) {
      assert.deepEqual(
        [...got.neighbours.subarray(i * 3, i * 3 + 3)],
        [...onQueries.indices.subarray(i * kMax, i * kMax + 3)],
      );
    }
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
