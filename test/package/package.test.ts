// The package as a user gets it: build, pack, install the tarball into a temporary project (from the local
// npm cache, install scripts governed by the project's own allowScripts as the README says), then use it
// there — the Node example, the CLI, types under tsc (node16, and bundler with the browser condition), and
// the browser example bundled with esbuild and run in Chromium — and check what the tarball holds.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  devDependency,
  type InstalledPackage,
  packAndInstall,
  ROOT,
  run,
  userEnv,
} from '../../scripts/pack-install.ts';
import { generate } from '../../src/data/generate/index.ts';
import { LoadedModel } from '../../src/run/model.node.ts';
import { launchChromium, serve } from '../helpers/browser.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

let installed: InstalledPackage;
let dir: string;
let project: string;
let packed: string[];

before(() => {
  installed = packAndInstall([devDependency('onnxruntime-web'), devDependency('esbuild')]);
  ({ dir, project, files: packed } = installed);
});

after(() => {
  if (installed) rmSync(installed.dir, { recursive: true, force: true });
});

test('the tarball holds the build, the models and the docs, and no tests, scripts, benchmarks or CI', () => {
  for (const path of [
    'package.json',
    'README.md',
    'LICENSE',
    'bin/ocsf-embed.js',
    'dist/src/node.js',
    'dist/src/node.d.ts',
    'dist/src/browser.js',
    'dist/src/index.js',
    'dist/graphs/index.js',
    'models/default/model.onnx',
    'models/small-contrastive/train_step.onnx',
  ]) {
    assert.ok(packed.includes(path), `${path} is missing from the tarball`);
  }
  const unwanted = packed.filter((p) => /^(test|scripts|\.ci|docs|web|src|graphs|examples)\//.test(p));
  assert.deepEqual(unwanted, []);
});

test('installing the tarball does not download the CUDA libraries', () => {
  const bin = join(
    project,
    'node_modules',
    'onnxruntime-node',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  assert.ok(existsSync(bin), `${bin} is missing`);
  assert.deepEqual(
    readdirSync(bin).filter((f) => f.includes('providers_cuda')),
    [],
  );
});

test('the Node example scores with the default model and trains, embeds and scores a model of its own', () => {
  writeFileSync(join(project, 'node.mjs'), readFileSync(join(ROOT, 'examples', 'node.mjs')));
  const out = run(process.execPath, ['node.mjs'], { cwd: project });
  assert.match(out, /^default model: scored 1000 events, \d+ above the threshold$/m);
  assert.match(out, /^trained [1-9]\d* steps \([1-9]\d* progress calls\); embedding width 16$/m);
  assert.match(out, /^embedded 10 events$/m);
  assert.match(out, /^own model: scored 1000 events, ROC-AUC (0|1)\.\d{3}$/m);
});

test('the installed CLI runs compiled JavaScript and answers --version and --help without ONNX Runtime', () => {
  const cli = join(project, 'node_modules', '.bin', 'ocsf-embed');
  // A resolve hook that records every module specifier a command resolves.
  const log = join(dir, 'resolved.log');
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) {\n  appendFileSync(${JSON.stringify(log)}, s + '\\n');\n  return next(s, c);\n}\n`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  const env = { ...userEnv(), NODE_OPTIONS: `--import ${join(dir, 'register.mjs')}` };
  const resolved = (args: string[]): { out: string; modules: string } => {
    rmSync(log, { force: true });
    const out = run(cli, args, { cwd: project, env });
    return { out, modules: readFileSync(log, 'utf8') };
  };
  const version = resolved(['--version']);
  assert.equal(version.out.trim(), pkg.version);
  const help = resolved(['--help']);
  assert.match(help.out, /ocsf-embed train \[inputs\.\.\]/);
  for (const { modules } of [version, help]) {
    assert.match(modules, /dist\/src\/cli\/main\.js/);
    assert.doesNotMatch(modules, /onnxruntime|apache-arrow|hyparquet|tsx/);
  }
  // The same hook sees ONNX Runtime load when a command needs it.
  const events = join(dir, 'few.jsonl');
  run(cli, ['generate', '--events', '20', '--seed', '1', '--out', events, '--quiet'], { cwd: project });
  const model = join(project, 'node_modules', 'ocsf-embed', 'models', 'default', 'model.onnx');
  const embed = resolved(['embed', events, '--model', model, '--out', join(dir, 'few.npy'), '--quiet']);
  assert.match(embed.modules, /onnxruntime-node/);
  assert.doesNotMatch(embed.modules, /tsx/);
});

/** A file that uses the API with its types, and fails to compile if they are missing or `any`. */
const NODE_CHECK = `import { type LoadedModel, openRun, type ScoredBatch, train, type TrainedRun, Embedder } from 'ocsf-embed';
import { buildArtifacts, resolveTrainingConfig, type TrainingConfig } from 'ocsf-embed/graphs';

export async function check(): Promise<number> {
  const run: TrainedRun = await train({ events: ['events.jsonl'], out: 'run', onProgress: (p) => p.loss });
  const model: LoadedModel = await openRun(run.runDir);
  const scored: ScoredBatch = await model.score([]);
  const embedder: Embedder = model.embedder;
  const config: TrainingConfig = resolveTrainingConfig({ model: { numNumerical: 1, cardinalities: [] } });
  // @ts-expect-error events must be objects or paths
  await train({ events: 5, out: 'run' });
  return scored.scores.length + embedder.dimension + buildArtifacts(config, 2, 1).trainStep.length;
}
`;

const BROWSER_CHECK = `import { Embedder, generate, openRun, type RunModel } from 'ocsf-embed';

export async function check(bytes: Uint8Array): Promise<number> {
  const model: RunModel = await openRun({ model: bytes });
  const embedder: Embedder = model.embedder;
  // @ts-expect-error the browser build opens runs from bytes, not paths
  await openRun('run');
  return (await model.embed(generate({ events: 1, seed: 1 }).events)).length + embedder.dimension;
}
`;

test('types resolve under tsc with moduleResolution node16, and bundler with the browser condition', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const common = {
    target: 'es2022',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
  };
  const configs = {
    'node16.json': {
      compilerOptions: { ...common, module: 'node16', moduleResolution: 'node16' },
      files: ['check-node.ts'],
    },
    'bundler.json': {
      compilerOptions: {
        ...common,
        module: 'esnext',
        moduleResolution: 'bundler',
        customConditions: ['browser'],
        lib: ['es2023', 'dom'],
      },
      files: ['check-browser.ts'],
    },
  };
  writeFileSync(join(project, 'check-node.ts'), NODE_CHECK);
  writeFileSync(join(project, 'check-browser.ts'), BROWSER_CHECK);
  for (const [name, config] of Object.entries(configs)) {
    writeFileSync(join(project, name), JSON.stringify(config));
    run(process.execPath, [tsc, '-p', name], { cwd: project });
  }
});

test('the browser example, bundled with esbuild, scores in Chromium as Node does', async () => {
  const example = join(project, 'browser');
  mkdirSync(example);
  for (const name of ['index.html', 'main.js', 'build.mjs']) {
    writeFileSync(join(example, name), readFileSync(join(ROOT, 'examples', 'browser', name)));
  }
  run(process.execPath, ['build.mjs'], { cwd: example });
  const served = await serve({}, { dir: join(example, 'dist') });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(served.url);
    await page.waitForFunction(() => document.body.dataset.state !== 'running', null, { timeout: 60_000 });
    assert.equal(
      await page.evaluate(() => document.body.dataset.state),
      'done',
      (await page.textContent('#status')) ?? '',
    );
    assert.deepEqual(errors, []);
    const result = await page.evaluate(
      () =>
        (globalThis as unknown as { exampleResult: { events: number; dimension: number; scores: number[] } })
          .exampleResult,
    );
    assert.equal(result.events, 300);
    const model = await LoadedModel.open(join(ROOT, 'models', 'default'));
    try {
      const { events } = generate({ events: 300, seed: 7, start: '2026-01-06T00:00:00Z' });
      const node = await model.score(events);
      assert.equal(result.dimension, model.dimension);
      // The default scorer's scores are ranks among the n reference events' own: the runtimes' float
      // differences (embeddings agree within 1e-5, test/embed/cross-runtime; the reconstruction surprise
      // likewise) may carry an event's parts across a reference score each, and its summed rank across a
      // few reference sums: 3 steps of 1/n at most.
      const step = 1 / model.scoring!.scorer.n;
      const diff = Math.max(...result.scores.map((s, i) => Math.abs(s - node.scores[i]!)));
      assert.ok(diff < 3 * step + 1e-5, `browser and Node scores differ by ${diff} (one rank step: ${step})`);
    } finally {
      await model.release();
    }
  } finally {
    await browser.close();
    await served.close();
  }
});
