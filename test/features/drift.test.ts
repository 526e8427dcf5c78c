// Drift guards of the feature spec: time features need a fit window that covers their cycle, and values
// that move with the clock (counters, growing ids) are dropped, each with its reason in the spec table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { fitSpec, specTable } from '../../src/features/spec.ts';

const names = (spec: ReturnType<typeof fitSpec>) =>
  new Set([...spec.categorical, ...spec.numerical].map((f) => f.name));
const reasons = (spec: ReturnType<typeof fitSpec>) => new Map(spec.dropped.map((d) => [d.name, d.reason]));

test('time features are dropped on a 2-hour window, with the reason in the spec table', () => {
  const { events } = generate({ events: 3000, seed: 5, hours: 2 });
  const spec = fitSpec(events);
  const kept = names(spec);
  for (const part of [
    'hour',
    'hour_sin',
    'hour_cos',
    'is_business_hours',
    'day_of_week',
    'dow_sin',
    'is_weekend',
  ]) {
    assert.equal(kept.has(`time:${part}`), false, `time:${part} dropped`);
  }
  assert.match(reasons(spec).get('time:hour')!, /covers 2 of the 24 hours of the day/);
  assert.match(reasons(spec).get('time:day_of_week')!, /covers 1 of the 7 days of the week/);
  assert.match(specTable(spec), /time:hour_sin\s+time window too short/);
});

test('daily time features are kept on a 2-day window, weekly ones still dropped', () => {
  const { events } = generate({ events: 6000, seed: 5, hours: 48 });
  const spec = fitSpec(events);
  const kept = names(spec);
  for (const part of ['hour', 'hour_sin', 'hour_cos', 'is_business_hours']) {
    assert.ok(kept.has(`time:${part}`), `time:${part} kept`);
  }
  assert.equal(kept.has('time:dow_sin'), false);
  assert.match(reasons(spec).get('time:dow_sin')!, /covers 2 of the 7 days/);
});

test('every time feature is kept on a week, and a named time feature is never dropped', () => {
  const { events } = generate({ events: 6000, seed: 5, hours: 24 * 7 });
  assert.ok(names(fitSpec(events)).has('time:dow_cos'));
  const short = generate({ events: 500, seed: 5, hours: 1 }).events;
  const spec = fitSpec(short, { columns: { 'time:hour': { type: 'categorical' } } });
  assert.ok(names(spec).has('time:hour'), 'what the user names stays');
});

test('counters and growing ids are dropped; values unrelated to the clock are kept', () => {
  const t0 = Date.parse('2026-01-05T00:00:00Z');
  const records = Array.from({ length: 2000 }, (_, i) => ({
    time: t0 + i * 1000,
    metadata: { sequence: 100_000 + i },
    count: 5000 + 3 * i + (i % 7),
    session: { uid: String(9_000_000 + Math.floor(i / 3)) },
    duration: 100 + ((i * 7919) % 500),
    status: i % 5 === 0 ? 'error' : 'ok',
  }));
  const spec = fitSpec(records);
  const why = reasons(spec);
  assert.ok(why.has('metadata.sequence'), 'one value per row: dropped as an id');
  for (const path of ['count', 'session.uid']) {
    assert.match(why.get(path) ?? '', /moves with the clock/, path);
  }
  assert.ok(names(spec).has('duration'));
  assert.ok(names(spec).has('status'));
});
