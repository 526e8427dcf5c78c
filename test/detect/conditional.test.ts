// Conditional scoring: an event is scored against its own kind (its nearest reference events), so a
// numeric extreme counts even where the embedding does not show it, and a value its kind never holds
// outranks a rare-but-normal kind; scores stay finite and the fitted scorer round-trips through JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/data/generate/index.ts';
import { explainEvent, referenceFeatures } from '../../src/detect/explain.ts';
import { rocAuc } from '../../src/detect/metrics.ts';
import { mulberry32 } from '../../src/detect/random.ts';
import { CONTEXT, fitScorer, score, scorerFromJSON, scorerToJSON } from '../../src/detect/scorer.ts';
import { ecdfRank, sortedCopy } from '../../src/detect/threshold.ts';
import { numNumericalFeatures } from '../../src/features/encode.ts';
import { extractRaw, fitSpec } from '../../src/features/spec.ts';
import { runtime } from './helpers.ts';

/** Embeds an event by its endpoint alone (one-hot over the paths seen): the embedding knows the kind, nothing else. */
function endpointEmbedding(events: object[], paths: string[]): Float32Array {
  const d = paths.length + 1;
  const x = new Float32Array(events.length * d);
  events.forEach((e, i) => {
    const p = ((e as { http_request: { url: { path: string } } }).http_request.url.path ?? '').replace(
      /\d+/g,
      '',
    );
    const j = paths.indexOf(p);
    x[i * d + (j < 0 ? paths.length : j)] = 1;
    x[i * d + paths.length] += 0.01 * ((i * 7919) % 13);
  });
  return x;
}

