// The library API from its Node entry (src/node.ts): training in memory from an encoded dataset with
// progress callbacks, embedding with the model it returns, and a run trained from events, opened, scored
// and re-exported.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createSession,
  Embedder,
  encodeDataset,
  exportRun,
  fitSpec,
  generate,
  openRun,
  splitTrainVal,
  subsetDataset,
  train,
  trainDataset,
} from '../../src/node.ts';

test('trainDataset trains in memory and returns a model.onnx that embeds raw events', async () => {
  const { events } = generate({ events: 600, seed: 21 });
  const split = splitTrainVal(events.length, 0.2, 1);
  const spec = fitSpec(Array.from(split.train, (i) => events[i]!));
  const all = encodeDataset(spec, events);
  let batches = 0;
  const epochs: number[] = [];
  const trained = await trainDataset({
    spec,
    train: subsetDataset(all, split.train),
    val: subsetDataset(all, split.val),
    config: { model: { dModel: 16, numBlocks: 1 } },
    fit: { epochs: 2 },
    batchSize: 64,
    onProgress: () => batches++,
    onEpoch: (r) => epochs.push(r.epoch),
  });
  assert.equal(batches, 2 * Math.floor(split.train.length / 64));
  assert.deepEqual(epochs, [1, 2]);
  assert.equal(trained.config.model.dModel, 16);
  const embedder = await Embedder.fromBytes(
    trained.model,
    async (b) => (await createSession(b, { device: 'cpu' })).session,
  );
  const x = await embedder.embed(events.slice(0, 5), { normalized: true });
  assert.equal(x.length, 5 * 16);
  for (let r = 0; r < 5; r++) {
    const norm = Math.hypot(...x.subarray(r * 16, (r + 1) * 16));
    assert.ok(Math.abs(norm - 1) < 1e-4, `row ${r} has norm ${norm}`);
  }
  await embedder.release();
});

test('train writes a run from events in memory that openRun scores, and exportRun re-exports', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-api-'));
  try {
    const { events } = generate({ events: 800, seed: 22 });
    const run = await train({
      events,
      out: join(dir, 'run'),
      config: { model: { dModel: 16, numBlocks: 1 } },
      fit: { epochs: 1 },
      batchSize: 64,
    });
    assert.ok(run.modelPath && existsSync(run.modelPath));
    assert.ok(run.finish?.scoring, 'the run has a scorer');
    const model = await openRun(run.runDir);
    const scored = await model.score(events.slice(0, 20));
    assert.equal(scored.scores.length, 20);
    assert.ok(scored.scores.every(Number.isFinite));
    assert.equal(scored.nearest[0]!.length > 0, true);
    await model.release();
    const strict = await openRun(run.runDir, { thresholdPercentile: 99.5 });
    const strictScored = await strict.score(events.slice(0, 20));
    await strict.release();
    assert.ok(strictScored.threshold > scored.threshold, 'a higher percentile raises the threshold');
    assert.deepEqual(strictScored.scores, scored.scores, 'and leaves the scores as they were');
    await assert.rejects(openRun(run.runDir, { thresholdPercentile: 100 }), /above 0 and below 100/);
    const exported = exportRun(run.runDir, join(dir, 'again.onnx'));
    assert.ok(exported.bytes > 0 && existsSync(join(dir, 'again.onnx')));
    await assert.rejects(train({ events: [], out: join(dir, 'empty') }), /give some events/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
