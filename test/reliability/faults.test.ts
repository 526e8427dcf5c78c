// Faults around the files the product writes and reads: every writer under a file-size limit (short
// writes, EFBIG) fails in one line and leaves no partial output; every loader given a truncated or damaged
// artifact fails in one line; SIGKILL during atomic writes never leaves a half file; outputs never overwrite
// inputs or user files; the service answers bad request targets, checks Content-Type, hides host paths and
// requires a token off loopback.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RUN_FILES } from '../../src/run/layout.ts';
import { formatMetrics, parseMetrics } from '../../src/run/metrics.ts';
import { LoadedModel } from '../../src/run/model.node.ts';
import { type RunningServer, startServer } from '../../src/serve/server.node.ts';
import {
  assertOneLine,
  CLI,
  cli,
  makeRunFixture,
  type RunFixture,
  tinyModel,
} from '../helpers/run-fixture.ts';

let fx: RunFixture;
let dir: string;
before(() => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-faults-' });
  dir = join(fx.dir, 'scratch');
  mkdirSync(dir);
});
after(() => fx?.cleanup());

/** Runs the CLI with a file-size limit of `kib` KiB (writes past it are cut short, then fail with EFBIG). */
function cliLimited(kib: number, ...args: string[]) {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  return spawnSync('bash', ['-c', `ulimit -f ${kib}; exec '${process.execPath}' '${CLI}' ${quoted}`], {
    encoding: 'utf8',
  });
}

function noTemporaries(folder: string): void {
  assert.deepEqual(
    readdirSync(folder, { recursive: true }).filter((f) => String(f).includes('.tmp-')),
    [],
    `temporary files left in ${folder}`,
  );
}

test('every batch writer under a file-size limit fails in one line and leaves no partial output', () => {
  for (const out of ['s.jsonl', 's.csv', 's.parquet']) {
    const path = join(dir, out);
    assertOneLine(
      cliLimited(4, 'score', fx.eventsPath, '--model', fx.runDir, '--out', path, '--device', 'cpu'),
      /cannot write .*(EFBIG|ESHORT)/,
    );
    assert.ok(!existsSync(path), `${out} must not exist`);
  }
  for (const out of ['e.arrow', 'e.npy', 'e.jsonl']) {
    const path = join(dir, out);
    writeFileSync(path, 'previous');
    assertOneLine(
      cliLimited(4, 'embed', fx.eventsPath, '--model', fx.runDir, '--out', path, '--device', 'cpu'),
      /cannot write .*(EFBIG|ESHORT)/,
    );
    assert.equal(readFileSync(path, 'utf8'), 'previous', `${out} keeps its old content`);
  }
  assertOneLine(
    cliLimited(8, 'export', fx.runDir, '--out', join(dir, 'm.onnx')),
    /cannot write .*m\.onnx.*EFBIG/,
  );
  assertOneLine(cliLimited(2, 'features', fx.eventsPath, '--out', join(dir, 'spec.json')), /cannot write/);
  noTemporaries(dir);
});

test('--findings under a file-size limit fails in one line and the old findings file stays whole', () => {
  const findings = join(dir, 'f.jsonl');
  writeFileSync(findings, 'previous');
  const args = ['score', fx.eventsPath, '--model', fx.runDir, '--out', '-', '--findings', findings];
  assertOneLine(cliLimited(4, ...args, '--device', 'cpu'), /cannot write .*f\.jsonl.*(EFBIG|ESHORT)/);
  assert.equal(readFileSync(findings, 'utf8'), 'previous');
  noTemporaries(dir);
  const r = cli(...args, '--quiet', '--device', 'cpu');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(
    readFileSync(findings, 'utf8').split('\n').length > 5,
    'findings written in full without the limit',
  );
});

