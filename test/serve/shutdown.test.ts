// `ocsf-embed serve` as a process: graceful shutdown on SIGTERM (a request in flight is answered, new
// connections are refused, exit code 0) and on SIGINT when idle.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

let fx: RunFixture;

before(() => {
  fx = makeRunFixture({ prefix: 'ocsf-embed-shutdown-' });
});

after(() => fx?.cleanup());

interface Service {
  child: ChildProcess;
  url: URL;
  output: () => string;
  exited: Promise<number | null>;
}

async function startService(): Promise<Service> {
  const child = spawn(process.execPath, [CLI, 'serve', '--model', fx.runDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  for (let i = 0; i < 300 && !/listening on http:\/\/\S+/.test(out); i++) await sleep(50);
  const m = /listening on (http:\/\/\S+)/.exec(out);
  assert.ok(m, `the service did not start: ${out}`);
  return { child, url: new URL(m[1]!), output: () => out, exited };
}

function connectionRefused(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path: '/health' }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on('error', (e) => resolve((e as { code?: string }).code === 'ECONNREFUSED'));
    req.end();
  });
}

test('SIGTERM: stops accepting, answers the request in flight, exits 0', async () => {
  const s = await startService();
  const body = JSON.stringify({ events: fx.events.slice(0, 50) });
  const half = Math.floor(body.length / 2);
  const response = new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        {
          host: s.url.hostname,
          port: s.url.port,
          path: '/score',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, half));
      setTimeout(() => {
        s.child.kill('SIGTERM');
        setTimeout(async () => {
          try {
            assert.equal(s.child.exitCode, null, 'still running while a request is in flight');
            assert.ok(await connectionRefused(s.url), 'new connections are refused');
            req.end(body.slice(half));
          } catch (e) {
            reject(e);
          }
        }, 400);
      }, 300);
    },
  );
  const r = await response;
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers.connection, 'close');
  assert.equal((JSON.parse(r.body) as { count: number }).count, 50);
  assert.equal(await s.exited, 0, s.output());
  assert.match(s.output(), /SIGTERM: shutting down, finishing 1 request\(s\) in flight/);
  assert.match(s.output(), /stopped/);
});

test('SIGINT when idle (with a kept-alive connection open) exits 0 promptly', async () => {
  const s = await startService();
  const res = await fetch(new URL('/health', s.url), { keepalive: true });
  assert.equal(res.status, 200);
  await res.json();
  const t0 = performance.now();
  s.child.kill('SIGINT');
  assert.equal(await s.exited, 0, s.output());
  assert.ok(performance.now() - t0 < 5000, 'exits within 5 s');
  assert.match(s.output(), /SIGINT: shutting down, finishing 0 request\(s\) in flight/);
});
