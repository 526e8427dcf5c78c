// `ocsf-embed serve`: the options table, its checks, and running the HTTP service until SIGINT/SIGTERM.
import type { CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { LoadedModel } from '../../run/model.node.ts';
import type { Device } from '../../runtime/session.node.ts';
import { defaultScoreWorkers, isLoopback, parseSize, startServer } from '../../serve/server.node.ts';
import { checkThresholdPercentile, SHARED_OPTIONS, THRESHOLD_OPTIONS } from '../options.ts';

/** The service's default port (the browser page's `npm run web` uses another, 8090). */
export const SERVE_PORT = 8080;

/** Parsed arguments of `ocsf-embed serve`. */
export interface ServeArgs {
  model?: string;
  port: number;
  host: string;
  'max-body': string;
  'batch-max': number;
  device: Device;
  threads?: number;
  'shutdown-timeout': number;
  'micro-batch': boolean;
  'score-workers'?: number;
  'otlp-attribute'?: string;
  token?: string;
  'threshold-percentile'?: number;
}

/** The environment variable that holds the service's bearer token (kept out of the process list). */
export const TOKEN_ENV = 'OCSF_EMBED_TOKEN';

/** The bearer token: --token, else $OCSF_EMBED_TOKEN; checked for length and required off loopback. */
export function serviceToken(a: ServeArgs, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = a.token ?? env[TOKEN_ENV] ?? undefined;
  if (token !== undefined && token.length < 16) {
    throw new UserError(
      `the token must be at least 16 characters; make one with \`openssl rand -hex 32\` and pass it in $${TOKEN_ENV}`,
    );
  }
  if (token === undefined && !isLoopback(a.host)) {
    throw new UserError(
      `--host ${a.host} is reachable from other machines: set a bearer token in $${TOKEN_ENV} (or --token), e.g. ${TOKEN_ENV}=$(openssl rand -hex 32), and put TLS in front (docs/serving.md)`,
    );
  }
  return token;
}

/** Checks every flag; each error says what to type instead. */
export function checkServeArgs(a: ServeArgs): void {
  if (!a.model) throw new UserError('give the run to serve with --model, e.g. --model runs/first');
  checkThresholdPercentile(a['threshold-percentile']);
  if (!(Number.isInteger(a.port) && a.port >= 0 && a.port <= 65535))
    throw new UserError(
      '--port must be a whole number from 0 to 65535, e.g. --port 8080 (0 picks a free port)',
    );
  if (!a.host) throw new UserError('--host must name an interface, e.g. --host 127.0.0.1');
  if (!(parseSize(a['max-body']) > 0))
    throw new UserError(
      '--max-body must be a size such as 1mb, 512kb or 1048576 (bytes), e.g. --max-body 1mb',
    );
  if (!(Number.isInteger(a['batch-max']) && a['batch-max'] >= 1))
    throw new UserError('--batch-max must be a whole number ≥ 1, e.g. --batch-max 1000');
  if (a.threads !== undefined && !(Number.isInteger(a.threads) && a.threads >= 1))
    throw new UserError('--threads must be a whole number ≥ 1, e.g. --threads 2');
  if (a['score-workers'] !== undefined && !(Number.isInteger(a['score-workers']) && a['score-workers'] >= 1))
    throw new UserError('--score-workers must be a whole number ≥ 1, e.g. --score-workers 2');
  if (a['otlp-attribute'] !== undefined && a['otlp-attribute'].trim() === '')
    throw new UserError('--otlp-attribute must name a log attribute, e.g. --otlp-attribute ocsf');
  if (!(a['shutdown-timeout'] >= 0))
    throw new UserError('--shutdown-timeout must be a number of seconds ≥ 0, e.g. --shutdown-timeout 10');
  serviceToken(a);
}

export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe:
    'Serve a trained run over HTTP: POST /embed, POST /score, POST /v1/logs (OTLP JSON), GET /health, GET /metrics',
  builder: (y) =>
    y
      .options({
        model: {
          ...SHARED_OPTIONS.model,
          describe: 'run directory (model.onnx + scorer); a bare model.onnx serves /embed only',
        },
        port: { type: 'number', default: SERVE_PORT, describe: 'TCP port (0 picks a free one)' },
        host: { type: 'string', default: '127.0.0.1', describe: 'interface to listen on (0.0.0.0 for all)' },
        'max-body': { type: 'string', default: '1mb', describe: 'largest request body (413 above)' },
        'batch-max': {
          type: 'number',
          default: 1000,
          describe: 'most events in one batch request (413 above)',
        },
        device: {
          ...SHARED_OPTIONS.device,
          default: 'cpu' as Device,
          describe: 'ONNX Runtime device for the embedding model (cpu: single events are fastest there)',
        },
        threads: SHARED_OPTIONS.threads,
        ...THRESHOLD_OPTIONS,
        'micro-batch': {
          type: 'boolean',
          default: true,
          describe: 'run concurrent requests together in one model call (--no-micro-batch: each on its own)',
        },
        'score-workers': {
          type: 'number',
          describe:
            'worker threads that score batches side by side, each with its own copy of the run (default: 2 on a CPU with 3 or more cores, else 1)',
        },
        'otlp-attribute': {
          type: 'string',
          describe:
            "POST /v1/logs: read each log record's OCSF event from this attribute (default: the record body)",
        },
        'shutdown-timeout': {
          type: 'number',
          default: 10,
          describe: 'seconds to let requests in flight finish on SIGINT/SIGTERM',
        },
        token: {
          type: 'string',
          describe: `bearer token clients must send (default $${TOKEN_ENV}); required off loopback`,
        },
      })
      .example('$0 serve -m runs/first', 'listen on http://127.0.0.1:8080')
      .example(
        "curl -s localhost:8080/score -H 'content-type: application/json' -d @event.json",
        'score one event',
      )
      .example(
        "gzip -c events.jsonl | curl -s localhost:8080/score -H 'content-type: application/x-ndjson' -H 'content-encoding: gzip' --data-binary @-",
        'score a gzip-compressed JSON-lines batch (what log shippers send)',
      )
      .check((a) => {
        checkServeArgs(a as unknown as ServeArgs);
        return true;
      }),
  handler: async (a) => {
    const model = await LoadedModel.open(a.model!, {
      device: a.device,
      threads: a.threads,
      thresholdPercentile: a['threshold-percentile'],
    });
    if (model.notice) console.error(`note: ${model.notice}`);
    let running: Awaited<ReturnType<typeof startServer>>;
    try {
      running = await startServer({
        model,
        port: a.port,
        host: a.host,
        maxBodyBytes: parseSize(a['max-body']),
        batchMax: a['batch-max'],
        shutdownTimeoutMs: a['shutdown-timeout'] * 1000,
        microBatch: a['micro-batch'],
        scoreWorkers: a['score-workers'] ?? defaultScoreWorkers(model.device),
        otlpAttribute: a['otlp-attribute'],
        token: serviceToken(a),
      });
    } catch (e) {
      await model.release();
      const code = (e as { code?: string }).code;
      if (code === 'EADDRINUSE')
        throw new UserError(
          `port ${a.port} on ${a.host} is in use: pick another with --port, e.g. --port 8081`,
        );
      if (code === 'EACCES')
        throw new UserError(
          `no permission to listen on port ${a.port}: use a port above 1023, e.g. --port 8080`,
        );
      if (code === 'EADDRNOTAVAIL')
        throw new UserError(`${a.host} is not an address of this machine: use e.g. --host 127.0.0.1`);
      throw e;
    }
    const scoring = model.scoring
      ? `scorer ${model.scoring.scorer.method} (threshold ${model.scoring.scorer.threshold.toFixed(4)}, ${model.scoring.scorer.n} reference events)`
      : 'no scorer: /embed only';
    console.log(
      `listening on ${running.url} (model ${model.location.modelPath}, dimension ${model.dimension}, ${scoring}, device ${model.device})`,
    );
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
        stopping = true;
        console.log(`${signal}: shutting down, finishing ${running.inFlight} request(s) in flight`);
        running.close().then(resolve, (e) => {
          console.error(`error while shutting down: ${(e as Error).message}`);
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    console.log('stopped');
  },
};