test('training under a file-size limit fails in one line; no checkpoint is cut short', () => {
  const run = join(dir, 'run-limited');
  assertOneLine(
    cliLimited(64, 'train', fx.eventsPath, '--out', run, '--epochs', '1', ...tinyModel()),
    /cannot write .*(EFBIG|ESHORT)/,
  );
  for (const f of readdirSync(run)) {
    if (f.endsWith('.safetensors')) {
      const r = cli('train', '--resume', run, '--device', 'cpu', '--epochs', '1');
      assert.notEqual(r.status, 1, r.stderr);
    }
  }
  noTemporaries(run);
});

/** A copy of the run with one file replaced by `bytes`. */
function damaged(name: string, bytes: Uint8Array | string): string {
  const copy = mkdtempSync(join(dir, 'damaged-'));
  cpSync(fx.runDir, copy, { recursive: true });
  writeFileSync(join(copy, name), bytes);
  return copy;
}

test('every loader refuses truncated and damaged artifacts in one line', () => {
  const file = (name: string) => readFileSync(join(fx.runDir, name));
  const variants = (bytes: Uint8Array): [string, Uint8Array | string][] => [
    ['half', bytes.subarray(0, Math.floor(bytes.length / 2))],
    ['garbage', Buffer.from('\u0000\u0001not this file at all\u00ff')],
  ];
  const scoreArgs = (run: string) => ['score', fx.eventsPath, '--model', run, '--out', join(dir, 'x.jsonl')];
  const embedArgs = (run: string) => ['embed', fx.eventsPath, '--model', run, '--out', join(dir, 'x.npy')];
  const cases: [string, (run: string) => string[][]][] = [
    [RUN_FILES.model, (run) => [scoreArgs(run), embedArgs(run)]],
    [RUN_FILES.scorer, (run) => [scoreArgs(run)]],
    [RUN_FILES.reference, (run) => [scoreArgs(run)]],
    [
      RUN_FILES.last,
      (run) => [
        ['train', '--resume', run],
        ['eval', run, fx.eventsPath, '--checkpoint', 'last'],
      ],
    ],
    [RUN_FILES.best, (run) => [['export', run, '--out', join(dir, 'x.onnx')]]],
    [
      RUN_FILES.config,
      (run) => [
        ['train', '--resume', run],
        ['export', run, '--out', join(dir, 'x.onnx')],
      ],
    ],
    [
      RUN_FILES.spec,
      (run) => [
        ['train', '--resume', run],
        ['export', run, '--out', join(dir, 'x.onnx')],
      ],
    ],
  ];
  for (const [name, commands] of cases) {
    for (const [how, bytes] of variants(file(name))) {
      const run = damaged(name, bytes);
      for (const args of commands(run)) {
        const r = cli(...args, ...(args[0] === 'export' ? [] : ['--device', 'cpu']));
        assert.equal(r.status, 2, `${name} ${how}: ${args.join(' ')}\n${r.stderr}`);
        assertOneLine(r);
      }
      rmSync(run, { recursive: true, force: true });
    }
  }
});

test('serve refuses a damaged model in one line', () => {
  const run = damaged(RUN_FILES.model, readFileSync(join(fx.runDir, RUN_FILES.model)).subarray(0, 1000));
  assertOneLine(cli('serve', '--model', run, '--port', '0'), /not a usable|not exported|not an ONNX model/);
});

test('SIGKILL during atomic writes never leaves a half file, and the next write clears the temporary', async () => {
  const target = join(dir, 'killed.bin');
  const size = 8 << 20;
  const script = `
    import { writeFileAtomic } from ${JSON.stringify(join(import.meta.dirname, '../../src/io/atomic.node.ts'))};
    let i = 0;
    for (;;) writeFileAtomic(${JSON.stringify(target)}, new Uint8Array(${size}).fill(++i % 251));`;
  for (let round = 0; round < 4; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 1500 + round * 350));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    if (!existsSync(target)) continue;
    const bytes = readFileSync(target);
    assert.equal(bytes.length, size, 'the file is whole');
    assert.ok(
      bytes.every((b) => b === bytes[0]),
      'the file is one version',
    );
  }
  const { writeFileAtomic } = await import('../../src/io/atomic.node.ts');
  writeFileAtomic(target, 'after');
  noTemporaries(dir);
});

