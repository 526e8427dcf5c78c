// models/: the committed training graphs are byte for byte what the graph builders make now (regenerate
// with `npm run models -- --graphs-only`), and the default model opens and scores.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL_FILES, MODELS_DIR, trainingGraphFiles } from '../../scripts/models.ts';
import { generate } from '../../src/data/generate/index.ts';
import { LoadedModel } from '../../src/run/model.node.ts';

test('the committed training graphs and manifests are identical to a fresh build', () => {
  const fresh = trainingGraphFiles();
  const stale: string[] = [];
  for (const [path, data] of fresh) {
    const file = join(MODELS_DIR, path);
    const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    if (!existsSync(file) || !readFileSync(file).equals(bytes)) stale.push(path);
  }
  assert.deepEqual(stale, [], 'models/ is out of date: run `npm run models -- --graphs-only` and commit');
  const committed = readdirSync(MODELS_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(MODELS_DIR.length + 1))
    .filter((p) => !p.startsWith('default/') && p !== 'README.md');
  assert.deepEqual(
    committed.sort(),
    [...fresh.keys()].sort(),
    'models/ holds only the graphs of the standard configs',
  );
});

test('the default model opens as a run and scores generated events', async () => {
  for (const name of DEFAULT_MODEL_FILES) assert.ok(existsSync(join(MODELS_DIR, 'default', name)), name);
  const model = await LoadedModel.open(join(MODELS_DIR, 'default'));
  try {
    const { events } = generate({ events: 200, seed: 5 });
    const scored = await model.score(events);
    assert.equal(scored.scores.length, 200);
    assert.ok(scored.scores.every(Number.isFinite));
    assert.equal(model.dimension, 32);
  } finally {
    await model.release();
  }
});
