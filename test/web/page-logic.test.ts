// The page's portable parts under Node: PCA by power iteration, event fields and uids, table sorting, and
// analyze() (parse → embed → score → project) on onnxruntime-node, checked against the library's scorer.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolvePath, serveWeb, WEB_PORT } from '../../scripts/serve-web.ts';
import { SERVE_PORT } from '../../src/cli/commands/serve.ts';
import { referenceFeatures } from '../../src/detect/explain.ts';
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { fitScorer } from '../../src/detect/scorer.ts';
import { type Embedder, loadEmbedder, loadReconstructor } from '../../src/embed/embedder.node.ts';
import { eventUids } from '../../src/run/scoring.ts';
import { analyze, PageError } from '../../web/analyze.ts';
import { fieldReader } from '../../web/fields.ts';
import { fitPca2, project } from '../../web/pca.ts';
import { extent, rampColour } from '../../web/plot.ts';
import { nextSort, sortRows, type TableRow, topRows } from '../../web/table.ts';
import { randn, rng } from '../helpers/ort.ts';
import { makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

describe('fitPca2', () => {
  test('finds the axes of an elongated cloud, largest variance first, signed and deterministic', () => {
    const random = rng(5);
    const n = 2000;
    const d = 4;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const [a, b, c, e] = randn(4, random);
      x[i * d] = 3 * a! + 10;
      x[i * d + 1] = -2 * b! * Math.SQRT1_2 + 0.1 * c!;
      x[i * d + 2] = 2 * b! * Math.SQRT1_2;
      x[i * d + 3] = 0.1 * e! - 5;
    }
    const pca = fitPca2(x, n, d);
    const [u, v] = [Array.from(pca.axes.subarray(0, d)), Array.from(pca.axes.subarray(d))];
    assert.ok(Math.abs(u[0]! - 1) < 0.01, `first axis ${u}`);
    assert.ok(
      Math.abs(Math.abs(v[1]!) - Math.SQRT1_2) < 0.02 && Math.abs(Math.abs(v[2]!) - Math.SQRT1_2) < 0.02,
    );
    for (const axis of [u, v]) {
      const largest = axis.reduce((best, c) => (Math.abs(c) > Math.abs(best) ? c : best), 0);
      assert.ok(largest > 0, `signed so that the largest component is positive: ${axis}`);
    }
    assert.ok(
      Math.abs(pca.variances[0] - 9) < 0.8 && Math.abs(pca.variances[1] - 4) < 0.4,
      `${pca.variances}`,
    );
    assert.ok(pca.totalVariance > pca.variances[0] + pca.variances[1]);
    assert.deepEqual(fitPca2(x, n, d), pca);
    const p = project(pca, x, n);
    assert.equal(p.length, 2 * n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += p[i * 2]!;
    assert.ok(Math.abs(mean / n) < 1e-4, 'projections are centred');
  });

  test('handles constant rows and a width of one', () => {
    const pca = fitPca2(new Float32Array(12).fill(2), 4, 3);
    assert.deepEqual(Array.from(project(pca, new Float32Array(3).fill(2), 1)), [0, 0]);
    const one = fitPca2(Float32Array.of(1, 2, 3), 3, 1);
    assert.deepEqual(Array.from(one.axes), [1, 0]);
  });
});

describe('fields and table', () => {
  const records = [
    {
      class_name: 'HTTP Activity',
      time: 1767571242908,
      actor: { user: { name: 'ana' } },
      metadata: { uid: 'u1' },
    },
    { class_name: 'Process Activity', 'user.name': 'bob', 'metadata.uid': 'u2', message: 'x'.repeat(200) },
    { class_uid: 3002, time: '1767571242', metadata: {} },
  ];

  test('uids come from the spec path, else the row number; fields take the first present path', () => {
    assert.deepEqual(eventUids(records, 'metadata.uid'), ['u1', 'u2', '#3']);
    assert.deepEqual(eventUids(records, null), ['#1', '#2', '#3']);
    const read = fieldReader();
    assert.equal(read(records[0]!).time, '2026-01-05 00:00:42Z');
    assert.equal(read(records[0]!).user, 'ana');
    assert.equal(read(records[1]!).user, 'bob');
    assert.equal(read(records[2]!).class, '3002');
    assert.equal(read(records[2]!).time, '2026-01-05 00:00:42Z', 'seconds are read as seconds');
  });

  test('topRows ranks by score; sortRows sorts any column both ways, stably', () => {
    const rows = topRows(records, ['u1', 'u2', 'u3'], [0.2, 0.9, 0.2], [0, 1, 0], 10);
    assert.deepEqual(
      rows.map((r) => [r.rank, r.uid, r.anomaly]),
      [
        [1, 'u2', true],
        [2, 'u1', false],
        [3, 'u3', false],
      ],
    );
    const by = (key: string, descending: boolean) =>
      sortRows(rows, { key, descending }).map((r: TableRow) => r.uid);
    assert.deepEqual(by('uid', true), ['u3', 'u2', 'u1']);
    assert.deepEqual(by('score', false), ['u1', 'u3', 'u2']);
    assert.deepEqual(by('class', false), ['u3', 'u1', 'u2']);
    assert.deepEqual(nextSort({ key: 'score', descending: true }, 'score'), {
      key: 'score',
      descending: false,
    });
    assert.deepEqual(nextSort({ key: 'score', descending: true }, 'uid'), { key: 'uid', descending: false });
    assert.deepEqual(nextSort({ key: 'uid', descending: false }, 'score'), {
      key: 'score',
      descending: true,
    });
    assert.throws(() => sortRows(rows, { key: 'nope', descending: false }), /no column 'nope'/);
  });

  test('the colour ramp and extents', () => {
    assert.equal(rampColour(0), 'rgb(49, 54, 149)');
    assert.equal(rampColour(1), 'rgb(165, 0, 38)');
    assert.equal(rampColour(Number.NaN), rampColour(0));
    assert.deepEqual(extent([3, Number.NaN, -1, 2]), [-1, 3]);
    assert.deepEqual(extent([]), [0, 1]);
  });
});

describe('analyze', () => {
  let run: RunFixture;
  let embedder: Embedder;
  let eventsText: Uint8Array;
  const knn = nodeKnnRuntime({ device: 'cpu' });
  const bytes = (name: string) => ({ name, bytes: readFileSync(join(run.runDir, name)) });

  before(async () => {
    run = makeRunFixture({ prefix: 'ocsf-embed-run-', events: 600, seed: 4, batchSize: 128 });
    embedder = (await loadEmbedder(join(run.runDir, 'model.onnx'), { device: 'cpu' })).embedder;
    const lines = run.events.slice(0, 200).map((e) => JSON.stringify(e));
    eventsText = new TextEncoder().encode(`${lines.join('\n')}\nnot json\n`);
  });
  after(async () => {
    await embedder?.release();
    if (run) rmSync(run.dir, { recursive: true, force: true });
  });

  test('without a reference it scores the file against itself, self excluded, like fitScorer', async () => {
    const stages: string[] = [];
    const a = await analyze(embedder, { events: { name: 'e.jsonl', bytes: eventsText } }, knn, (s) => {
      stages.push(s);
    });
    assert.deepEqual(stages, ['parse', 'embed', 'score', 'project']);
    assert.equal(a.records.length, 200);
    assert.equal(a.rejects.length, 1);
    assert.equal(a.rejects[0]!.line, 201);
    assert.equal(a.mode, 'self');
    assert.equal(a.uids[0], (run.events[0] as { metadata: { uid: string } }).metadata.uid);
    const emb = await embedder.embed(a.records, { normalized: true });
    const spec = embedder.spec;
    const fitted = await fitScorer(emb, embedder.dimension, {}, knn, {
      spec,
      reference: referenceFeatures(spec, a.records),
    });
    assert.equal(fitted.method, 'conditional');
    assert.deepEqual(Array.from(a.scores), Array.from(fitted.referenceScores));
    assert.equal(a.threshold, fitted.threshold);
    assert.equal(
      a.isAnomaly.reduce((s, v) => s + v, 0),
      a.scores.filter((s) => s > a.threshold).length,
    );
    assert.equal(a.points.length, 400);
    assert.equal(a.referencePoints.length, 0);
  });

  test("with the run's reference, scorer and reconstruction it scores against them and projects the reference too", async () => {
    const files = {
      events: { name: 'e.jsonl', bytes: eventsText },
      reference: bytes('reference.safetensors'),
      scorer: bytes('scorer.json'),
    };
    await assert.rejects(analyze(embedder, files, knn), /choose the run's reconstruction\.onnx too/);
    const reconstructor = await loadReconstructor(join(run.runDir, 'reconstruction.onnx'));
    const a = await analyze(embedder, { ...files, reconstructor }, knn);
    await reconstructor.release();
    assert.equal(a.mode, 'run');
    assert.equal(a.referenceRows, 540);
    assert.equal(a.referencePoints.length, 2 * 540);
    assert.equal(a.method, 'conditional');
    assert.equal(a.why.length, a.records.length);
    assert.ok(
      a.why.some((w) => w.length > 0),
      'some events are explained',
    );
    assert.equal(a.coverage.warning, null);
  });

  test('says what to do when files are missing, swapped or from another run', async () => {
    const events = { name: 'e.jsonl', bytes: eventsText };
    await assert.rejects(analyze(embedder, { events, scorer: bytes('scorer.json') }, knn), (e: unknown) => {
      assert.ok(e instanceof PageError);
      assert.match(e.message, /choose both reference\.safetensors and scorer\.json/);
      return true;
    });
    await assert.rejects(
      analyze(
        embedder,
        { events, reference: bytes('scorer.json'), scorer: bytes('reference.safetensors') },
        knn,
      ),
      /scorer\.json is not a safetensors file .*give the run's reference\.safetensors/,
    );
    await assert.rejects(
      analyze(embedder, { events: { name: 'e.csv', bytes: eventsText } }, knn),
      /unsupported file type \.csv/,
    );
    await assert.rejects(
      analyze(embedder, { events: { name: 'e.jsonl', bytes: new TextEncoder().encode('{}\n') } }, knn),
      /has 1 readable event: scoring needs at least 2/,
    );
  });
});

describe('serve-web', () => {
  test('maps request paths inside the root only', () => {
    assert.equal(resolvePath('/srv/web', '/'), '/srv/web/index.html');
    assert.equal(resolvePath('/srv/web', '/dist/main.js'), '/srv/web/dist/main.js');
    assert.equal(resolvePath('/srv/web', '/a%20b.txt'), '/srv/web/a b.txt');
    assert.equal(resolvePath('/srv/web', '/../etc/passwd'), null);
    assert.equal(resolvePath('/srv/web', '/%2e%2e/etc/passwd'), null);
    assert.equal(resolvePath('/srv/web', '/..%2fweb2/x'), null);
    assert.equal(resolvePath('/srv/web', '/%E0%A4%A'), null);
  });

  test('serves files with their types and the cross-origin isolation headers; 404 and 405 otherwise', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ocsf-embed-serve-'));
    mkdirSync(join(root, 'dist'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(root, 'dist', 'a.wasm'), new Uint8Array([0, 97, 115, 109]));
    const served = await serveWeb({ root, port: 0 });
    try {
      assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(served.url);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
      assert.match(await page.text(), /<title>x<\/title>/);
      const wasm = await fetch(`${served.url}dist/a.wasm`);
      assert.equal(wasm.headers.get('content-type'), 'application/wasm');
      assert.deepEqual(new Uint8Array(await wasm.arrayBuffer()), new Uint8Array([0, 97, 115, 109]));
      assert.equal((await fetch(`${served.url}missing.js`)).status, 404);
      assert.equal((await fetch(`${served.url}dist`)).status, 404);
      assert.equal((await fetch(served.url, { method: 'POST', body: 'x' })).status, 405);
    } finally {
      await served.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('npm run web', () => {
  test('serves the page on a port of its own, not the one `ocsf-embed serve` listens on', () => {
    assert.notEqual(WEB_PORT, SERVE_PORT);
  });
});
