// One model.onnx, five runtimes: onnxruntime-node, onnxruntime-web under Node (wasm, 1 thread), headless
// Chromium (onnxruntime-web wasm and webgpu), and the training-side encoder graph on encoded inputs all agree.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { buildEncoder, type TrainingConfig } from '../../graphs/artifacts.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import { encodeDataset } from '../../src/dataset/dataset.ts';
import { loadEmbedder as loadNodeEmbedder } from '../../src/embed/embedder.node.ts';
import { loadEmbedder as loadWebEmbedder } from '../../src/embed/embedder.web.ts';
import { parseSpec } from '../../src/features/spec.ts';
import { loadCheckpoint } from '../../src/run/checkpoint.node.ts';
import { type EntryPage, openEntryPage } from '../helpers/browser.ts';
import { makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

const ENTRY = join(import.meta.dirname, 'browser-entry.ts');
const ORT_WEB_DIST = join(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
const TOLERANCE = 1e-5;

const EDGE_CASES: object[] = [
  {},
  { class_uid: 3002, class_name: 'never seen', severity_id: 99, user: { name: 'nobody-at-all' } },
  { class_uid: 4001, time: 0, src_endpoint: { port: 'not a number' }, traffic: { bytes_in: 1e300 } },
];

let run: RunFixture;
let modelBytes: Uint8Array;
let events: object[];
let page: EntryPage | undefined;

before(() => {
  run = makeRunFixture({ prefix: 'ocsf-embed-run-', events: 1000, seed: 3, batchSize: 128 });
  modelBytes = readFileSync(join(run.runDir, 'model.onnx'));
  events = [...run.events.slice(0, 250), ...EDGE_CASES];
});

after(async () => {
  await page?.close();
  if (run) rmSync(run.dir, { recursive: true, force: true });
});

/** Largest absolute difference between two equally long arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): number {
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Number.isFinite(expected[i]!), `${what}: value ${i} is not finite`);
  }
  const diff = maxDiff(actual, expected);
  assert.ok(diff <= TOLERANCE, `${what}: max |difference| ${diff.toExponential(2)} > ${TOLERANCE}`);
  return diff;
}

async function nodeEmbeddings(): Promise<{ embedding: Float32Array; normalized: Float32Array }> {
  const { embedder, device } = await loadNodeEmbedder(join(run.runDir, 'model.onnx'), {
    device: 'cpu',
    threads: 1,
  });
  assert.equal(device, 'cpu');
  const embedding = await embedder.embed(events);
  const normalized = await embedder.embed(events, { normalized: true });
  await embedder.release();
  return { embedding, normalized };
}

test('onnxruntime-node, onnxruntime-web (Node and Chromium) and the training encoder give the same embeddings', async (t) => {
  const node = await nodeEmbeddings();
  const d = node.embedding.length / events.length;
  assert.equal(d, 16);
  const scale = node.embedding.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0.1, `embeddings are not all near zero (max |value| ${scale})`);
  t.diagnostic(`${events.length} events, max |embedding value| ${scale.toFixed(3)}`);

  await t.test('onnxruntime-web under Node (wasm, 1 thread)', async () => {
    const embedder = await loadWebEmbedder(modelBytes, { device: 'cpu', threads: 1 });
    assert.equal(ortWeb.env.wasm.numThreads, 1);
    const diff = assertClose(await embedder.embed(events), node.embedding, 'web (Node) embedding');
    t.diagnostic(`onnxruntime-web (Node) vs onnxruntime-node: max |difference| ${diff.toExponential(2)}`);
    assertClose(await embedder.embed(events, { normalized: true }), node.normalized, 'web (Node) normalized');
    await embedder.release();
  });

  await t.test('headless Chromium (onnxruntime-web wasm, events parsed in the page)', async () => {
    const eventsPath = join(run.dir, 'cross.jsonl');
    writeFileSync(eventsPath, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    page = await openEntryPage(ENTRY, {
      dir: ORT_WEB_DIST,
      webgpu: true,
      files: { '/data/model.onnx': modelBytes, '/data/cross.jsonl': readFileSync(eventsPath) },
    });
    const web = await page.call<{
      rows: number;
      dimension: number;
      embedding: number[];
      normalized: number[];
    }>('embedFile', '/data/model.onnx', '/data/cross.jsonl', '/');
    assert.equal(web.rows, events.length);
    assert.equal(web.dimension, d);
    const diff = assertClose(web.embedding, node.embedding, 'Chromium embedding');
    t.diagnostic(`Chromium vs onnxruntime-node: max |difference| ${diff.toExponential(2)}`);
    assertClose(web.normalized, node.normalized, 'Chromium normalized');
  });

  await t.test("headless Chromium on WebGPU (onnxruntime-web's webgpu provider)", async () => {
    assert.ok(page, 'the Chromium page of the previous test is open');
    const gpu = await page.call<{ provider: string; embedding: number[]; normalized: number[] }>(
      'embedFile',
      '/data/model.onnx',
      '/data/cross.jsonl',
      '/',
      'webgpu',
    );
    assert.equal(gpu.provider, 'webgpu');
    const diff = assertClose(gpu.embedding, node.embedding, 'Chromium WebGPU embedding');
    t.diagnostic(`Chromium WebGPU vs onnxruntime-node: max |difference| ${diff.toExponential(2)}`);
    assertClose(gpu.normalized, node.normalized, 'Chromium WebGPU normalized');
  });

  await t.test('the training-side encoder on encoded inputs (BatchNorm not folded)', async () => {
    const saved = JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')) as {
      config: TrainingConfig;
    };
    const spec = parseSpec(readFileSync(join(run.runDir, 'spec.json'), 'utf8'));
    const best = loadCheckpoint(join(run.runDir, 'checkpoint-best.safetensors'));
    const weights = new Map([...best.state].filter(([k]) => !k.startsWith('mfp_heads.')));
    const encoder = encodeModel(buildEncoder(saved.config.model, weights));
    const ds = encodeDataset(spec, events);
    const session = await ortNode.InferenceSession.create(encoder, {
      intraOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    const feeds: Record<string, ortNode.Tensor> = {};
    if (ds.numNumerical > 0) {
      feeds.numerical = new ortNode.Tensor('float32', ds.numerical, [ds.rows, ds.numNumerical]);
    }
    if (ds.numCategorical > 0) {
      feeds.categorical = new ortNode.Tensor('int64', BigInt64Array.from(ds.categorical, BigInt), [
        ds.rows,
        ds.numCategorical,
      ]);
    }
    const out = await session.run(feeds);
    await session.release();
    const diff = assertClose(out.embedding!.data as Float32Array, node.embedding, 'encoder.onnx embedding');
    t.diagnostic(`encoder.onnx vs model.onnx: max |difference| ${diff.toExponential(2)}`);
  });
});
