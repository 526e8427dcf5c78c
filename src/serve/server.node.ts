// The HTTP service on node:http: POST /embed, POST /score, POST /v1/logs (OTLP/HTTP JSON logs), GET /health,
// GET /metrics over one loaded model; bodies as JSON, JSON arrays or JSON lines, optionally gzip-compressed,
// with body limits, field-level validation errors, micro-batching of concurrent requests, Prometheus
// metrics and graceful shutdown.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { float32Number } from '../io/writers.node.ts';
import type { LoadedModel } from '../run/model.node.ts';
import { type BatchRunner, directRunner, MicroBatcher } from './batcher.ts';
import { ServiceMetrics } from './metrics.ts';
import { parseOtlpLogs } from './otlp.ts';
import { ScorePool } from './score-pool.node.ts';
import { type ScoreResult, scoreResults } from './score-results.node.ts';
import { type EventsRequest, isNdjsonType, parseEventsBody, RequestError } from './validate.ts';

export type { ScoreResult } from './score-results.node.ts';

const gunzipAsync = promisify(gunzip);

/** Options for {@link startServer}. */
export interface ServeOptions {
  model: LoadedModel;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  host: string;
  /** Largest request body in bytes (413 above). */
  maxBodyBytes: number;
  /** Most events in one batch request (413 above). */
  batchMax: number;
  /** Most events in one model call after micro-batching (default max(batchMax, 1024)). */
  modelBatchMax?: number;
  /**
   * Worker threads that score /score and /v1/logs batches on the CPU, each with its own copy of the run, so
   * that several micro-batches are scored at once (default 1: batches are scored one at a time on the
   * service's thread, where ONNX Runtime runs too). Other devices score on the service's thread.
   */
  scoreWorkers?: number;
  /**
   * Run concurrent requests together in one model call (default true). Off, each request makes its own
   * model calls, concurrently with the others.
   */
  microBatch?: boolean;
  /** How long shutdown waits for requests in flight before closing their connections (default 10 s). */
  shutdownTimeoutMs?: number;
  /** `POST /v1/logs` reads each log record's OCSF event from this attribute instead of its body. */
  otlpAttribute?: string;
  /** Where to report internal errors (default console.error). */
  log?: (line: string) => void;
  /**
   * Bearer token every request except GET /health must carry (`Authorization: Bearer <token>`, 401
   * otherwise). Required by the CLI for any address other than loopback.
   */
  token?: string;
}

/**
 * Scoring workers by default: two on a CPU host with three or more cores (ONNX Runtime runs a session on the
 * calling thread, so one thread scores on one core), one elsewhere: on two cores a second worker competes
 * with the service's own thread and its clients, and p99 latency rose (docs/decisions.md); a GPU serves one
 * batch at a time anyway.
 */
export function defaultScoreWorkers(device: string, cores = availableParallelism()): number {
  return device === 'cpu' && cores >= 3 ? 2 : 1;
}

/** True for loopback addresses (127.0.0.0/8, ::1, localhost), where the service may run without a token. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '::ffff:127.0.0.1';
}

/** True when `header` is `Bearer <token>`; compared in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1]!.trim()).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * Body media types the service reads as JSON (JSON lines types too, see {@link isNdjsonType}); a request
 * without Content-Type is read as JSON too. Content-Encoding (gzip) is separate from the type.
 */
const JSON_TYPES = /^\s*(application\/(json|[\w.+-]+\+json)|text\/plain)\s*(;|$)/i;

/** A listening service. */
export interface RunningServer {
  url: string;
  host: string;
  port: number;
  server: Server;
  metrics: ServiceMetrics;
  /** Requests being handled now. */
  readonly inFlight: number;
  /**
   * Graceful shutdown: stops accepting connections, answers the requests in flight (their connections then
   * close), releases the model. Idempotent.
   */
  close(): Promise<void>;
}

/** One warning for a request whose events all carry too few features, or null. */
function batchWarning(results: readonly ScoreResult[]): string | null {
  if (results.length === 0 || results.some((r) => !r.warning)) return null;
  return results[0]!.warning!;
}