test('conditional scoring finds numeric extremes relative to the kind; plain k-NN cannot', async () => {
  const { events } = generate({ events: 3000, seed: 2, profile: 'api', anomalyRate: 0 });
  const train = events.slice(0, 2000);
  const spec = fitSpec(train);
  const paths = [
    ...new Set(train.map((e) => (e.http_request as { url: { path: string } }).url.path.replace(/\d+/g, ''))),
  ];
  const d = paths.length + 1;
  const reference = endpointEmbedding(train, paths);
  const normal = events.slice(2000, 2400);
  const planted = events.slice(2400, 2440).map((e) => ({ ...e, duration: (e.duration ?? 10) * 60 }));
  const queries = [...normal, ...planted];
  const y = queries.map((_, i) => (i >= normal.length ? 1 : 0));
  const fields = { spec, reference: referenceFeatures(spec, train) };
  const conditional = await fitScorer(reference, d, { method: 'conditional' }, runtime, fields);
  const q = endpointEmbedding(queries, paths);
  const raws = queries.map((e) => extractRaw(spec, e));
  const s = await score(conditional, reference, q, d, runtime, { fields: { ...fields, queries: raws } });
  const knn = await fitScorer(reference, d, { method: 'knn' }, runtime);
  const plain = await score(knn, reference, q, d, runtime);
  const aucConditional = rocAuc(s.scores, y);
  const aucKnn = rocAuc(plain.scores, y);
  assert.ok(aucConditional > 0.95, `conditional ROC-AUC ${aucConditional}`);
  assert.ok(aucKnn < 0.7, `k-NN on an embedding without durations ROC-AUC ${aucKnn}`);
  assert.ok(s.scores.every(Number.isFinite));
  let flaggedNormal = 0;
  for (let i = 0; i < normal.length; i++) flaggedNormal += s.isAnomaly[i]!;
  assert.ok(flaggedNormal / normal.length < 0.12, `flags ${flaggedNormal} of ${normal.length} normal events`);

  const restored = scorerFromJSON(JSON.parse(JSON.stringify(scorerToJSON(conditional))));
  const again = await score(restored, reference, q, d, runtime, { fields: { ...fields, queries: raws } });
  assert.deepEqual(again.scores, s.scores);
  await assert.rejects(() => score(conditional, reference, q, d, runtime), /needs the events' fields/);
});

test("the field-space part finds combinations of common values that the embedding and the neighbours' fields miss", async () => {
  const { events } = generate({ events: 2600, seed: 4, profile: 'api', anomalyRate: 0 });
  const train = events.slice(0, 2000);
  const spec = fitSpec(train);
  // An embedding that knows nothing: every event near the same point.
  const d = 4;
  const embed = (rows: object[]) =>
    Float32Array.from({ length: rows.length * d }, (_, i) => 1 + 0.001 * ((i * 7919) % 17));
  const normal = events.slice(2000, 2400);
  // The method no longer matches the message: each value is common, the combination never occurs.
  const planted = events.slice(2400, 2440).map((e) => {
    const request = e.http_request as { http_method: string; url: object };
    const method = request.http_method === 'GET' ? 'POST' : 'GET';
    return { ...e, http_request: { ...request, http_method: method } };
  });
  const queries = [...normal, ...planted];
  const y = queries.map((_, i) => (i >= normal.length ? 1 : 0));
  const fields = { spec, reference: referenceFeatures(spec, train) };
  const reference = embed(train);
  const scorer = await fitScorer(reference, d, { method: 'conditional' }, runtime, fields);
  assert.ok(scorer.fieldSpace && scorer.fieldKnn?.length === train.length);
  const q = embed(queries);
  const withFields = { fields: { ...fields, queries: queries.map((e) => extractRaw(spec, e)) } };
  const s = await score(scorer, reference, q, d, runtime, withFields);
  const auc = rocAuc(s.scores, y);
  assert.ok(auc > 0.9, `conditional ROC-AUC ${auc}`);
  // Explained against its nearest events in field space, a planted event names the method.
  let named = 0;
  planted.forEach((e, j) => {
    const i = normal.length + j;
    const near = s.context.subarray(i * CONTEXT, (i + 1) * CONTEXT);
    const why = explainEvent(spec, extractRaw(spec, e), fields.reference, near);
    if (why.some((r) => r.field === 'http_request.http_method')) named++;
  });
  assert.ok(named >= 0.9 * planted.length, `${named} of ${planted.length} explanations name the method`);

  // A scorer saved before the field-space part still scores, with its two other parts only.
  const older = scorerFromJSON(JSON.parse(JSON.stringify(scorerToJSON(scorer))));
  delete older.fieldSpace;
  delete older.fieldKnn;
  const without = rocAuc((await score(older, reference, q, d, runtime, withFields)).scores, y);
  assert.ok(without < 0.75, `without the field-space part ROC-AUC ${without}`);
});

test('the reconstruction part ranks summed field surprise; a scorer fitted with it needs it to score', async () => {
  const { events } = generate({ events: 2400, seed: 6, profile: 'api', anomalyRate: 0 });
  const train = events.slice(0, 2000);
  const spec = fitSpec(train);
  const width = numNumericalFeatures(spec) + spec.categorical.length;
  const d = 4;
  const embed = (rows: object[]) =>
    Float32Array.from({ length: rows.length * d }, (_, i) => 1 + 0.001 * ((i * 7919) % 17));
  // Surprise as a reconstruction model gives it: small everywhere, a few fields of some events large.
  const random = mulberry32(3);
  const surprise = (rows: number, planted: (i: number) => boolean) =>
    Float32Array.from({ length: rows * width }, (_, k) =>
      planted(Math.floor(k / width)) && k % width === width - 1 ? 12 : 0.2 * random(),
    );
  const fields = {
    spec,
    reference: referenceFeatures(spec, train),
    reconstruction: { reference: surprise(train.length, () => false) },
  };
  const reference = embed(train);
  const scorer = await fitScorer(reference, d, { method: 'conditional' }, runtime, fields);
  assert.equal(scorer.reconstructionScale?.length, width);
  assert.equal(scorer.reconstructionScores?.length, train.length);

  const queries = events.slice(2000, 2400);
  const planted = (i: number) => i >= 360;
  const y = queries.map((_, i) => (planted(i) ? 1 : 0));
  const withFields = {
    fields: {
      ...fields,
      queries: queries.map((e) => extractRaw(spec, e)),
      reconstruction: { queries: surprise(queries.length, planted) },
    },
  };
  const q = embed(queries);
  const s = await score(scorer, reference, q, d, runtime, withFields);
  assert.ok(rocAuc(s.scores, y) > 0.99, `ROC-AUC ${rocAuc(s.scores, y)}`);
  for (let i = 360; i < 400; i++) assert.equal(s.isAnomaly[i], 1, `planted event ${i} flagged`);

  const restored = scorerFromJSON(JSON.parse(JSON.stringify(scorerToJSON(scorer))));
  assert.deepEqual((await score(restored, reference, q, d, runtime, withFields)).scores, s.scores);
  const noSurprise = { fields: { ...withFields.fields, reconstruction: undefined } };
  await assert.rejects(() => score(scorer, reference, q, d, runtime, noSurprise), /reconstruction model/);

  // The reference rows' own scores, computed here from the parts the scorer keeps: each part's tail
  // surprise −ln(1 − rank); `grouped` (the default) sums the field-space distance's and the mean of the two
  // surprise parts', `fisher` (scorers saved before) all three alike; the score is the sum's own rank.
  const ownRanks = (x: Float32Array) => {
    const sorted = sortedCopy(x);
    return Array.from(x, (v) => ecdfRank(sorted, v));
  };
  const tail = (r: number) => -Math.log(Math.max(1 - r, 1 / (2 * train.length))) + Math.max(r - 1, 0);
  const [fs, fk, rc] = [scorer.fieldSurprise!, scorer.fieldKnn!, scorer.reconstructionScores!].map(ownRanks);
  const expectOwn = (sum: (i: number) => number) => ownRanks(Float32Array.from(fs!, (_, i) => sum(i)));
  const grouped = expectOwn((i) => tail(fk![i]!) + (tail(fs![i]!) + tail(rc![i]!)) / 2);
  assert.equal(scorer.options.combine, 'grouped');
  for (const [i, v] of scorer.referenceScores.entries())
    assert.ok(Math.abs(v - grouped[i]!) < 1e-6, `row ${i}`);
  const alike = await fitScorer(reference, d, { method: 'conditional', combine: 'fisher' }, runtime, fields);
  const summed = expectOwn((i) => tail(fk![i]!) + tail(fs![i]!) + tail(rc![i]!));
  for (const [i, v] of alike.referenceScores.entries())
    assert.ok(Math.abs(v - summed[i]!) < 1e-6, `row ${i}`);
  const alikeScores = (await score(alike, reference, q, d, runtime, withFields)).scores;
  assert.notDeepEqual(alikeScores, s.scores, 'the two combinations differ');
});
