// What a first hour with the command line runs into, through the real bin: labels in every format the
// generator writes, a fitted spec reused, resuming and extending, wrong --model paths, a typo that must
// leave nothing behind, quiet defaults, machine-readable summaries, standard output, and the flags.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, makeRunFixture, type RunFixture, tinyModel } from '../helpers/run-fixture.ts';

let f: RunFixture;
before(() => {
  f = makeRunFixture({ prefix: 'ocsf-embed-newcomer-' });
});
after(() => f.cleanup());

const SMALL = tinyModel();

function oneLineError(r: ReturnType<typeof cli>, pattern: RegExp): void {
  assert.equal(r.status, 2, `status ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

describe('workflows', () => {
  test('eval-scores and train --labels read Parquet labels, as `generate` writes them', () => {
    const events = join(f.dir, 'pq.parquet');
    const labels = join(f.dir, 'pq.labels.parquet');
    const g = cli('generate', '--events', '800', '--seed', '9', '--out', events, '--labels', labels, '-q');
    assert.equal(g.status, 0, g.stderr);
    const scores = join(f.dir, 'pq-scores.jsonl');
    assert.equal(cli('score', events, '-m', f.runDir, '-o', scores, '-q').status, 0);
    const e = cli('eval-scores', scores, '--labels', labels);
    assert.equal(e.status, 0, e.stderr);
    assert.match(e.stdout, /matched 800 scored events to labels/);
    const t = cli(
      'train',
      events,
      '-o',
      join(f.dir, 'pq-run'),
      '--epochs',
      '1',
      ...SMALL,
      '--labels',
      labels,
    );
    assert.equal(t.status, 0, t.stderr);
    assert.match(t.stdout, /detection on \d+ validation events \(\d+ anomalies\): ROC-AUC [\d.]+|n\/a/);
  });

  test('a fitted spec from `features --out` is the --spec of a new run, vocabulary frozen', () => {
    const spec = join(f.dir, 'fitted.json');
    const s = cli('features', f.eventsPath, '--out', spec, '-q');
    assert.equal(s.status, 0, s.stderr);
    const run = join(f.dir, 'spec-run');
    const t = cli('train', f.eventsPath, '-o', run, '--epochs', '1', ...SMALL, '--spec', spec);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(
      JSON.parse(readFileSync(join(run, 'spec.json'), 'utf8')),
      JSON.parse(readFileSync(spec, 'utf8')),
    );
  });

  test('resuming says where; a finished run is refused without more --epochs and extended with them', () => {
    const refused = cli('train', '--resume', f.runDir);
    oneLineError(refused, /has done 1 epochs .* give more: `ocsf-embed train --resume .* --epochs 2`/);
    const changed = cli('train', '--resume', f.runDir, '--epochs', '2', '--d-model', '32');
    oneLineError(changed, /--d-model cannot change when resuming/);
    const r = cli('train', '--resume', f.runDir, '--epochs', '2');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /resuming .* at epoch 2\/2, batch 1\/\d+ \(after step \d+\)/);
    assert.match(r.stdout, /stopped: completed 2 epochs/);
  });

  test('a file that is not a model, or a folder that is not a run, is one line and exit 2', () => {
    oneLineError(
      cli('embed', f.eventsPath, '--model', f.eventsPath, '--out', join(f.dir, 'e.npy')),
      /events\.jsonl: this is not an ONNX model \(.*\): give the model\.onnx of a run, or the run directory/,
    );
    oneLineError(
      cli('score', f.eventsPath, '--model', f.dir, '--out', join(f.dir, 's.jsonl')),
      /is not a run directory \(no config\.json\): give the --out directory of `ocsf-embed train`/,
    );
    oneLineError(
      cli('score', f.eventsPath, '--model', 'package.json', '--out', join(f.dir, 's.jsonl')),
      /--model package\.json is not a run directory/,
    );
    assert.ok(!existsSync(join(f.dir, 'e.npy')));
  });

  test('a mistyped input leaves no run directory behind', () => {
    const run = join(f.dir, 'never');
    oneLineError(cli('train', join(f.dir, 'nope.jsonl'), '--out', run), /nope\.jsonl does not exist/);
    assert.ok(!existsSync(run));
    oneLineError(
      cli('train', f.eventsPath, '--out', run, '--spec', join(f.dir, 'nope.json')),
      /--spec .* does not exist/,
    );
    assert.ok(!existsSync(run));
  });

  test('--help says what a run directory holds', () => {
    const h = cli('train', '--help');
    assert.match(h.stdout, /A run directory holds:\n\s+model\.onnx\s+the model/);
    assert.match(
      h.stdout,
      /checkpoint-last\.safetensors\s+weights, optimizer state and position, to resume from/,
    );
  });
});

describe('noise', () => {
  test('a default CPU-only install says nothing about CUDA', () => {
    const r = cli('score', f.eventsPath, '-m', f.runDir, '-o', join(f.dir, 'quiet.jsonl'));
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /cuda/i);
  });

  test('train prints a short summary by default, the table with --show-spec, nothing with --quiet', () => {
    const plain = cli('train', f.eventsPath, '-o', join(f.dir, 'short'), '--epochs', '1', ...SMALL);
    assert.equal(plain.status, 0, plain.stderr);
    assert.ok(plain.stdout.trim().split('\n').length < 15, plain.stdout);
    assert.match(plain.stdout, /Feature spec: \d+ categorical.*\(the table: --show-spec, or report\.html\)/);
    const table = cli(
      'train',
      f.eventsPath,
      '-o',
      join(f.dir, 'table'),
      '--epochs',
      '1',
      ...SMALL,
      '--show-spec',
    );
    assert.match(table.stdout, /Categorical \(ids: 0 MISSING/);
    const quiet = cli(
      'train',
      f.eventsPath,
      '-o',
      join(f.dir, 'silent'),
      '--epochs',
      '1',
      ...SMALL,
      '--quiet',
    );
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stdout, '');
  });
});

describe('output people can use', () => {
  test('--json summaries of train, score, embed and eval-scores', () => {
    const t = cli(
      'train',
      f.eventsPath,
      '-o',
      join(f.dir, 'json-run'),
      '--epochs',
      '1',
      ...SMALL,
      '--json',
      '--labels',
      f.labelsPath,
    );
    assert.equal(t.status, 0, t.stderr);
    const ts = JSON.parse(t.stdout);
    assert.equal(ts.finished, true);
    assert.equal(ts.epochs, 1);
    assert.ok(ts.detection.rows > 0);
    const scores = join(f.dir, 'json-scores.jsonl');
    const s = JSON.parse(cli('score', f.eventsPath, '-m', f.runDir, '-o', scores, '--json').stdout);
    assert.equal(s.events, 1500);
    const e = JSON.parse(
      cli('embed', f.eventsPath, '-m', f.runDir, '-o', join(f.dir, 'e.arrow'), '--json').stdout,
    );
    assert.equal(e.events, 1500);
    assert.equal(e.dimension, 16);
    const ev = cli('eval-scores', scores, '--labels', f.labelsPath, '--json', '--k', '100,10,40');
    assert.equal(ev.status, 0, ev.stderr);
    const m = JSON.parse(ev.stdout);
    assert.deepEqual(
      m.precisionAtK.map((p: { k: number }) => p.k),
      [10, 40, 100],
    );
    assert.equal(m.roc, undefined);
  });

  test('eval-scores lists precision@k in increasing k, each a count over real rows', () => {
    const scores = join(f.dir, 'json-scores.jsonl');
    const r = cli('eval-scores', scores, '--labels', f.labelsPath, '--k', '100,10,40');
    assert.equal(r.status, 0, r.stderr);
    const ks = [...r.stdout.matchAll(/^precision@(\d+)\s+[\d.]+ \((\d+) of (\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    assert.deepEqual(ks, [10, 40, 100]);
  });

  test('--out - writes score rows and embeddings to standard output, the summary to stderr', () => {
    const s = cli('score', f.eventsPath, '-m', f.runDir, '-o', '-');
    assert.equal(s.status, 0, s.stderr);
    const rows = s.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, 1500);
    assert.ok('score' in rows[0]);
    assert.match(s.stderr, /scored 1500 events/);
    const long = cli('score', f.eventsPath, '--model', f.runDir, '--out', '-', '-q');
    assert.equal(long.status, 0, long.stderr);
    assert.equal(long.stdout.trim().split('\n').length, 1500, '--out - is -o -');
    const csv = cli('score', f.eventsPath, '-m', f.runDir, '-o', '-', '--format', 'csv', '-q');
    assert.match(csv.stdout, /^uid,score,threshold,is_anomaly/);
    const e = cli('embed', f.eventsPath, '-m', f.runDir, '-o', '-', '-q');
    assert.equal(e.status, 0, e.stderr);
    assert.equal(JSON.parse(e.stdout.split('\n')[0]!).embedding.length, 16);
    oneLineError(
      cli('embed', f.eventsPath, '-m', f.runDir, '-o', '-', '--format', 'npy'),
      /npy needs a file name/,
    );
    oneLineError(
      cli('score', f.eventsPath, '-m', f.runDir, '-o', '-', '--json'),
      /would both write to standard output/,
    );
  });
});

describe('flags', () => {
  test('a missing required option says what to type, not yargs\' "Missing required argument"', () => {
    const e = cli('export', f.runDir);
    assert.equal(e.status, 2);
    assert.match(e.stderr, /^ocsf-embed: give the file to write with --out, e\.g\. --out model\.onnx\n/);
    assert.doesNotMatch(e.stderr, /Missing required/);
    const a = cli('artifacts');
    assert.match(a.stderr, /^ocsf-embed: give the model config, .*; give the output directory/);
  });

  test('short flags, a marked required --out, and a description for every train flag', () => {
    const train = cli('train', '--help').stdout;
    assert.match(train, /-o, --out/);
    for (const flag of ['epochs', 'batch-size', 'schedule', 'dropout', 'min-delta', 'seed']) {
      const line = new RegExp(`--${flag}\\s+(\\S[^\\[]*)\\[`).exec(train);
      assert.ok(line && line[1]!.trim().length > 5, `--${flag} has a description`);
    }
    assert.match(
      train,
      /--d-model\s+embedding width \(a whole number divisible by 4\)\s+\[number\] \[default: 256\]/,
    );
    assert.match(cli('serve', '--help').stdout, /-m, --model/);
    assert.match(cli('export', '--help').stdout, /--out\s+.*\[required\]/);
  });
});
