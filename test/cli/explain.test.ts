// Explanations and schema coverage on a real run: a planted anomaly is explained by the field that was
// planted, every score row carries its explanation, and events foreign to the spec are warned about.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { featureCoverage } from '../../src/detect/explain.ts';
import { loadEmbedder } from '../../src/embed/embedder.node.ts';
import { extractRaw } from '../../src/features/encode.ts';
import { scoreAgainstRun } from '../../src/run/scoring.node.ts';
import { cli, makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

let fx: RunFixture;

before(() => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-explain-' });
});
after(() => fx?.cleanup());

/** HTTP events of the run's own data with a duration: the ones to plant anomalies into. */
function httpEvents(): Record<string, unknown>[] {
  return fx.events
    .filter((e) => e.http_response !== undefined && typeof e.duration === 'number')
    .slice(0, 20);
}

test('a planted duration extreme and a never-seen method are named, with value and reason', async () => {
  const base = httpEvents();
  assert.ok(base.length >= 10);
  const slow = base.map((e) => ({ ...e, duration: 5_000_000 }));
  const odd = base.map((e) => ({
    ...e,
    http_request: { ...(e.http_request as object), http_method: 'BREW' },
  }));
  const { embedder } = await loadEmbedder(join(fx.runDir, 'model.onnx'));
  try {
    const s = await scoreAgainstRun(fx.runDir, embedder, [...slow, ...odd]);
    const n = base.length;
    const slowNamed = s.reasons.slice(0, n).filter((r) => r.some((x) => x.field === 'duration'));
    assert.ok(slowNamed.length >= n * 0.9, `duration named in ${slowNamed.length} of ${n}: ${s.why[0]}`);
    const first = s.reasons[0]!.find((x) => x.field === 'duration')!;
    assert.equal(first.value, '5,000,000');
    assert.match(first.reason, /^z \d+/);
    const oddNamed = s.reasons
      .slice(n)
      .filter((r) =>
        r.some(
          (x) =>
            x.field === 'http_request.http_method' &&
            x.value === 'BREW' &&
            x.reason === 'never seen in training',
        ),
      );
    assert.ok(oddNamed.length >= n * 0.9, `http_method named in ${oddNamed.length} of ${n}: ${s.why[n]}`);
    assert.match(s.why[0]!, /duration 5,000,000 \(z \d+/);
    assert.equal(s.coverage?.warning, null, 'events like the training data are not warned about');
  } finally {
    await embedder.release();
  }
});

test('score rows carry why and reasons; foreign events get a coverage warning and row-index uids', () => {
  const out = join(fx.dir, 'scores.jsonl');
  const slow = httpEvents().map((e) => JSON.stringify({ ...e, duration: 5_000_000 }));
  const queries = join(fx.dir, 'planted.jsonl');
  writeFileSync(queries, `${slow.join('\n')}\n`);
  const r = cli('score', queries, '--model', fx.runDir, '--out', out, '--device', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(rows.every((row) => typeof row.why === 'string' && Array.isArray(row.reasons)));
  assert.match(rows[0].why, /duration 5,000,000/);

  const foreign = join(fx.dir, 'foreign.jsonl');
  writeFileSync(
    foreign,
    `${Array.from({ length: 5 }, (_, i) => JSON.stringify({ host: `h${i}`, level: 'info', msg: 'hello' })).join('\n')}\n`,
  );
  const f = cli(
    'score',
    foreign,
    '--model',
    fx.runDir,
    '--out',
    join(fx.dir, 'foreign.jsonl.out.jsonl'),
    '--device',
    'cpu',
  );
  assert.equal(f.status, 0, f.stderr);
  assert.match(f.stderr, /warning: the events carry \d+ of \d+ features of the model's spec/);
  const foreignRows = readFileSync(join(fx.dir, 'foreign.jsonl.out.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    foreignRows.map((row) => row.uid),
    ['#1', '#2', '#3', '#4', '#5'],
  );
});

test('coverage counts the features a batch carries', async () => {
  const { embedder } = await loadEmbedder(join(fx.runDir, 'model.onnx'));
  try {
    const spec = embedder.spec;
    const own = featureCoverage(
      spec,
      fx.events.slice(0, 200).map((e) => extractRaw(spec, e)),
    );
    assert.equal(own.warning, null);
    assert.ok(own.present > own.total * 0.8, `${own.present} of ${own.total}`);
    const none = featureCoverage(spec, [extractRaw(spec, { foo: 1 })]);
    assert.match(none.warning!, /^the events carry \d of \d+ features/);
  } finally {
    await embedder.release();
  }
});
