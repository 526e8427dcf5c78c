// `ocsf-embed embed`: every output format holds exactly what `Embedder.embed` gives, in input order, in
// small batches; rejected lines are counted and written to the rejects file.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { loadEmbedder } from '../../src/embed/embedder.node.ts';
import { npyHeader } from '../../src/io/writers.node.ts';
import { cli, makeRunFixture, type RunFixture, uidOf } from '../helpers/run-fixture.ts';

let fx: RunFixture;
let events: Record<string, unknown>[];
let inputPath: string;
let expected: Float32Array;
let expectedNormalized: Float32Array;
const d = 16;

before(async () => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-embed-' });
  events = fx.events.slice(0, 300);
  inputPath = join(fx.dir, 'input.jsonl');
  const lines = events.map((e) => JSON.stringify(e));
  lines.splice(10, 0, '{not json');
  lines.splice(20, 0, '[1, 2, 3]');
  writeFileSync(inputPath, `${lines.join('\n')}\n`);
  const { embedder } = await loadEmbedder(join(fx.runDir, 'model.onnx'), { device: 'cpu' });
  expected = await embedder.embed(events);
  expectedNormalized = await embedder.embed(events, { normalized: true });
  await embedder.release();
});

after(() => fx?.cleanup());

function embedCli(out: string, ...extra: string[]) {
  const model = extra.includes('--model') ? [] : ['--model', fx.runDir];
  const r = cli(
    'embed',
    inputPath,
    ...model,
    '--out',
    out,
    '--batch-size',
    '64',
    '--device',
    'cpu',
    ...extra,
  );
  assert.equal(r.status, 0, r.stderr);
  return r;
}

test('jsonl: one {uid, embedding} per accepted event, values equal Embedder.embed; rejects counted and written', () => {
  const out = join(fx.dir, 'emb.jsonl');
  const r = embedCli(out);
  assert.match(r.stdout, /300 kept, 2 rejected/);
  assert.match(r.stdout, /embedded 300 events \(dimension 16\)/);
  const rows = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { uid: string; embedding: number[] });
  assert.equal(rows.length, events.length);
  rows.forEach((row, i) => {
    assert.equal(row.uid, uidOf(events[i]!));
    assert.equal(row.embedding.length, d);
    assert.deepEqual(Float32Array.from(row.embedding), expected.subarray(i * d, (i + 1) * d));
  });
  const rejects = readFileSync(`${out}.rejects.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    rejects.map((x: { line: number; reason: string }) => [x.line, x.reason]),
    [
      [11, 'malformed_json'],
      [21, 'not_an_object'],
    ],
  );
});

test('npy: a float32 [N, 16] array with the final shape in its header, uids beside it', () => {
  const out = join(fx.dir, 'emb.npy');
  embedCli(out, '--normalized');
  const bytes = readFileSync(out);
  assert.deepEqual(new Uint8Array(bytes.subarray(0, 128)), npyHeader(events.length, d));
  const header = bytes.subarray(10, 128).toString('latin1');
  assert.match(header, /'descr': '<f4', 'fortran_order': False, 'shape': \(300, 16\)/);
  assert.equal((bytes.length - 128) % 64, 0);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + 128, bytes.byteOffset + bytes.length));
  assert.deepEqual(data, expectedNormalized);
  const uids = readFileSync(join(fx.dir, 'emb.uids.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(uids, events.map(uidOf));
});

test('arrow: uid + fixed_size_list<float32>[16] columns over several record batches, with provenance', () => {
  const out = join(fx.dir, 'emb.arrow');
  embedCli(out);
  const table = tableFromIPC(readFileSync(out));
  assert.equal(table.numRows, events.length);
  assert.ok(table.batches.length >= 5);
  assert.deepEqual(
    table.schema.fields.map((f) => `${f.name}:${f.type}`),
    ['uid:Utf8', 'embedding:FixedSizeList[16]<Float32>'],
  );
  assert.equal(table.schema.metadata.get('ocsf-embed.dimension'), '16');
  assert.equal(table.schema.metadata.get('ocsf-embed.normalized'), 'false');
  const uid = table.getChild('uid')!;
  const emb = table.getChild('embedding')!;
  for (let i = 0; i < events.length; i++) {
    assert.equal(uid.get(i), uidOf(events[i]!));
    assert.deepEqual(Float32Array.from(emb.get(i)!), expected.subarray(i * d, (i + 1) * d));
  }
});

test('a model file works as --model, --format overrides the extension, no rejects leave no rejects file', () => {
  const out = join(fx.dir, 'emb.data');
  const r = cli(
    'embed',
    fx.eventsPath,
    '--model',
    join(fx.runDir, 'model.onnx'),
    '--out',
    out,
    '--format',
    'jsonl',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, fx.events.length);
  assert.ok(!existsSync(`${out}.rejects.jsonl`));
});

test('argument errors exit with code 2 and say what to type', () => {
  const cases: [string[], RegExp][] = [
    [['embed', inputPath, '--out', join(fx.dir, 'x.npy')], /--model runs\/first/],
    [['embed', inputPath, '--model', fx.runDir], /--out embeddings\.arrow/],
    [
      ['embed', inputPath, '--model', fx.runDir, '--out', join(fx.dir, 'x.txt')],
      /name it \.arrow, \.npy or \.jsonl/,
    ],
    [
      ['embed', inputPath, '--model', fx.runDir, '--out', join(fx.dir, 'x.npy'), '--batch-size', '0'],
      /--batch-size 1024/,
    ],
    [
      ['embed', inputPath, '--model', join(fx.dir, 'missing'), '--out', join(fx.dir, 'x.npy')],
      /does not exist/,
    ],
    [['embed', '--model', fx.runDir, '--out', join(fx.dir, 'x.npy')], /name the events to embed/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
