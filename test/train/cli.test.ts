// `ocsf-embed train` end to end on generated events, its resume, and its argument errors.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'ocsf-train-cli-'));
const events = join(dir, 'events.jsonl');
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/ocsf-embed.js', ...args], { encoding: 'utf8' });
const small = ['--d-model', '16', '--blocks', '1', '--batch-size', '64', '--val-split', '0.2'];

before(() => {
  const g = cli(
    'generate',
    '--events',
    '1200',
    '--seed',
    '3',
    '--out',
    events,
    '--labels',
    join(dir, 'labels.jsonl'),
  );
  assert.equal(g.status, 0, g.stderr);
});

test('train writes a complete run directory, with detection quality when labels are given', () => {
  const out = join(dir, 'run');
  const r = cli(
    'train',
    events,
    '--out',
    out,
    '--epochs',
    '2',
    ...small,
    '--labels',
    join(dir, 'labels.jsonl'),
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /epoch 2\/2/);
  assert.match(r.stdout, /stopped: completed 2 epochs/);
  for (const f of [
    'config.json',
    'spec.json',
    'metrics.jsonl',
    'checkpoint-last.safetensors',
    'checkpoint-best.safetensors',
    'model.onnx',
    'reference.safetensors',
    'scorer.json',
    'report.html',
    'charts/loss.svg',
    'detection.json',
  ]) {
    assert.ok(existsSync(join(out, f)), `missing ${f}`);
  }
  const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((m) => m.type === 'epoch');
  assert.equal(epochs.length, 2);
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  assert.ok(report.includes('<svg'));
  // Detection is shown beside the raw-feature baselines on the same events.
  const detection = JSON.parse(readFileSync(join(out, 'detection.json'), 'utf8'));
  assert.deepEqual(
    detection.baselines.map((b: { method: string }) => b.method),
    ['raw k-NN (k = 20)', 'raw isolation forest'],
  );
  for (const b of detection.baselines) assert.ok(b.rocAuc >= 0 && b.rocAuc <= 1 && b.flagged >= 0);
  assert.match(r.stdout, /beside raw-feature baselines on the same events \(ROC-AUC \/ PR-AUC\): raw k-NN/);
  assert.ok(report.includes('Beside raw-feature baselines'));
});

test('a second train into the same directory is refused; --resume continues it', () => {
  const out = join(dir, 'run2');
  assert.equal(cli('train', events, '--out', out, '--epochs', '1', ...small).status, 0);
  const again = cli('train', events, '--out', out, '--epochs', '1', ...small);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already holds a run; continue it with `ocsf-embed train --resume/);
  const finished = cli('train', '--resume', out);
  assert.equal(finished.status, 2);
  assert.match(finished.stderr, /has done 1 epochs .* give more/);
  const resumed = cli('train', '--resume', out, '--epochs', '2');
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /stopped: completed 2 epochs/);
});

test('argument errors exit with code 2 and say what to type', () => {
  const cases: [string[], RegExp][] = [
    [
      ['train', events, '--out', join(dir, 'x'), '--epochs', '0'],
      /--epochs must be a whole number ≥ 1, e.g. --epochs 20/,
    ],
    [
      ['train', events, '--out', join(dir, 'x'), '--d-model', '30'],
      /--d-model must be a whole number divisible by 4/,
    ],
    [['train', events], /give the run directory with --out/],
    [['train', events, '--out', join(dir, 'x'), '--objective', 'simclr'], /Invalid values:[\s\S]*objective/],
    [['train', events, '--out', join(dir, 'x'), '--bogus'], /Unknown argument: bogus/],
    [['train', '--resume', join(dir, 'nothing-here')], /holds no run to resume/],
    [['train', join(dir, 'missing.jsonl'), '--out', join(dir, 'y')], /missing\.jsonl/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('Ctrl-C saves a checkpoint and exits 130; --resume finishes the run', async () => {
  const out = join(dir, 'interrupted');
  const child = spawn(process.execPath, [
    'bin/ocsf-embed.js',
    'train',
    events,
    '--out',
    out,
    '--epochs',
    '30',
    ...small,
  ]);
  let stdout = '';
  let signalled = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!signalled && /epoch 1\/30/.test(stdout)) {
      signalled = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stdout);
  assert.match(stdout, /interrupted/);
  assert.match(stdout, /continue with `ocsf-embed train --resume/);
  assert.ok(existsSync(join(out, 'checkpoint-last.safetensors')));
  assert.ok(!existsSync(join(out, 'model.onnx')));
  const resumed = cli('train', '--resume', out);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.ok(existsSync(join(out, 'model.onnx')));
});

test('eval reports the loss and embedding statistics of a run on new events', () => {
  const r = cli('eval', join(dir, 'run'), events, '--json');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.ok(Number.isFinite(result.loss) && result.loss > 0);
  assert.equal(result.embeddings.dimension, 16);
  assert.ok(result.embeddings.effective_dimensions > 1);
  const missing = cli('eval', join(dir, 'no-such-run'), events);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /is not a run directory/);
});
