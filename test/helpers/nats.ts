// A real nats-server with JetStream for tests and the benchmark: found on the PATH (or installed with
// apt-get where the machine allows it, saying so), started on a free loopback port with a temporary store
// directory, and stopped with its directory removed.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

/** The one command that installs the server on Debian. */
export const INSTALL_COMMAND = 'apt-get update && apt-get install -y nats-server';

function findServer(): string | null {
  const which = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The nats-server binary. When it is missing and this process is root on a Debian-like system, installs
 * it with apt-get (running `apt-get update` first if the plain install fails) and says so; otherwise
 * throws with the command to run. Never skips.
 */
export function natsServerBinary(): string {
  const found = findServer();
  if (found) return found;
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) {
    throw new Error(
      `nats-server is not installed; the streaming tests need it: run \`sudo ${INSTALL_COMMAND}\``,
    );
  }
  console.error(
    'nats-server is missing: installing it with `apt-get install -y nats-server` (Debian package)',
  );
  const install = () =>
    spawnSync('apt-get', ['install', '-y', 'nats-server'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      encoding: 'utf8',
    });
  if (install().status !== 0) {
    execFileSync('apt-get', ['update'], { stdio: 'ignore' });
    const again = install();
    if (again.status !== 0) {
      throw new Error(
        `installing nats-server failed (${again.stderr.trim().split('\n').at(-1)}): run \`${INSTALL_COMMAND}\``,
      );
    }
  }
  const installed = findServer();
  if (!installed)
    throw new Error(`nats-server was installed but is not on the PATH: run \`${INSTALL_COMMAND}\``);
  return installed;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A running JetStream server. */
export interface NatsServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops the server and removes its store directory. */
  stop(): Promise<void>;
}

/** Starts `nats-server -js` on a free loopback port with a temporary store; resolves once clients connect. */
export async function startNatsServer(): Promise<NatsServer> {
  const bin = natsServerBinary();
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'ocsf-embed-nats-'));
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', store], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = `nats://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(store, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(store, { recursive: true, force: true });
      throw new Error(`nats-server exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    try {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.close();
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `nats-server did not accept connections on ${url} within 15 s: ${(e as Error).message}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { url, port, process: child, stop };
}

/** Connects a client to the server. */
export function natsClient(server: NatsServer): Promise<NatsConnection> {
  return connect({ servers: server.url });
}

/**
 * Publishes payloads to JetStream subjects with at most `window` publishes awaiting their acknowledgement,
 * so that a loaded machine does not time out thousands of outstanding publishes.
 */
export async function publishAll(
  js: JetStreamClient,
  messages: Iterable<{ subject: string; data: string | Uint8Array }>,
  window = 256,
): Promise<number> {
  const pending = new Set<Promise<unknown>>();
  let n = 0;
  for (const m of messages) {
    const p: Promise<unknown> = js
      .publish(m.subject, m.data, { timeout: 30_000 })
      .finally(() => pending.delete(p));
    pending.add(p);
    n++;
    if (pending.size >= window) await Promise.race(pending);
  }
  await Promise.all(pending);
  return n;
}