/** One embedded event as the service answers it. */
export interface EmbedResult {
  uid: string | null;
  embedding: number[];
}

const ROUTES: Record<string, 'GET' | 'POST'> = {
  '/embed': 'POST',
  '/score': 'POST',
  '/v1/logs': 'POST',
  '/health': 'GET',
  '/metrics': 'GET',
};

const ROUTE_LIST = 'POST /embed, POST /score, POST /v1/logs, GET /health, GET /metrics';

/** Bytes drained from an oversized body before the connection is dropped. */
const DRAIN_LIMIT = 64 << 20;

/** Parses a size such as `1mb`, `512kb`, `64KiB` or `1048576` into bytes; NaN when it is not one. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return Number.isInteger(text) && text > 0 ? text : Number.NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const unit = (m[2] ?? 'b').toLowerCase();
  const scale = unit.startsWith('k')
    ? 1024
    : unit.startsWith('m')
      ? 1024 ** 2
      : unit.startsWith('g')
        ? 1024 ** 3
        : 1;
  const bytes = Math.floor(Number(m[1]) * scale);
  return bytes > 0 ? bytes : Number.NaN;
}

function formatBytes(n: number): string {
  if (n >= 1024 ** 2 && n % 1024 ** 2 === 0) return `${n / 1024 ** 2} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > limit + DRAIN_LIMIT) req.destroy();
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(
          new RequestError(
            413,
            `the body is over the limit of ${formatBytes(limit)}: send fewer events per request (or start the service with a larger --max-body)`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) =>
      reject(new RequestError(400, `the request failed while its body was read (${e.message})`)),
    );
    req.on('close', () => {
      if (!req.complete) reject(new RequestError(400, 'the request body was cut off before its end'));
    });
  });
}

/** The body as text, gunzipped when it says `Content-Encoding: gzip` (at most `limit` bytes once inflated). */
async function bodyText(req: IncomingMessage, limit: number): Promise<string> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'x-gzip') {
    throw new RequestError(
      415,
      `Content-Encoding ${encoding} is not supported: send the body uncompressed or gzip-compressed (Content-Encoding: gzip)`,
    );
  }
  const raw = await readBody(req, limit);
  if (encoding === 'identity') return raw.toString('utf8');
  try {
    return (await gunzipAsync(raw, { maxOutputLength: limit })).toString('utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new RequestError(
        413,
        `the body is over the limit of ${formatBytes(limit)} once decompressed: send fewer events per request (or start the service with a larger --max-body)`,
      );
    }
    throw new RequestError(
      400,
      `the body says Content-Encoding: gzip but is not valid gzip data (${(e as Error).message})`,
    );
  }
}

function queryFlag(search: URLSearchParams, name: string): boolean | undefined {
  const v = search.get(name);
  if (v === null) return undefined;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new RequestError(
    400,
    `query parameter ${name} must be true or false, got ${JSON.stringify(v)}`,
    name,
  );
}