test('outputs never overwrite inputs, and a run never overwrites user files', () => {
  const input = join(dir, 'same.jsonl');
  cpSync(fx.eventsPath, input);
  const before = readFileSync(input);
  assertOneLine(cli('score', input, '--model', fx.runDir, '--out', input), /is also an input/);
  assertOneLine(
    cli('score', input, '--model', fx.runDir, '--out', join(dir, 'o.jsonl'), '--rejects', input),
    /is also an input/,
  );
  assertOneLine(
    cli('embed', dir, '--model', fx.runDir, '--out', join(dir, 'e2.jsonl')),
    /inside the input folder/,
  );
  assert.deepEqual(readFileSync(input), before);

  const user = join(dir, 'user-folder');
  mkdirSync(user);
  writeFileSync(join(user, 'report.html'), 'mine');
  assertOneLine(cli('train', fx.eventsPath, '--out', user, '--epochs', '1'), /already holds report\.html/);
  assert.equal(readFileSync(join(user, 'report.html'), 'utf8'), 'mine');
  assertOneLine(cli('train', fx.eventsPath, '--out', input, '--epochs', '1'), /is a file/);
});

test('metrics.jsonl: a partial last line is skipped and a step logged again after resume counts once', () => {
  const a = { type: 'step', epoch: 1, step: 1, loss: 2, lr: 1, samples_per_s: 1, time_s: 1 } as const;
  const b = { ...a, step: 2, loss: 1.5 };
  const again = { ...b, loss: 1.4 };
  const text = `${formatMetrics([a, b])}${JSON.stringify(again)}\n{"type":"step","ep`;
  const records = parseMetrics(text);
  assert.deepEqual(records, [a, again]);
  const run = join(dir, 'run-metrics');
  cpSync(fx.runDir, run, { recursive: true });
  appendFileSync(join(run, RUN_FILES.metrics), '{"type":"epoch","epoch":9,"st');
  const r = cli('train', '--resume', run, '--device', 'cpu', '--epochs', '2');
  assert.equal(r.status, 0, r.stderr);
});

function rawRequest(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('service: bad request targets are answered, Content-Type is checked, paths are hidden, tokens are required', async () => {
  const model = await LoadedModel.open(fx.runDir, { device: 'cpu' });
  let service: RunningServer | null = null;
  try {
    service = await startServer({
      model,
      port: 0,
      host: '127.0.0.1',
      maxBodyBytes: 1 << 20,
      batchMax: 10,
      token: 'a'.repeat(32),
    });
    for (let i = 0; i < 20; i++) assert.equal(await rawRequest(service.port, 'http://a:99999/health'), 400);
    assert.equal(service.inFlight, 0, 'bad targets leave the in-flight count');
    const health = await (await fetch(`${service.url}/health`)).json();
    assert.ok(
      !String(health.model).includes('/') && !String(health.run).includes('/'),
      JSON.stringify(health),
    );
    const event = JSON.stringify(fx.events[0]);
    const auth = { authorization: `Bearer ${'a'.repeat(32)}` };
    const noToken = await fetch(`${service.url}/score`, {
      method: 'POST',
      body: event,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(noToken.status, 401);
    assert.match(noToken.headers.get('www-authenticate') ?? '', /Bearer/);
    const wrong = await fetch(`${service.url}/score`, {
      method: 'POST',
      body: event,
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 401);
    const form = await fetch(`${service.url}/score`, {
      method: 'POST',
      body: event,
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 415);
    const ok = await fetch(`${service.url}/score`, {
      method: 'POST',
      body: event,
      headers: { ...auth, 'content-type': 'application/json' },
    });
    assert.equal(ok.status, 200);
    const deep = `{"events":[{"x":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
    const bomb = await fetch(`${service.url}/score`, { method: 'POST', body: deep, headers: auth });
    assert.equal(bomb.status, 400);
  } finally {
    if (service) await service.close();
    else await model.release();
  }
  assertOneLine(cli('serve', '--model', fx.runDir, '--host', '0.0.0.0', '--port', '0'), /OCSF_EMBED_TOKEN/);
});
