// Headless Chromium for tests: find it (the system's, else the one from the npm registry), launch it,
// bundle a TypeScript entry for the browser with esbuild, serve files on 127.0.0.1, and run one of the
// entry's exported functions in a page.
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Debian's chromium package puts the browser; `CHROMIUM_PATH` overrides it. */
export const SYSTEM_CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Which Chromium the tests run, and where it came from. */
export interface FoundChromium {
  path: string;
  source: 'system' | 'npm';
}

/** The folder the npm registry's Chromium (@sparticuz/chromium) is unpacked into, one per version. */
export function npmChromiumDir(): string {
  const main = createRequire(import.meta.url).resolve('@sparticuz/chromium'); // <package>/build/index.js
  const { version } = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return join(tmpdir(), `ocsf-embed-chromium-${version}`);
}

/**
 * Unpacks @sparticuz/chromium (a dev dependency: a headless Chromium as Brotli archives) once: into a
 * private staging folder, then renamed into place, so test processes starting together never see half
 * a browser. Returns the executable.
 */
async function unpackNpmChromium(): Promise<string> {
  const dir = npmChromiumDir();
  const exe = join(dir, 'chromium');
  if (existsSync(exe)) return exe;
  const staging = mkdtempSync(join(tmpdir(), 'ocsf-embed-chromium-unpack-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = staging; // the package unpacks into os.tmpdir()
  try {
    const { default: Chromium } = await import('@sparticuz/chromium');
    await Chromium.executablePath();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process got there first
  }
  if (!existsSync(exe)) throw new Error(`@sparticuz/chromium did not unpack a browser into ${dir}`);
  return exe;
}

/** The system Chromium at `system` when it is there, else the npm registry's (unpacked on first use). */
export async function findChromium(system = SYSTEM_CHROMIUM): Promise<FoundChromium> {
  if (existsSync(system)) return { path: system, source: 'system' };
  return { path: await unpackNpmChromium(), source: 'npm' };
}

/** Flags for a quiet, offline headless Chromium. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Lets pages use WebGPU. Without a GPU, Chromium then offers its SwiftShader adapter (a CPU
 * implementation of WebGPU: correct, slow), even with `--disable-gpu`.
 */
export const WEBGPU_ARG = '--enable-unsafe-webgpu';

/** Launches headless Chromium (see {@link findChromium}), with WebGPU when `webgpu`. */
export async function launchChromium(
  system = SYSTEM_CHROMIUM,
  opts: { webgpu?: boolean } = {},
): Promise<Browser> {
  const { path } = await findChromium(system);
  const args = opts.webgpu ? [...CHROMIUM_ARGS, WEBGPU_ARG] : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: path, args });
}

/**
 * Bundles a TypeScript entry for the browser as an IIFE that puts the entry's exports on
 * `globalThis[globalName]`. Node-only imports fail the build, which keeps portable code honest.
 */
export async function bundleForBrowser(entry: string, globalName = '__entry'): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** A running static server. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves in-memory files (path → content) and, optionally, a directory on 127.0.0.1 at a free
 * port. `isolate` adds COOP/COEP headers so pages are cross-origin isolated (wasm threads).
 */
export async function serve(
  files: Record<string, string | Uint8Array>,
  opts: { dir?: string; isolate?: boolean } = {},
): Promise<Served> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const key = path === '/' ? '/index.html' : path;
    let body: string | Uint8Array | undefined = files[key] ?? files[key.slice(1)];
    if (body === undefined && opts.dir) {
      const full = normalize(join(opts.dir, key));
      if (full.startsWith(normalize(opts.dir)) && existsSync(full)) body = readFileSync(full);
    }
    const headers: Record<string, string> = {
      'content-type': TYPES[extname(key)] ?? 'application/octet-stream',
    };
    if (opts.isolate) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    if (body === undefined) {
      res.writeHead(404, headers).end('not found');
      return;
    }
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A page with a bundled entry loaded, and the means to call its exports. */
export interface EntryPage {
  page: Page;
  url: string;
  /** Calls `globalThis.__entry[fn](...args)` in the page and returns its (awaited) result. */
  call<T>(fn: string, ...args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

/**
 * Launches Chromium, bundles `entry`, serves it (with `files` and `dir` beside it) and opens a
 * page that has loaded it. Page errors and console errors are collected and thrown on `call`.
 */
export async function openEntryPage(
  entry: string,
  opts: {
    files?: Record<string, string | Uint8Array>;
    dir?: string;
    isolate?: boolean;
    webgpu?: boolean;
  } = {},
): Promise<EntryPage> {
  const js = await bundleForBrowser(entry);
  const html =
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>test</title><script src="/entry.js"></script>';
  const served = await serve({ ...opts.files, '/index.html': html, '/entry.js': js }, opts);
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  try {
    browser = await launchChromium(SYSTEM_CHROMIUM, { webgpu: opts.webgpu });
  } catch (e) {
    await served.close();
    throw e;
  }
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(served.url);
    await page.waitForFunction(() => (globalThis as { __entry?: unknown }).__entry !== undefined);
    return {
      page,
      url: served.url,
      async call<T>(fn: string, ...args: unknown[]): Promise<T> {
        const result = await page.evaluate(
          ([name, a]) => {
            const entry = (globalThis as unknown as { __entry: Record<string, (...x: unknown[]) => unknown> })
              .__entry;
            return entry[name as string]!(...(a as unknown[]));
          },
          [fn, args] as const,
        );
        if (errors.length > 0) throw new Error(`browser errors: ${errors.join('; ')}`);
        return result as T;
      },
      async close() {
        await browser.close();
        await served.close();
      },
    };
  } catch (e) {
    await browser.close();
    await served.close();
    throw e;
  }
}
