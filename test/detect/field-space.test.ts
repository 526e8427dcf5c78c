// The field space: narrow categorical columns one-hot, wide ones as the standardised −log frequency of the
// value among the reference rows, the encoder's scaled numbers first; every vector unit length.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referenceFeatures } from '../../src/detect/explain.ts';
import {
  fitFieldSpace,
  ONE_HOT_MAX_IDS,
  queryVectors,
  referenceVectors,
} from '../../src/detect/field-space.ts';
import { numNumericalFeatures } from '../../src/features/encode.ts';
import { extractRaw, fitSpec } from '../../src/features/spec.ts';

test('field vectors: one-hot narrow columns, −log frequency for wide ones, unit length', () => {
  // `kind`: 3 values (one-hot); `user.name`: 60 values, one far more common than the others (−log frequency).
  const events = Array.from({ length: 400 }, (_, i) => ({
    kind: ['a', 'b', 'c'][i % 3],
    user: { name: i < 200 ? 'u0' : `u${i % 60}` },
    bytes: 100 + (i % 13),
  }));
  const spec = fitSpec(events);
  const space = fitFieldSpace(spec, referenceFeatures(spec, events));
  const kindColumn = spec.categorical.findIndex((c) => c.name === 'kind');
  const userColumn = spec.categorical.findIndex((c) => c.name === 'user.name');
  assert.ok(kindColumn >= 0 && userColumn >= 0, 'both columns are categorical');
  assert.equal(space.oneHotIds[kindColumn], spec.categorical[kindColumn]!.vocabulary.length + 3);
  const userIds = spec.categorical[userColumn]!.vocabulary.length + 3;
  assert.ok(userIds > ONE_HOT_MAX_IDS);
  assert.equal(space.oneHotIds[userColumn], 0);
  const widths = space.oneHotIds.reduce((a, k) => a + (k > 0 ? k : 1), 0);
  assert.equal(space.width, numNumericalFeatures(spec) + widths);

  const vectors = referenceVectors(spec, space, referenceFeatures(spec, events));
  for (let r = 0; r < events.length; r++) {
    let s = 0;
    for (let j = 0; j < space.width; j++) s += vectors[r * space.width + j]! ** 2;
    assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} has length² ${s}`);
  }
  // The same events as queries give the same vectors.
  const again = queryVectors(
    spec,
    space,
    events.map((e) => extractRaw(spec, e)),
  );
  assert.deepEqual(again, vectors);
  // Never-seen values of a wide column sit further out than the most common one.
  const before = space.oneHotIds.slice(0, userColumn).reduce((a, k) => a + (k > 0 ? k : 1), 0);
  const col = numNumericalFeatures(spec) + before;
  const q = queryVectors(spec, space, [
    extractRaw(spec, { kind: 'a', user: { name: 'u0' }, bytes: 105 }),
    extractRaw(spec, { kind: 'a', user: { name: 'nobody' }, bytes: 105 }),
  ]);
  const common = q[col]!;
  const unseen = q[space.width + col]!;
  assert.ok(common < 0 && unseen > 0, `common ${common}, unseen ${unseen}`);
});
