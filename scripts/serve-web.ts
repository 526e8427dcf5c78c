// `npm run web`: a small static file server for the browser page on 127.0.0.1, with the COOP/COEP headers
// that make the page cross-origin isolated so onnxruntime-web can use wasm threads.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The page's folder. */
const WEB_DIR = resolve(import.meta.dirname, '..', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers every response carries: cross-origin isolation (wasm threads) and no caching of stale builds. */
export const ISOLATION_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-cache',
} as const;

/** The page's default port: not `ocsf-embed serve`'s 8080, so the page and the service can run side by side. */
export const WEB_PORT = 8090;

/** Options for {@link serveWeb}. */
export interface ServeWebOptions {
  /** Folder to serve (default web/). */
  root?: string;
  /** Port (default {@link WEB_PORT}; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
}

/** A running server. */
export interface WebServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** The file under `root` that a request path names (`/` → index.html), or null outside `root`. */
export function resolvePath(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const full = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
  return full === root || full.startsWith(root + sep) ? full : null;
}

/** Serves `root` as static files (GET and HEAD only). */
export async function serveWeb(options: ServeWebOptions = {}): Promise<WebServer> {
  const root = resolve(options.root ?? WEB_DIR);
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const headers: Record<string, string> = { ...ISOLATION_HEADERS };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    let file = resolvePath(root, url.pathname);
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    headers['content-type'] = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    headers['content-length'] = String(statSync(file).size);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? WEB_PORT, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.PORT ?? String(WEB_PORT) },
      root: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      `Usage: npm run web [-- --port ${WEB_PORT}] [-- --root web]\n\nBuilds the page and serves it on http://127.0.0.1:<port>/ with COOP/COEP headers (wasm threads).`,
    );
    return;
  }
  const root = resolve(values.root ?? WEB_DIR);
  if (!existsSync(join(root, 'dist', 'main.js'))) {
    throw new Error(
      `${join(root, 'dist', 'main.js')} is missing: build the page first with \`npm run build:web\``,
    );
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `--port must be a whole number from 0 to 65535, e.g. --port ${WEB_PORT} (got ${values.port})`,
    );
  }
  const served = await serveWeb({ root, port }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EADDRINUSE')
      throw new Error(`port ${port} is in use: choose another, e.g. npm run web -- --port 8081`);
    throw e;
  });
  console.log(`ocsf-embed page: ${served.url}  (serving ${root}; Ctrl-C to stop)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
