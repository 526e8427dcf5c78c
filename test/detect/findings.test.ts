// OCSF Detection Findings: the class, type and activity ids, severity from the score's rank among the
// reference scores, a stable uid per (model, event), and extra row fields (explanations) carried over.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildFinding, findingContext, severityOf } from '../../src/detect/findings.ts';
import { sortedCopy } from '../../src/detect/threshold.ts';

const MODEL = { id: '0123456789abcdef', version: '0.1.0', method: 'knn', run: 'first' };
const REFERENCE = Array.from({ length: 1000 }, (_, i) => i / 1000);
const ctx = findingContext(MODEL, REFERENCE);
const EVENT = { time: 1_700_000_000_000, class_uid: 3002, activity_id: 1, metadata: { uid: 'ev-1' } };

test('severity grows with the rank of the score among the reference scores', () => {
  const sorted = sortedCopy(REFERENCE);
  assert.equal(severityOf(0.96, sorted), 2);
  assert.equal(severityOf(0.995, sorted), 3);
  assert.equal(severityOf(1.2, sorted), 4);
  assert.equal(severityOf(1.6, sorted), 5);
});

test('a finding names its class, the event it is about, the model and the score', () => {
  const row = { uid: 'ev-1', score: 1.2, threshold: 0.95, nearest: ['r1', 'r2'], is_anomaly: true };
  const f = buildFinding(EVENT, row, ctx, 42);
  assert.equal(f.class_uid, 2004);
  assert.equal(f.category_uid, 2);
  assert.equal(f.activity_id, 1);
  assert.equal(f.type_uid, 200401);
  assert.equal(f.time, 42);
  assert.equal(f.severity_id, 4);
  assert.equal(f.severity, 'High');
  assert.equal(f.metadata.product.name, 'ocsf-embed');
  assert.equal(f.finding_info.uid, '0123456789abcdef:ev-1');
  assert.equal(f.finding_info.analytic.type_id, 4);
  assert.deepEqual(f.finding_info.related_events, [{ uid: 'ev-1', type_uid: 300201 }]);
  assert.equal(f.finding_info.first_seen_time, EVENT.time);
  assert.deepEqual(f.unmapped.nearest, ['r1', 'r2']);
  assert.equal(f.unmapped.score, 1.2);
  assert.equal(f.unmapped.is_anomaly, undefined);
});

test('the same event gives the same finding uid; an event without uid gets one from its content', () => {
  const row = { uid: null, score: 1, threshold: 0.95, nearest: [] };
  const a = buildFinding(EVENT, row, ctx, 1);
  const b = buildFinding({ ...EVENT }, row, ctx, 2);
  assert.equal(a.finding_info.uid, b.finding_info.uid);
  assert.match(a.finding_info.uid, /^0123456789abcdef:sha:[0-9a-f]{16}$/);
  const c = buildFinding({ ...EVENT, time: 1 }, row, ctx, 1);
  assert.notEqual(c.finding_info.uid, a.finding_info.uid);
});

test('fields a score row carries beyond the score (an explanation) are kept in the finding', () => {
  const explanation = [{ field: 'src_endpoint.ip', contribution: 0.7 }];
  const row = { uid: 'ev-1', score: 1, threshold: 0.95, nearest: [], explanation };
  const f = buildFinding(EVENT, row, ctx);
  assert.deepEqual(f.unmapped.explanation, explanation);
});
