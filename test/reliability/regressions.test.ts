// Regressions for the reliability defects: one bad record must not steer type inference, extreme numbers
// never become NaN, writes are whole or fail, checkpoints verify what they load, and a run that did nothing
// useful does not exit 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { REFERENCE_OBJECTIVE, resolveTrainingConfig } from '../../graphs/config.ts';
import { generate } from '../../src/data/generate/index.ts';
import { readEventBatches } from '../../src/data/readers.node.ts';
import type { Reject } from '../../src/data/records.ts';
import { subsetDataset } from '../../src/dataset/dataset.ts';
import { checkRejectRate, type LoadSummary } from '../../src/dataset/load.node.ts';
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { releaseKnnSession } from '../../src/detect/knn.ts';
import { loadReconstructor } from '../../src/embed/embedder.node.ts';
import {
  checkRecord,
  encodeRecord,
  MAX_SCALED_MAGNITUDE,
  numNumericalFeatures,
} from '../../src/features/encode.ts';
import { fitSpec } from '../../src/features/fit.ts';
import { parseSpec } from '../../src/features/spec.ts';
import { removeStaleTemps } from '../../src/io/atomic.node.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/run/checkpoint.node.ts';
import { type Checkpoint, encodeCheckpoint } from '../../src/run/checkpoint.ts';
import { RUN_FILES } from '../../src/run/layout.ts';
import { loadRunScorer } from '../../src/run/scoring.node.ts';
import { NON_FINITE_SCORE, scoreEmbeddings } from '../../src/run/scoring.ts';
import { FIT_DEFAULTS, Trainer } from '../../src/train/trainer.ts';
import {
  assertOneLine,
  CLI,
  cli,
  makeRunFixture,
  type RunFixture,
  tinyModel,
} from '../helpers/run-fixture.ts';
import { clusteredDataset } from '../helpers/synthetic.ts';

const events = generate({ events: 1000, seed: 2 }).events as object[];

let fx: RunFixture;
let dir: string;
before(() => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-rel-' });
  dir = join(fx.dir, 'scratch');
  mkdirSync(dir);
});
after(() => fx?.cleanup());

