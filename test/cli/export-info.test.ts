// `ocsf-embed export` (re-export round trip from the best and last checkpoints) and `ocsf-embed info`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadEmbedder } from '../../src/embed/embedder.node.ts';
import { cli, makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

let fx: RunFixture;

before(() => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-export-' });
});

after(() => fx?.cleanup());

async function embeddings(modelPath: string, events: object[]): Promise<Float32Array> {
  const { embedder } = await loadEmbedder(modelPath, { device: 'cpu' });
  try {
    return await embedder.embed(events);
  } finally {
    await embedder.release();
  }
}

test('export re-creates the run model from the best checkpoint: same bytes, same embeddings', async () => {
  const out = join(fx.dir, 'exported', 'model.onnx');
  const r = cli('export', fx.runDir, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /from the best checkpoint: step \d+/);
  assert.deepEqual(readFileSync(out), readFileSync(join(fx.runDir, 'model.onnx')));
  const events = fx.events.slice(0, 200);
  assert.deepEqual(await embeddings(out, events), await embeddings(join(fx.runDir, 'model.onnx'), events));
});

test('export --checkpoint last gives a working model with the same embeddings after one epoch', async () => {
  const out = join(fx.dir, 'last.onnx');
  const r = cli('export', fx.runDir, '--out', out, '--checkpoint', 'last');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /from the last checkpoint/);
  const events = fx.events.slice(0, 50);
  assert.deepEqual(await embeddings(out, events), await embeddings(join(fx.runDir, 'model.onnx'), events));
});

test('export explains what to pass when the run or --out is wrong', () => {
  const missing = cli('export', join(fx.dir, 'nope'), '--out', join(fx.dir, 'x.onnx'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /not a run directory/);
  const noOut = cli('export', fx.runDir);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--out model\.onnx/);
  const bad = cli('export', fx.runDir, '--out', join(fx.dir, 'y.onnx'), '--checkpoint', 'middle');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /best, last|"best", "last"/);
});

test('info describes a run: config, checkpoints, scorer, files and the model inside', () => {
  const r = cli('info', fx.runDir);
  assert.equal(r.status, 0, r.stderr);
  for (const pattern of [
    /^run /m,
    /config\s+mfp objective, d_model 16, 1 block/,
    /best ckpt\s+epoch 1, step \d+; best validation loss \d/,
    /scorer\s+\w/,
    /files\s+.*model\.onnx \d/,
    /inputs\s+categorical string \[N, \d+\]; numerical float32 \[N, \d+\]/,
    /outputs\s+embedding float32 \[N, 16\]; embedding_normalized float32 \[N, 16\]/,
    /spec\s+\d+ categorical, \d+ numerical features/,
    /versions\s+ocsf-embed \S+, onnxruntime \S+, node v/,
  ]) {
    assert.match(r.stdout, pattern);
  }
});

test('info --json on a model file gives its inputs, outputs, spec summary and training position', () => {
  const r = cli('info', join(fx.runDir, 'model.onnx'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout);
  assert.equal(m.format, 'ocsf-embed.model/1');
  assert.deepEqual(
    m.inputs.map((t: { name: string }) => t.name),
    ['categorical', 'numerical'],
  );
  assert.deepEqual(m.outputs[1], { name: 'embedding_normalized', type: 'float32', shape: ['N', 16] });
  assert.equal(m.spec.uidPath, 'metadata.uid');
  assert.equal(m.model.dModel, 16);
  assert.equal(typeof m.info.step, 'number');
  assert.equal(typeof m.info.bestValLoss, 'number');
});

test('info on a path that is neither a run nor a model says what to give', () => {
  const r = cli('info', fx.dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /not a run directory/);
});
