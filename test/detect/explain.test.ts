// Explanations: the fields that make generated events unusual among chosen reference rows give, byte for
// byte, what the explainer gave before it counted neighbours row by row and wrote only the reported
// fields' text (digest recorded from that version); the field surprise and the reasons asked in turn (as
// scoring asks them) give what each gives alone.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { explainEvent, neighbourSurprise, referenceFeatures } from '../../src/detect/explain.ts';
import { extractRaw, fitSpec } from '../../src/features/spec.ts';

const GOLDEN = '3b28e7866709ececaa92e9af18a8fbe3890438d4d0e64274de6067c29e045e06';

test('explanations of 1,000 generated events match the previous explainer exactly', () => {
  const events = generate({ events: 4000, seed: 9 }).events as object[];
  const spec = fitSpec(events.slice(0, 3000));
  const reference = referenceFeatures(spec, events.slice(0, 3000));
  let seed = 3;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const h = createHash('sha256');
  const kinds = new Set<string>();
  for (const e of events.slice(3000)) {
    const near = Int32Array.from({ length: 20 }, (_, i) => (i === 7 ? -1 : Math.floor(rnd() * 3000)));
    const raw = extractRaw(spec, e);
    const wide = { maxFields: 8, minZ: 0.5, maxShare: 0.3 };
    for (const reasons of [
      explainEvent(spec, raw, reference, near),
      explainEvent(spec, raw, reference, near.subarray(0, 6), wide),
    ]) {
      h.update(JSON.stringify(reasons));
      for (const r of reasons) kinds.add(r.reason.replace(/[\d.,-]+/g, 'N'));
    }
  }
  for (const k of ['never among neighbours', 'N of N neighbours', 'z N', 'present in N of N neighbours']) {
    assert.ok(kinds.has(k), `no "${k}" reason among ${[...kinds].join('; ')}`);
  }
  assert.equal(h.digest('hex'), GOLDEN);
});

test('the field surprise and the reasons asked in turn equal each asked alone (shared work, same answers)', () => {
  const events = generate({ events: 1600, seed: 21 }).events as object[];
  const spec = fitSpec(events.slice(0, 1200));
  const reference = referenceFeatures(spec, events.slice(0, 1200));
  let seed = 5;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const fresh = (e: object) => extractRaw(spec, e);
  for (const e of events.slice(1200)) {
    const a = Int32Array.from({ length: 20 }, () => Math.floor(rnd() * 1200));
    const b = a.slice();
    b[19] = (b[19]! + 1) % 1200; // one neighbour differs
    const raw = extractRaw(spec, e);
    assert.equal(
      neighbourSurprise(spec, raw, reference, a, 1),
      neighbourSurprise(spec, fresh(e), reference, a, 1),
    );
    assert.deepEqual(explainEvent(spec, raw, reference, a), explainEvent(spec, fresh(e), reference, a));
    assert.deepEqual(explainEvent(spec, raw, reference, b), explainEvent(spec, fresh(e), reference, b));
    const wide = { maxFields: 8, minZ: 0.5, maxShare: 0.3 };
    assert.deepEqual(
      explainEvent(spec, raw, reference, b, wide),
      explainEvent(spec, fresh(e), reference, b, wide),
    );
    a.set(b); // the caller's array changed in place
    assert.deepEqual(explainEvent(spec, raw, reference, a), explainEvent(spec, fresh(e), reference, b));
    assert.equal(
      neighbourSurprise(spec, raw, reference, a, 3),
      neighbourSurprise(spec, fresh(e), reference, b, 3),
    );
  }
});
