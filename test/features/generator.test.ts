// The feature spec fitted on the synthetic generator's events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { encodeDataset } from '../../src/dataset/dataset.ts';
import { CORE_NUMERIC_PATHS } from '../../src/dataset/load.node.ts';
import { numericChecker } from '../../src/features/encode.ts';
import { fitSpec, MISSING_ID, rawCategorical, UNKNOWN_ID } from '../../src/features/spec.ts';

test('a spec fitted on the synthetic generator output has the expected OCSF columns', () => {
  const { events } = generate({ events: 4000, seed: 3 });
  const check = numericChecker(CORE_NUMERIC_PATHS);
  assert.equal(events.filter((e) => check(e) !== null).length, 0, 'generated events pass the load checks');
  const spec = fitSpec(events.slice(0, 3000));
  const cat = new Map(spec.categorical.map((c) => [c.name, c]));
  for (const name of ['class_uid', 'activity_id', 'severity_id', 'status_id', 'type_uid']) {
    assert.equal(cat.get(name)?.source.kind, 'value', name);
  }
  assert.equal(cat.get('message')?.source.kind, 'template');
  const path = cat.get('http_request.url.path');
  assert.equal(path?.source.kind, 'url');
  assert.ok(path!.stats.distinct < 100, `URL templates generalise (${path!.stats.distinct} distinct)`);
  assert.ok(cat.get('message')!.stats.distinct < 400, 'message templates generalise');
  assert.ok(
    spec.dropped.some((d) => d.name === 'time:hour_sin' && /covers \d+ of the 24 hours/.test(d.reason)),
    'the first 3000 of a day of events do not cover every hour: daily time features are dropped',
  );
  assert.ok(spec.dropped.some((d) => d.name === 'metadata.uid'));

  const held = encodeDataset(spec, events.slice(3000));
  assert.ok(held.numerical.every(Number.isFinite));
  const j = rawCategorical(spec).indexOf('class_uid');
  for (let r = 0; r < held.rows; r++) {
    const id = held.categorical[r * held.numCategorical + j]!;
    assert.ok(id !== MISSING_ID && id !== UNKNOWN_ID);
  }
  assert.equal(held.uids?.length, 1000);
});
