// Explanations: the fields that make generated events unusual among chosen reference rows give, byte for
// byte, what the explainer gave before it counted neighbours row by row and wrote only the reported
// fields' text (digest recorded from that version).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { explainEvent, referenceFeatures } from '../../src/detect/explain.ts';
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