/** Starts the service; resolves once it listens. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { model } = opts;
  const metrics = new ServiceMetrics();
  const log = opts.log ?? ((line: string) => console.error(line));
  const modelBatchMax = opts.modelBatchMax ?? Math.max(opts.batchMax, 1024);
  const pool =
    (opts.scoreWorkers ?? 1) > 1 && model.scoring && model.device === 'cpu'
      ? await ScorePool.start(
          model.location.runDir ?? model.location.modelPath,
          { ...model.openOptions, device: 'cpu', threads: model.threads, requireScorer: true },
          opts.scoreWorkers!,
        )
      : null;
  const runner = <O>(
    run: (events: object[]) => Promise<O[]>,
    operation: string,
    batches = 1,
  ): BatchRunner<object, O> => {
    const onBatch = (n: number) => metrics.batchSize.observe({ operation }, n);
    return opts.microBatch === false
      ? directRunner(run, onBatch)
      : new MicroBatcher(run, modelBatchMax, onBatch, batches);
  };
  const started = Date.now();
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | null = null;

  const scoreBatcher = pool
    ? runner<ScoreResult>((events) => pool.score(events), 'score', pool.size)
    : runner<ScoreResult>((events) => scoreResults(model, events), 'score');
  const embedBatcher = (normalized: boolean) =>
    runner<EmbedResult>(
      async (events) => {
        const d = model.dimension;
        const e = await model.embed(events, normalized);
        const uids = model.uidsOf(events);
        return events.map((_, i) => {
          const v = new Array<number>(d);
          for (let j = 0; j < d; j++) v[j] = float32Number(e[i * d + j]!);
          return { uid: uids[i]!, embedding: v };
        });
      },
      normalized ? 'embed_normalized' : 'embed',
    );
  const embedders = { raw: embedBatcher(false), normalized: embedBatcher(true) };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.statusCode = status;
    res.setHeader(
      'Content-Type',
      typeof body === 'string'
        ? 'text/plain; version=0.0.4; charset=utf-8'
        : 'application/json; charset=utf-8',
    );
    res.setHeader('Content-Length', Buffer.byteLength(text));
    if (closing) res.setHeader('Connection', 'close');
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.end(text);
  };

  const health = () => ({
    status: closing ? 'shutting_down' : 'ok',
    // File names only: the service does not tell clients where things live on the host.
    model: basename(model.location.modelPath),
    run: model.location.runDir ? basename(model.location.runDir) : null,
    dimension: model.dimension,
    device: model.device,
    score_workers: pool?.size ?? 1,
    scoring: model.scoring
      ? {
          method: model.scoring.scorer.method,
          threshold: model.scoring.scorer.threshold,
          reference_events: model.scoring.scorer.n,
        }
      : null,
    uptime_s: Math.round((Date.now() - started) / 1000),
    in_flight: inFlight - 1,
  });

  async function handleEvents(
    req: IncomingMessage,
    res: ServerResponse,
    route: '/embed' | '/score' | '/v1/logs',
    search: URLSearchParams,
  ): Promise<void> {
    const type = req.headers['content-type'];
    if (route === '/v1/logs' && type && /protobuf/i.test(type)) {
      throw new RequestError(
        415,
        "send OTLP logs JSON-encoded (Content-Type: application/json; the collector's otlphttp exporter: encoding: json), not protobuf",
      );
    }
    if (type && !JSON_TYPES.test(type) && !isNdjsonType(type)) {
      throw new RequestError(
        415,
        `send the body as JSON (Content-Type: application/json or application/x-ndjson), not ${type.split(';')[0]}`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > opts.maxBodyBytes) {
      throw new RequestError(
        413,
        `the body is over the limit of ${formatBytes(opts.maxBodyBytes)}: send fewer events per request (or start the service with a larger --max-body)`,
      );
    }
    if (route !== '/embed' && !model.scoring) {
      throw new RequestError(
        404,
        'this service has no scorer (it serves a model.onnx file): start it with --model <run-directory> to score',
      );
    }
    const normalizedQuery = route === '/embed' ? queryFlag(search, 'normalized') : undefined;
    const withResults = route === '/v1/logs' ? queryFlag(search, 'results') : undefined;
    const text = await bodyText(req, opts.maxBodyBytes);
    const scoreEvents = async (events: object[]) => {
      const results = events.length > 0 ? await scoreBatcher.submit(events) : [];
      let flagged = 0;
      for (const r of results) if (r.is_anomaly) flagged++;
      metrics.eventsScored.inc(results.length);
      metrics.anomalies.inc(flagged);
      return { results, flagged };
    };
    if (route === '/v1/logs') {
      const otlp = parseOtlpLogs(text, {
        batchMax: opts.batchMax,
        spec: model.embedder.spec,
        attribute: opts.otlpAttribute,
      });
      const { results, flagged } = await scoreEvents(otlp.events);
      const partial = otlp.rejected.length
        ? {
            partialSuccess: {
              rejectedLogRecords: String(otlp.rejected.length),
              errorMessage: `${otlp.rejected.length} log record(s) carried no usable OCSF event; first: ${otlp.rejected[0]!.error}`,
            },
          }
        : {};
      send(res, 200, withResults ? { ...partial, count: results.length, flagged, results } : partial);
      return;
    }
    const parsed: EventsRequest = parseEventsBody(text, {
      route: route === '/embed' ? 'embed' : 'score',
      batchMax: opts.batchMax,
      spec: model.embedder.spec,
      normalized: normalizedQuery,
      ndjson: isNdjsonType(type),
    });
    if (route === '/score') {
      const { results, flagged } = await scoreEvents(parsed.events);
      const warning = batchWarning(results);
      send(
        res,
        200,
        parsed.single ? results[0] : { count: results.length, flagged, ...(warning && { warning }), results },
      );
      return;
    }
    const results =
      parsed.events.length > 0
        ? await (parsed.normalized ? embedders.normalized : embedders.raw).submit(parsed.events)
        : [];
    metrics.eventsEmbedded.inc(results.length);
    send(
      res,
      200,
      parsed.single
        ? results[0]
        : { count: results.length, dimension: model.dimension, normalized: parsed.normalized, results },
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    inFlight++;
    metrics.inFlight.set(inFlight);
    let url: URL | null = null;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      // Answered below with 400; the request still counts and leaves the in-flight count.
    }
    const pathname = url?.pathname ?? '';
    const route = pathname in ROUTES ? pathname : 'other';
    const method = req.method ?? 'GET';
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      inFlight--;
      metrics.inFlight.set(inFlight);
      metrics.requests.inc({ method, route, status: String(res.statusCode) });
      metrics.latency.observe({ route }, (performance.now() - t0) / 1000);
      if (inFlight === 0) drained?.();
    };
    res.once('close', done);
    res.once('finish', done);
    try {
      if (!url) {
        throw new RequestError(
          400,
          `the request target ${JSON.stringify((req.url ?? '').slice(0, 100))} is not a valid path: use one of ${ROUTE_LIST}`,
        );
      }
      const expected = ROUTES[url.pathname];
      if (!expected) {
        throw new RequestError(404, `no route ${method} ${url.pathname}: this service answers ${ROUTE_LIST}`);
      }
      if (
        opts.token !== undefined &&
        route !== '/health' &&
        !bearerMatches(req.headers.authorization, opts.token)
      ) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="ocsf-embed"');
        throw new RequestError(
          401,
          'this service needs a token: send the header Authorization: Bearer <token>',
        );
      }
      if (method !== expected && !(expected === 'GET' && method === 'HEAD')) {
        res.setHeader('Allow', expected === 'GET' ? 'GET, HEAD' : 'POST');
        throw new RequestError(
          405,
          `${method} ${url.pathname} is not allowed: use ${expected} ${url.pathname}`,
        );
      }
      if (route === '/health') {
        send(res, closing ? 503 : 200, health());
      } else if (route === '/metrics') {
        send(res, 200, await metrics.render());
      } else {
        await handleEvents(req, res, route as '/embed' | '/score' | '/v1/logs', url.searchParams);
      }
    } catch (e) {
      if (e instanceof RequestError) {
        if (e.status === 413) res.setHeader('Connection', 'close');
        send(res, e.status, e.toJSON());
      } else {
        log(`error: ${method} ${pathname}: ${(e as Error)?.stack ?? String(e)}`);
        send(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
      }
      if (!req.complete) req.resume();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => log(`error: ${(e as Error)?.stack ?? String(e)}`));
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (err, socket) => {
    if (socket.writable && !(err as { code?: string }).code?.startsWith('ECONN')) {
      const body = JSON.stringify({ error: `bad HTTP request: ${err.message}` });
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | null = null;
  const close = () => {
    closed ??= (async () => {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        const timeout = opts.shutdownTimeoutMs ?? 10_000;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeout);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 1000);
      await serverClosed;
      clearTimeout(force);
      await Promise.all([scoreBatcher.idle(), embedders.raw.idle(), embedders.normalized.idle()]);
      await pool?.close();
      await model.release();
    })();
    return closed;
  };

  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    server,
    metrics,
    get inFlight() {
      return inFlight;
    },
    close,
  };
}
