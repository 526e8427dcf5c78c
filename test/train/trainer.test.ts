// The Trainer: learning, determinism, resume equals uninterrupted, early stopping, atomic checkpoints.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { REFERENCE_OBJECTIVE, resolveTrainingConfig } from '../../graphs/config.ts';
import { subsetDataset } from '../../src/dataset/dataset.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/run/checkpoint.node.ts';
import type { Checkpoint } from '../../src/run/checkpoint.ts';
import { FIT_DEFAULTS, type FitOptions, Trainer } from '../../src/train/trainer.ts';
import { clusteredDataset } from '../helpers/synthetic.ts';

const config = resolveTrainingConfig({
  model: { numNumerical: 6, cardinalities: [9, 5], dModel: 16, numBlocks: 1, dropout: 0.1 },
  objective: REFERENCE_OBJECTIVE,
});
const data = clusteredDataset(256, 3);
const train = subsetDataset(
  data,
  Array.from({ length: 192 }, (_, i) => i),
);
const val = subsetDataset(
  data,
  Array.from({ length: 64 }, (_, i) => 192 + i),
);
const createSession = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });

async function losses(fit: Partial<FitOptions>, resume?: Checkpoint, stopAt?: number) {
  const trainer = await Trainer.create({ config, batchSize: 32, seed: 5, createSession, resume });
  const seen: number[] = [];
  let last: Checkpoint | undefined;
  await trainer.fit(
    train,
    val,
    { ...FIT_DEFAULTS, epochs: 4, lr: 3e-3, logEvery: 1, ...fit },
    {
      onStep: (r) => {
        seen.push(r.loss);
        if (stopAt !== undefined && r.step === stopAt) trainer.requestStop();
      },
      checkpoint: (kind, c) => {
        if (kind === 'last') last = c;
      },
    },
  );
  await trainer.release();
  return { seen, last: last! };
}

test('the loss falls, and the same seed gives the identical loss sequence', async () => {
  const a = await losses({});
  const b = await losses({});
  assert.deepEqual(a.seen, b.seen);
  assert.equal(a.seen.length, 4 * 6);
  const mean = (xs: number[]) => xs.reduce((p, x) => p + x, 0) / xs.length;
  const [first, last] = [mean(a.seen.slice(0, 6)), mean(a.seen.slice(-6))];
  assert.ok(last < first - 0.5, `mean loss of the first epoch ${first}, of the last ${last}`);
});

test('resuming from an interrupted run reproduces the uninterrupted loss curve', async () => {
  const full = await losses({});
  const first = await losses({}, undefined, 9);
  assert.equal(first.seen.length, 9);
  assert.equal(first.last.position.step, 9);
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-resume-'));
  saveCheckpoint(join(dir, 'last.safetensors'), first.last);
  const trainer = await Trainer.create({ config, batchSize: 32, seed: 5, createSession });
  const reloaded = loadCheckpoint(join(dir, 'last.safetensors'), trainer.artifacts.manifest.optimizerLayout);
  await trainer.release();
  const rest = await losses({}, reloaded);
  assert.deepEqual([...first.seen, ...rest.seen], full.seen);
});

test('early stopping stops when validation stalls', async () => {
  const trainer = await Trainer.create({ config, batchSize: 32, seed: 5, createSession });
  const result = await trainer.fit(train, val, {
    ...FIT_DEFAULTS,
    epochs: 50,
    lr: 0,
    patience: 2,
    minDelta: 10,
  });
  await trainer.release();
  assert.equal(result.epochsRun, 3);
  assert.match(result.position.stopReason ?? '', /early stopping/);
});

test('a crash while writing a checkpoint leaves the previous one loadable', async () => {
  const { last } = await losses({ epochs: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-ckpt-'));
  const path = join(dir, 'last.safetensors');
  saveCheckpoint(path, last);
  const before = readFileSync(path);
  // A writer killed mid-way leaves only its temporary file behind.
  writeFileSync(`${path}.tmp-99999`, before.subarray(0, 100));
  const trainer = await Trainer.create({ config, batchSize: 32, seed: 5, createSession });
  const loaded = loadCheckpoint(path, trainer.artifacts.manifest.optimizerLayout);
  await trainer.release();
  assert.equal(loaded.position.step, last.position.step);
  assert.ok(existsSync(path));
  assert.deepEqual(readFileSync(path), before);
});
