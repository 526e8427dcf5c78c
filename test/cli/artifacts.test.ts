// `ocsf-embed artifacts`: graphs, weights and manifest on disk; ORT loads every graph; bad configs name the key.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { ModelProto } from '../../graphs/onnx/schema.ts';
import { writeArtifacts } from '../../src/cli/commands/artifacts.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';
import { ort } from '../helpers/ort.ts';

const demo = {
  model: { numNumerical: 5, cardinalities: [7, 3, 11], dModel: 16, numBlocks: 2 },
  objective: { kind: 'both' },
};

test('writes the three graphs, initial weights and a manifest; ORT loads every graph', async () => {
  const out = mkdtempSync(join(tmpdir(), 'ocsf-art-'));
  const files = writeArtifacts(demo, out, 32, 1);
  assert.equal(files.length, 5);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  for (const g of ['train_step', 'eval_step', 'encoder']) {
    const session = await ort.InferenceSession.create(readFileSync(join(out, `${g}.onnx`)));
    assert.deepEqual(
      [...session.inputNames].sort(),
      manifest.graphs[g].inputs.map((i: { name: string }) => i.name).sort(),
    );
    assert.deepEqual(
      [...session.outputNames].sort(),
      manifest.graphs[g].outputs.map((o: { name: string }) => o.name).sort(),
    );
    await session.release();
  }
  const { tensors } = decodeSafetensors(readFileSync(join(out, 'initial.safetensors')));
  assert.ok(
    tensors.has('embeddings.2.weight') &&
      tensors.has('blocks.1.bn2.running_var') &&
      tensors.has('mfp_heads.num_head.weight'),
  );
  assert.equal(manifest.batchSize, 32);
});

test('bad configs fail with one message naming the key', () => {
  const cases: [unknown, RegExp][] = [
    [
      { model: { numNumerical: 5, cardinalities: [3], dmodel: 16 } },
      /unknown config key "model.dmodel" \(did you mean "model.dModel"\?\)/,
    ],
    [
      { model: { numNumerical: 5, cardinalities: [3], dModel: 18 } },
      /"model.dModel" must be a whole number divisible by 4/,
    ],
    [
      { model: { numNumerical: 0, cardinalities: [] } },
      /"model.numNumerical" and "model.cardinalities" are both empty/,
    ],
    [
      { model: { numNumerical: 2, cardinalities: [4, 0] } },
      /"model.cardinalities\[1\]" must be a whole number ≥ 1/,
    ],
    [
      { model: { numNumerical: 2, cardinalities: [4] }, objective: { temperature: 0 } },
      /"objective.temperature" must be a number > 0/,
    ],
    [{ model: { numNumerical: 2 }, extra: 1 }, /unknown config key "extra"/],
  ];
  for (const [json, message] of cases) assert.throws(() => resolveTrainingConfig(json), message);
});

test('the CLI prints the config error and exits with code 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-art-'));
  writeFileSync(
    join(dir, 'bad.json'),
    JSON.stringify({ model: { numNumerical: 2, cardinalities: [4], dModel: 10 } }),
  );
  const r = spawnSync(
    process.execPath,
    ['bin/ocsf-embed.js', 'artifacts', '--config', join(dir, 'bad.json'), '--out', join(dir, 'o')],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /ocsf-embed: config key "model.dModel" must be a whole number divisible by 4/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test('every initializer of the encoder and model graphs feeds a node (ONNX Runtime warns about unused ones)', () => {
  const out = mkdtempSync(join(tmpdir(), 'ocsf-art-'));
  writeArtifacts(demo, out, 32, 1);
  const model = ModelProto.decode(readFileSync(join(out, 'encoder.onnx'))) as unknown as {
    graph: { initializer: { name: string }[]; node: { input: string[] }[] };
  };
  const used = new Set(model.graph.node.flatMap((n) => n.input));
  const unused = model.graph.initializer.map((i) => i.name).filter((name) => !used.has(name));
  assert.deepEqual(unused, []);
});
