// reconstruction.onnx: each field's surprise equals the MFP heads' prediction of that field with its
// pass's fields masked, computed independently here (stage-2 encoding and masking in TypeScript, the
// training-side encoder graph, the heads' arithmetic by hand); a trained run writes it, its scorer ranks
// it, and scoring without it is one clear error.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildEncoder } from '../../graphs/artifacts.ts';
import type { TrainingConfig } from '../../graphs/config.ts';
import type { TensorData } from '../../graphs/onnx/builder.ts';
import { loadReconstructor } from '../../src/embed/embedder.node.ts';
import { HEADS_PREFIX, RECONSTRUCTION_PASSES, surpriseColumns } from '../../src/embed/reconstruction.ts';
import { encodeRaw, extractRaw, numNumericalFeatures } from '../../src/features/encode.ts';
import { parseSpec } from '../../src/features/spec.ts';
import { loadCheckpoint } from '../../src/run/checkpoint.node.ts';
import { ort, sessionFor } from '../helpers/ort.ts';
import { assertOneLine, cli, makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

let run: RunFixture;

before(() => {
  run = makeRunFixture({ prefix: 'ocsf-embed-reconstruction-', events: 1200, seed: 8, batchSize: 128 });
});

after(() => run.cleanup());

const f32 = (t: TensorData) => t.data as Float32Array;

test('each field surprise is the heads’ prediction of the field with its pass masked', async () => {
  const spec = parseSpec(readFileSync(join(run.runDir, 'spec.json'), 'utf8'));
  const { config } = JSON.parse(readFileSync(join(run.runDir, 'config.json'), 'utf8')) as {
    config: TrainingConfig;
  };
  const state = loadCheckpoint(join(run.runDir, 'checkpoint-best.safetensors')).state;
  const events = run.events.slice(0, 64);
  const reconstructor = await loadReconstructor(join(run.runDir, 'reconstruction.onnx'));
  const got = await reconstructor.surprise(events);
  await reconstructor.release();

  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const width = fn + fc;
  assert.equal(surpriseColumns(spec).length, width);
  assert.equal(got.length, events.length * width);
  const n = events.length;
  const num = new Float32Array(n * fn);
  const cat = new Int32Array(n * fc);
  events.forEach((e, i) => {
    encodeRaw(spec, extractRaw(spec, e), num, i * fn, cat, i * fc);
  });

  const m = config.model;
  const encoder = await sessionFor(
    buildEncoder(m, new Map([...state].filter(([k]) => !k.startsWith(HEADS_PREFIX)))),
  );
  const d = m.dModel;
  const dot = (w: Float32Array, row: number, z: Float32Array, at: number) => {
    let s = 0;
    for (let k = 0; k < d; k++) s += w[row * d + k]! * z[at + k]!;
    return s;
  };
  let checked = 0;
  for (let p = 0; p < RECONSTRUCTION_PASSES; p++) {
    const maskedNum = num.slice();
    const maskedCat = BigInt64Array.from(cat, BigInt);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < fn; j++) if (j % RECONSTRUCTION_PASSES === p) maskedNum[i * fn + j] = 0;
      for (let j = 0; j < fc; j++) {
        if ((fn + j) % RECONSTRUCTION_PASSES === p) maskedCat[i * fc + j] = BigInt(m.cardinalities[j]! - 1);
      }
    }
    const out = await encoder.run({
      ...(fn > 0 && { numerical: new ort.Tensor('float32', maskedNum, [n, fn]) }),
      ...(fc > 0 && { categorical: new ort.Tensor('int64', maskedCat, [n, fc]) }),
    });
    const z = out.embedding!.data as Float32Array;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < width; j++) {
        if (j % RECONSTRUCTION_PASSES !== p) continue;
        let want: number;
        if (j < fn) {
          const w = f32(state.get('mfp_heads.num_head.weight')!);
          const b = f32(state.get('mfp_heads.num_head.bias')!);
          const err = dot(w, j, z, i * d) + b[j]! - num[i * fn + j]!;
          want = 0.5 * err * err;
        } else {
          const c = j - fn;
          const w = f32(state.get(`mfp_heads.cat_heads.${c}.weight`)!);
          const b = f32(state.get(`mfp_heads.cat_heads.${c}.bias`)!);
          const logits = Array.from({ length: m.cardinalities[c]! }, (_, k) => dot(w, k, z, i * d) + b[k]!);
          const peak = Math.max(...logits);
          const logSum = Math.log(logits.reduce((s, x) => s + Math.exp(x - peak), 0)) + peak;
          want = logSum - logits[cat[i * fc + c]!]!;
        }
        const have = got[i * width + j]!;
        assert.ok(
          Math.abs(have - want) <= 1e-4 * Math.max(1, Math.abs(want)),
          `event ${i}, column ${surpriseColumns(spec)[j]}: ${have} vs ${want}`,
        );
        checked++;
      }
    }
  }
  await encoder.release();
  assert.equal(checked, n * width);
});

test('a trained run ranks reconstruction surprise, and scoring without reconstruction.onnx is one clear error', () => {
  const scorer = JSON.parse(readFileSync(join(run.runDir, 'scorer.json'), 'utf8')) as {
    method: string;
    reconstructionScale?: number[];
    reconstructionScores?: number[];
  };
  assert.equal(scorer.method, 'conditional');
  const spec = parseSpec(readFileSync(join(run.runDir, 'spec.json'), 'utf8'));
  assert.equal(scorer.reconstructionScale?.length, surpriseColumns(spec).length);
  assert.ok(scorer.reconstructionScale.every((x) => Number.isFinite(x) && x > 0));
  assert.ok(scorer.reconstructionScores?.every(Number.isFinite));

  const ok = cli('score', run.eventsPath, '--model', run.runDir, '--out', join(run.dir, 'scores.jsonl'));
  assert.equal(ok.status, 0, ok.stderr);

  const copy = join(run.dir, 'without-reconstruction');
  cpSync(run.runDir, copy, { recursive: true });
  rmSync(join(copy, 'reconstruction.onnx'));
  const r = cli('score', run.eventsPath, '--model', copy, '--out', join(run.dir, 'scores2.jsonl'));
  assertOneLine(r, /reconstruction\.onnx/);
});

test('an event’s surprise is the same bit for bit whichever events it is scored with', async () => {
  const reconstructor = await loadReconstructor(join(run.runDir, 'reconstruction.onnx'));
  const events = run.events.slice(100, 400);
  const together = await reconstructor.surprise(events);
  const w = reconstructor.width;
  for (const size of [1, 2, 5, 64]) {
    const apart = await reconstructor.surprise(events, size);
    assert.deepEqual(apart, together, `batches of ${size}`);
  }
  for (let i = 0; i < 20; i++) {
    const alone = await reconstructor.surprise([events[i]!]);
    assert.deepEqual(alone, together.subarray(i * w, (i + 1) * w), `event ${i} alone`);
  }
  await reconstructor.release();
});