function jsonl(records: object[]): string {
  return `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
}

test('one record with a number where every other event has an object does not make the path numeric', () => {
  const spec = fitSpec([...events, { src_endpoint: 1 }]);
  const names = [...spec.numerical, ...spec.categorical].map((f) => f.name);
  assert.ok(!names.includes('src_endpoint'), 'src_endpoint is an object path');
  assert.match(spec.dropped.find((d) => d.name === 'src_endpoint')?.reason ?? '', /an object in/);
  const rejected = events.filter((e) => checkRecord(spec, e) !== null).length;
  assert.equal(rejected, 0, 'no real event is rejected');
});

test('a load that rejects most of its input fails instead of going on quietly', () => {
  const summary = (accepted: number, rejected: number): LoadSummary => ({
    read: accepted + rejected,
    accepted,
    rejected,
    byReason: { wrong_type: rejected },
    files: [],
    emptyFiles: [],
    skippedFiles: [],
    rejectsPath: 'r.jsonl',
    truncated: false,
    invalidUtf8: 0,
  });
  assert.throws(() => checkRejectRate(summary(57, 944)), /944 of 1001 events were rejected/);
  assert.throws(() => checkRejectRate(summary(0, 5), 1), /all 5 events were rejected/);
  checkRejectRate(summary(990, 10));
  checkRejectRate(summary(57, 944), 1);
});

test('huge numbers encode to finite, clipped inputs and fit finite statistics', () => {
  const withHuge = events.map((e, i) =>
    i % 100 === 0 ? { ...e, traffic: { bytes_in: i % 200 === 0 ? 1e307 : -1.7e308, bytes_out: 1e308 } } : e,
  );
  const spec = fitSpec(withHuge);
  for (const f of spec.numerical) {
    assert.ok(Number.isFinite(f.mean) && Number.isFinite(f.std), `${f.name} mean ${f.mean} std ${f.std}`);
  }
  const nn = numNumericalFeatures(spec);
  const num = new Float32Array(nn);
  const cat = new Int32Array(spec.categorical.length);
  for (const e of withHuge) {
    encodeRecord(spec, e, num, 0, cat, 0);
    for (const x of num) assert.ok(Number.isFinite(x) && Math.abs(x) <= MAX_SCALED_MAGNITUDE, String(x));
  }
});

test('a huge value is scored finite and flagged by score, and trains without NaN', () => {
  const base = fx.events
    .slice(0, 10)
    .map((e) => ({ ...e, traffic: { bytes_in: 1e307, bytes_out: -1.7e308 } }));
  const input = join(dir, 'huge.jsonl');
  writeFileSync(input, jsonl(base));
  const out = join(dir, 'huge.scores.jsonl');
  const r = cli('score', input, '--model', fx.runDir, '--out', out, '--device', 'cpu', '--quiet');
  assert.equal(r.status, 0, r.stderr);
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 10);
  for (const row of rows) {
    assert.ok(Number.isFinite(row.score), `score ${row.score}`);
    assert.equal(row.is_anomaly, true, 'an extreme value is anomalous');
  }
  const trainIn = join(dir, 'train-huge.jsonl');
  writeFileSync(trainIn, jsonl([...fx.events.slice(0, 400), ...base]));
  const t = cli(
    'train',
    trainIn,
    '--out',
    join(dir, 'run-huge'),
    '--epochs',
    '1',
    ...tinyModel({ dModel: 8 }),
  );
  assert.equal(t.status, 0, t.stderr + t.stdout);
  assert.ok(existsSync(join(dir, 'run-huge', RUN_FILES.model)));
});

test('epoch-second times read as that instant; out-of-range times are missing, in any time zone', () => {
  const input = join(dir, 'times.jsonl');
  const records = fx.events.map((e) => ({ ...e }));
  records[3]!.time = 1e17;
  records[4]!.time = -1;
  records[5]!.time = Math.round((records[5]!.time as number) / 1000);
  writeFileSync(input, jsonl(records));
  const specPath = join(dir, 'times.spec.json');
  const r = cli('features', input, '--time-zone', 'Europe/Berlin', '--out', specPath);
  assert.equal(r.status, 0, r.stderr);
  const spec = parseSpec(JSON.parse(readFileSync(specPath, 'utf8')));
  const hour = spec.categorical.find((f) => f.name === 'time:hour');
  assert.ok(hour, 'time:hour is a feature');
  assert.equal(hour.stats.missing, 2, 'the two out-of-range times, not the one in seconds');
});

test('non-finite query embeddings never leave as scores', async () => {
  const state = loadRunScorer(fx.runDir);
  const q = new Float32Array(2 * state.d).fill(0.25);
  q[3] = Number.NaN;
  const knn = nodeKnnRuntime({ device: 'cpu' });
  try {
    const spec = parseSpec(readFileSync(join(fx.runDir, RUN_FILES.spec), 'utf8'));
    const events = fx.events.slice(0, 2);
    const reconstructor = await loadReconstructor(join(fx.runDir, RUN_FILES.reconstruction));
    const surprise = await reconstructor.surprise(events);
    await reconstructor.release();
    const s = await scoreEmbeddings(state, q, ['a', 'b'], knn, { spec, events, surprise });
    assert.equal(s.scores[0], Math.fround(NON_FINITE_SCORE));
    assert.equal(s.isAnomaly[0], 1);
    assert.ok(Number.isFinite(s.scores[1]!));
  } finally {
    await releaseKnnSession(knn);
  }
});

test('a write that hits the file-size limit fails whole: the old file stays, no temporary is left', () => {
  const target = join(dir, 'limited.bin');
  writeFileSync(target, 'old');
  const script = `
    import { writeFileAtomic } from ${JSON.stringify(join(import.meta.dirname, '../../src/io/atomic.node.ts'))};
    try { writeFileAtomic(${JSON.stringify(target)}, new Uint8Array(1 << 20)); console.log('wrote'); }
    catch (e) { console.log(e.name + ': ' + e.message); }`;
  const r = spawnSync(
    'bash',
    ['-c', `ulimit -f 64; exec "${process.execPath}" --import tsx --input-type=module -e "$0"`, script],
    {
      encoding: 'utf8',
    },
  );
  assert.match(r.stdout, /UserError: cannot write .*limited\.bin: .*EFBIG/, r.stdout + r.stderr);
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
  );
});

test('temporary files of killed writers are removed; those of live processes are kept', () => {
  const d = mkdtempSync(join(dir, 'tmps-'));
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  writeFileSync(join(d, `checkpoint-last.safetensors.tmp-${dead}`), 'x');
  writeFileSync(join(d, `model.onnx.tmp-${process.pid}`), 'x');
  const removed = removeStaleTemps(d);
  assert.equal(removed.length, 1);
  assert.deepEqual(readdirSync(d), [`model.onnx.tmp-${process.pid}`]);
});

test('truncated, damaged and foreign checkpoints fail to load with one clear line', () => {
  const path = join(fx.runDir, RUN_FILES.last);
  const good = readFileSync(path);
  const layout = loadCheckpoint(path).layout;
  assert.ok(layout.length > 0, 'the checkpoint lists its parameters without any graph');
  const bad = join(dir, 'bad.safetensors');
  const cases: [string, Uint8Array][] = [
    ['truncated', good.subarray(0, Math.floor(good.length * 0.6))],
    ['half', good.subarray(0, good.length / 2)],
    ['one byte short', good.subarray(0, good.length - 1)],
    ['flipped', Uint8Array.from(good, (b, i) => (i === good.length - 7 ? b ^ 0xff : b))],
    ['empty', new Uint8Array(0)],
  ];
  for (const [name, bytes] of cases) {
    writeFileSync(bad, bytes);
    assert.throws(() => loadCheckpoint(bad, layout), /not a usable checkpoint/, name);
  }
  const other = layout.map((s, i) => (i === 0 ? { ...s, shape: [s.shape[0]! + 1, ...s.shape.slice(1)] } : s));
  assert.throws(() => loadCheckpoint(path, other), /belongs to another model/);
});

test('resume refuses a truncated checkpoint with one line, and exits 2', () => {
  const run = join(dir, 'run-trunc');
  spawnSync('cp', ['-r', fx.runDir, run]);
  const path = join(run, RUN_FILES.last);
  const good = readFileSync(path);
  writeFileSync(path, good.subarray(0, Math.floor(good.length * 0.6)));
  assertOneLine(cli('train', '--resume', run, '--device', 'cpu'));
});

test('training that diverges to NaN saves nothing of that state and reports it', async () => {
  const config = resolveTrainingConfig({
    model: { numNumerical: 6, cardinalities: [9, 5], dModel: 16, numBlocks: 1, dropout: 0.1 },
    objective: REFERENCE_OBJECTIVE,
  });
  const data = clusteredDataset(128, 3);
  data.numerical[5] = Number.NaN;
  const trainer = await Trainer.create({
    config,
    batchSize: 128,
    seed: 1,
    createSession: (b) => ort.InferenceSession.create(b, { intraOpNumThreads: 1 }),
  });
  let saved = 0;
  const r = await trainer.fit(
    subsetDataset(
      data,
      Array.from({ length: 128 }, (_, i) => i),
    ),
    null,
    {
      ...FIT_DEFAULTS,
      epochs: 2,
    },
    { checkpoint: () => void saved++ },
  );
  await trainer.release();
  assert.match(r.diverged ?? '', /loss became NaN at step 1/);
  assert.equal(saved, 0);
});

test('score with every event rejected exits 2 with one line', () => {
  const input = join(dir, 'all-bad.jsonl');
  writeFileSync(input, jsonl(fx.events.slice(0, 5).map((e) => ({ ...e, time: 'yesterday' }))));
  assertOneLine(
    cli('score', input, '--model', fx.runDir, '--out', join(dir, 'bad.jsonl'), '--device', 'cpu'),
  );
  assertOneLine(cli('embed', input, '--model', fx.runDir, '--out', join(dir, 'bad.npy'), '--device', 'cpu'));
});

test('Ctrl-C during training saves a checkpoint and exits 130', async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'train',
      fx.eventsPath,
      '--out',
      join(dir, 'run-int'),
      '--epochs',
      '500',
      ...tinyModel({ dModel: 8 }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const status = await new Promise<number | null>((resolve) => {
    child.stdout.on('data', (b) => {
      out += b;
      if (/epoch 1\/500/.test(out) && !child.killed) child.kill('SIGINT');
    });
    child.on('exit', (code) => resolve(code));
  });
  assert.equal(status, 130, out);
  assert.ok(existsSync(join(dir, 'run-int', RUN_FILES.last)));
});

test('encodeCheckpoint records its layout and a content check', () => {
  const c = loadCheckpoint(join(fx.runDir, RUN_FILES.last));
  const bytes = encodeCheckpoint(c);
  const p = join(dir, 'again.safetensors');
  saveCheckpoint(p, c);
  assert.deepEqual(new Uint8Array(readFileSync(p)), bytes);
});

test('a resumed epoch reports the mean loss over all its batches, not only the resumed ones', async () => {
  const config = resolveTrainingConfig({
    model: { numNumerical: 6, cardinalities: [9, 5], dModel: 16, numBlocks: 1, dropout: 0.1 },
    objective: REFERENCE_OBJECTIVE,
  });
  const data = clusteredDataset(192, 3);
  const rows = subsetDataset(
    data,
    Array.from({ length: 192 }, (_, i) => i),
  );
  const createSession = (b: Uint8Array) => ort.InferenceSession.create(b, { intraOpNumThreads: 1 });
  const epochLosses = async (resume?: Checkpoint, stopAt?: number) => {
    const trainer = await Trainer.create({ config, batchSize: 32, seed: 5, createSession, resume });
    const seen: number[] = [];
    let last: Checkpoint | undefined;
    await trainer.fit(
      rows,
      null,
      { ...FIT_DEFAULTS, epochs: 2, lr: 3e-3, logEvery: 1 },
      {
        onStep: (r) => {
          if (stopAt !== undefined && r.step === stopAt) trainer.requestStop();
        },
        onEpoch: (r) => void seen.push(r.train_loss),
        checkpoint: (kind, c) => {
          if (kind === 'last') last = c;
        },
      },
    );
    await trainer.release();
    return { seen, last: last! };
  };
  const full = await epochLosses();
  const first = await epochLosses(undefined, 9);
  const p = join(dir, 'mid-epoch.safetensors');
  saveCheckpoint(p, first.last);
  const rest = await epochLosses(loadCheckpoint(p));
  assert.deepEqual([...first.seen, ...rest.seen], full.seen);
});

test('gzip followed by other bytes keeps the lines before them and rejects the rest', async () => {
  const good = fx.events.slice(0, 300);
  const path = join(dir, 'trailing.jsonl.gz');
  writeFileSync(path, Buffer.concat([gzipSync(jsonl(good)), Buffer.from('GARBAGE\u0000\u0001')]));
  const rejects: Reject[] = [];
  let kept = 0;
  for await (const b of readEventBatches([path], { onReject: (r) => rejects.push(r) }))
    kept += b.records.length;
  assert.ok(kept >= 250, `kept ${kept} of 300`);
  assert.ok(rejects.some((r) => r.reason === 'corrupt_data'));
});

test('a folder with one unreadable Parquet file rejects that file and reads the others', async () => {
  const folder = mkdtempSync(join(dir, 'mixed-'));
  writeFileSync(join(folder, 'a.jsonl'), jsonl(fx.events.slice(0, 20)));
  writeFileSync(join(folder, 'b.parquet'), 'PAR1 this is not really parquet PAR1');
  const rejects: Reject[] = [];
  let kept = 0;
  for await (const b of readEventBatches([folder], { onReject: (r) => rejects.push(r) }))
    kept += b.records.length;
  assert.equal(kept, 20);
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]!.reason, 'unreadable_file');
  assert.match(rejects[0]!.detail, /b\.parquet could not be read as Parquet/);
});
