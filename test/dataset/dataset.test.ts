// Encoded datasets: Arrow IPC round trips, seed-stable splits and shuffled batches.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readDatasetFile, writeDatasetFile } from '../../src/dataset/dataset.node.ts';
import {
  datasetFromIPC,
  datasetToIPC,
  encodeDataset,
  gatherRows,
  permutation,
  shuffledBatches,
  splitTrainVal,
  subsetDataset,
} from '../../src/dataset/dataset.ts';
import {
  encodeRecord,
  fitSpec,
  numericalFeatureNames,
  numNumericalFeatures,
  rawCategorical,
} from '../../src/features/spec.ts';
import { ocsfLikeEvents } from '../fixtures/data/ocsf-like.ts';

const EVENTS = ocsfLikeEvents(600, 3);
const SPEC = fitSpec(EVENTS);

test('encodeDataset gives row-major float32/int32 matrices equal to per-record encoding', () => {
  const ds = encodeDataset(SPEC, EVENTS);
  assert.equal(ds.rows, EVENTS.length);
  assert.equal(ds.numNumerical, numNumericalFeatures(SPEC));
  assert.equal(ds.numCategorical, SPEC.categorical.length);
  assert.equal(ds.numerical.length, ds.rows * ds.numNumerical);
  const num = new Float32Array(ds.numNumerical);
  const cat = new Int32Array(ds.numCategorical);
  encodeRecord(SPEC, EVENTS[123]!, num, 0, cat, 0);
  assert.deepEqual(ds.numerical.subarray(123 * ds.numNumerical, 124 * ds.numNumerical), num);
  assert.deepEqual(ds.categorical.subarray(123 * ds.numCategorical, 124 * ds.numCategorical), cat);
  assert.equal(ds.uids?.[5], 'evt-3-5');
  const streamed = encodeDataset(
    SPEC,
    (function* () {
      yield* EVENTS;
    })(),
  );
  assert.deepEqual(streamed.numerical, ds.numerical);
  assert.deepEqual(streamed.categorical, ds.categorical);
});

test('Arrow IPC write/read round-trips the dataset with column names', () => {
  const ds = encodeDataset(SPEC, EVENTS);
  const back = datasetFromIPC(datasetToIPC(ds, { spec: SPEC }));
  assert.deepEqual(back.numerical, ds.numerical);
  assert.deepEqual(back.categorical, ds.categorical);
  assert.deepEqual(back.uids, ds.uids);
  assert.deepEqual(back.numericalNames, numericalFeatureNames(SPEC));
  assert.deepEqual(back.categoricalNames, rawCategorical(SPEC));
  const path = join(mkdtempSync(join(tmpdir(), 'ocsf-ds-')), 'sub', 'train.arrow');
  writeDatasetFile(path, ds, SPEC);
  const file = readDatasetFile(path);
  assert.equal(file.rows, ds.rows);
  assert.deepEqual(file.numerical, ds.numerical);
  const stream = datasetFromIPC(datasetToIPC(ds, { format: 'stream' }));
  assert.deepEqual(stream.categorical, ds.categorical);
  assert.deepEqual(stream.numericalNames[0], '0');
});

test('train/validation split is stable for a seed, disjoint and complete', () => {
  const a = splitTrainVal(1000, 0.2, 42);
  const b = splitTrainVal(1000, 0.2, 42);
  assert.deepEqual(a, b);
  assert.equal(a.val.length, 200);
  assert.equal(a.train.length, 800);
  const all = new Set([...a.train, ...a.val]);
  assert.equal(all.size, 1000);
  const c = splitTrainVal(1000, 0.2, 43);
  assert.notDeepEqual(c.val, a.val);
  const grown = splitTrainVal(1100, 0.2, 42);
  const kept = [...a.val].filter((i) => grown.val.includes(i)).length;
  assert.ok(kept > 150, `most validation rows stay when rows are appended (${kept})`);
  assert.equal(splitTrainVal(10, 0.01, 1).val.length, 1);
  assert.throws(() => splitTrainVal(10, 1, 1), /\[0, 1\)/);
});

test('shuffled batches are seeded permutations, reproducible per (seed, epoch)', () => {
  const p = permutation(1000, 7, 0);
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(permutation(1000, 7, 0), p);
  assert.notDeepEqual(permutation(1000, 7, 1), p);
  assert.notDeepEqual(permutation(1000, 8, 0), p);
  const batches = shuffledBatches(1000, 256, 7, 0);
  assert.deepEqual(
    batches.map((b) => b.length),
    [256, 256, 256, 232],
  );
  assert.deepEqual(Uint32Array.from(batches.flatMap((b) => [...b])), p);
  assert.equal(shuffledBatches(1000, 256, 7, 0, { dropLast: true }).length, 3);
  assert.equal(p[0], 0 === p[0] ? 0 : p[0]);
  const known = [...permutation(10, 1, 0)];
  assert.deepEqual(known, [...permutation(10, 1, 0)]);
});

test('gatherRows and subsetDataset copy the chosen rows', () => {
  const ds = encodeDataset(SPEC, EVENTS);
  const idx = [5, 0, 599];
  const g = gatherRows(ds, idx);
  const sub = subsetDataset(ds, idx);
  assert.deepEqual(sub.numerical, g.numerical);
  assert.deepEqual(sub.uids, ['evt-3-5', 'evt-3-0', 'evt-3-599']);
  assert.deepEqual(
    g.categorical.subarray(ds.numCategorical, 2 * ds.numCategorical),
    ds.categorical.subarray(0, ds.numCategorical),
  );
});
