// `ocsf-embed consume`: the options table, its checks, and running one stream worker (a durable JetStream
// pull consumer scoring against a run) until SIGINT/SIGTERM, which drain it.
import { existsSync, statSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { findingContextOf } from '../../detect/findings.node.ts';
import { LoadedModel } from '../../run/model.node.ts';
import { DEVICES, type Device } from '../../runtime/session.node.ts';
import { parseSize } from '../../serve/server.node.ts';
import { type ConsumeSummary, defaultWorkerId, runConsumer } from '../../stream/consumer.node.ts';
import { StreamMetrics, serveMetrics } from '../../stream/metrics.node.ts';
import {
  findingLines,
  JsonlFileSink,
  ParquetPartSink,
  type Sink,
  SubjectSink,
  scoreLines,
} from '../../stream/sinks.node.ts';
import { WEBHOOK_FORMATS, type WebhookFormat, WebhookSink } from '../../stream/webhook.ts';
import { checkThresholdPercentile, THRESHOLD_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed consume`. */
export interface ConsumeArgs {
  model?: string;
  server: string;
  stream: string;
  consumer: string;
  subject?: string;
  'batch-size': number;
  'max-in-flight': number;
  'ack-wait': number;
  'flush-interval': number;
  out?: string;
  format: 'jsonl' | 'parquet';
  'findings-out'?: string;
  'findings-subject'?: string;
  rotate: string;
  'dead-letter-subject': string;
  'create-streams': boolean;
  webhook?: string;
  'webhook-format': WebhookFormat;
  'webhook-timeout': number;
  'webhook-queue': number;
  'metrics-port'?: number;
  'metrics-host': string;
  'worker-id'?: string;
  device: Device;
  threads?: number;
  'threshold-percentile'?: number;
  quiet: boolean;
}

const SUBJECT = /^[^\s*>]+(\.[^\s*>]+)*$/;
const FILTER = /^([^\s.*>]+|\*)(\.([^\s.*>]+|\*))*(\.>)?$|^>$/;

function wholeAtLeast(v: number, min: number): boolean {
  return Number.isInteger(v) && v >= min;
}

function checkFolder(flag: string, dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new UserError(
      `${flag} ${dir} is a file; give a folder for the rotated files, e.g. ${flag} out/scores`,
    );
}

/** Checks every flag; each error says what to type instead. */
export function checkConsumeArgs(a: ConsumeArgs): void {
  if (!a.model) throw new UserError('give the run to score against with --model, e.g. --model runs/first');
  checkThresholdPercentile(a['threshold-percentile']);
  if (!a.out && !a['findings-out'] && !a['findings-subject'])
    throw new UserError(
      'say where results go: --out <folder> (score rows), --findings-out <folder> and/or --findings-subject <subject>',
    );
  if (!/^[A-Za-z0-9_-]+$/.test(a.stream))
    throw new UserError(
      `--stream ${a.stream}: a stream name holds letters, digits, - and _ only, e.g. --stream OCSF`,
    );
  if (!/^[A-Za-z0-9_-]+$/.test(a.consumer))
    throw new UserError(
      `--consumer ${a.consumer}: a consumer name holds letters, digits, - and _ only, e.g. --consumer scorers`,
    );
  if (a.subject !== undefined && !FILTER.test(a.subject))
    throw new UserError(`--subject ${a.subject} is not a subject filter, e.g. --subject 'ocsf.>'`);
  for (const flag of ['dead-letter-subject', 'findings-subject'] as const) {
    const v = a[flag];
    if (v !== undefined && !SUBJECT.test(v))
      throw new UserError(
        `--${flag} ${v} must be a plain subject (no wildcards), e.g. --${flag} ocsf-embed.${flag === 'findings-subject' ? 'findings' : 'dead-letter'}`,
      );
  }
  if (!wholeAtLeast(a['batch-size'], 1))
    throw new UserError('--batch-size must be a whole number ≥ 1, e.g. --batch-size 256');
  if (!wholeAtLeast(a['max-in-flight'], a['batch-size']))
    throw new UserError(
      `--max-in-flight must be a whole number ≥ --batch-size (${a['batch-size']}), e.g. --max-in-flight ${a['batch-size'] * 4}`,
    );
  if (!(a['ack-wait'] > 0))
    throw new UserError('--ack-wait must be a number of seconds > 0, e.g. --ack-wait 30');
  if (!(a['flush-interval'] > 0 && a['flush-interval'] * 2 < a['ack-wait']))
    throw new UserError(
      `--flush-interval must be > 0 seconds and under half of --ack-wait (${a['ack-wait']} s), so results are acknowledged before the server redelivers them, e.g. --flush-interval 1`,
    );
  if (!(parseSize(a.rotate) > 0))
    throw new UserError('--rotate must be a size such as 64mb or 1gb, e.g. --rotate 64mb');
  if (a.out) checkFolder('--out', a.out);
  if (a['findings-out']) checkFolder('--findings-out', a['findings-out']);
  if (a.webhook !== undefined && !/^https?:\/\/[^\s]+$/.test(a.webhook))
    throw new UserError(
      `--webhook ${a.webhook} is not an http(s) URL, e.g. --webhook http://alertmanager:9093/api/v2/alerts`,
    );
  if (!(a['webhook-timeout'] > 0))
    throw new UserError('--webhook-timeout must be a number of seconds > 0, e.g. --webhook-timeout 5');
  if (!wholeAtLeast(a['webhook-queue'], 1))
    throw new UserError('--webhook-queue must be a whole number ≥ 1, e.g. --webhook-queue 10000');
  if (a['metrics-port'] !== undefined && !(wholeAtLeast(a['metrics-port'], 0) && a['metrics-port'] <= 65535))
    throw new UserError('--metrics-port must be a whole number from 0 to 65535, e.g. --metrics-port 9464');
  if (a['worker-id'] !== undefined && !/^[A-Za-z0-9_.-]+$/.test(a['worker-id']))
    throw new UserError('--worker-id holds letters, digits, ., - and _ only, e.g. --worker-id scorer-1');
  if (a.threads !== undefined && !wholeAtLeast(a.threads, 1))
    throw new UserError('--threads must be a whole number ≥ 1, e.g. --threads 2');
}

/** The summary line printed when a worker stops. */
export function formatConsumeSummary(s: ConsumeSummary): string {
  return `stopped: consumed ${s.consumed} messages (${s.redelivered} redelivered) in ${s.seconds.toFixed(1)} s: ${s.scored} scored, ${s.flagged} flagged, ${s.deadLettered} dead-lettered, ${s.acked} acknowledged`;
}

export const consumeCommand: CommandModule<object, ConsumeArgs> = {
  command: 'consume',
  describe:
    'Score OCSF events from a NATS JetStream stream (a durable consumer shared by any number of workers); findings out',
  builder: (y) =>
    y
      .options({
        model: {
          type: 'string',
          alias: 'm',
          describe: 'run directory (model.onnx, reference embeddings, scorer)',
        },
        server: {
          type: 'string',
          default: 'nats://127.0.0.1:4222',
          describe: 'NATS server URL(s), comma-separated',
        },
        stream: { type: 'string', default: 'OCSF', describe: 'JetStream stream holding the events' },
        consumer: {
          type: 'string',
          default: 'ocsf-embed',
          describe: 'durable consumer name: workers with the same name split the stream',
        },
        subject: {
          type: 'string',
          describe: "subject filter of the consumer (default: all the stream's subjects)",
        },
        'batch-size': {
          type: 'number',
          default: 256,
          describe: 'messages per fetch and per model call at most',
        },
        'max-in-flight': {
          type: 'number',
          default: 1024,
          describe: 'messages delivered to this worker and not yet acknowledged, at most (backpressure)',
        },
        'ack-wait': {
          type: 'number',
          default: 30,
          describe:
            'seconds before the server redelivers an unacknowledged message (set when the consumer is created)',
        },
        'flush-interval': {
          type: 'number',
          default: 1,
          describe: 'seconds results may wait before being made durable and acknowledged',
        },
        out: {
          type: 'string',
          alias: 'o',
          describe: 'folder for the score rows of every event (rotated files)',
        },
        format: {
          choices: ['jsonl', 'parquet'] as const,
          default: 'jsonl' as const,
          describe: '--out file format (parquet: one part file per flush)',
        },
        'findings-out': {
          type: 'string',
          describe: 'folder for OCSF Detection Findings as JSON lines (rotated files)',
        },
        'findings-subject': {
          type: 'string',
          describe: 'publish each finding to this JetStream subject (deduplicated by finding uid)',
        },
        rotate: { type: 'string', default: '64mb', describe: 'start a new JSON-lines file past this size' },
        'dead-letter-subject': {
          type: 'string',
          default: 'ocsf-embed.dead-letter',
          describe: 'JetStream subject for malformed messages, with the reason in headers',
        },
        'create-streams': {
          type: 'boolean',
          default: false,
          describe:
            'create missing streams: the input (subjects: --subject), dead-letter and findings streams',
        },
        webhook: {
          type: 'string',
          describe: 'POST findings to this URL in batches (retries, bounded queue)',
        },
        'webhook-format': {
          choices: WEBHOOK_FORMATS,
          default: 'json' as WebhookFormat,
          describe: 'json: {"findings": [...]}; alertmanager: the /api/v2/alerts array',
        },
        'webhook-timeout': { type: 'number', default: 5, describe: 'seconds per webhook request' },
        'webhook-queue': {
          type: 'number',
          default: 10000,
          describe: 'findings waiting for the webhook at most',
        },
        'metrics-port': {
          type: 'number',
          describe: 'serve Prometheus metrics at http://<metrics-host>:<port>/metrics (0: a free port)',
        },
        'metrics-host': {
          type: 'string',
          default: '127.0.0.1',
          describe: 'interface for the metrics listener',
        },
        'worker-id': { type: 'string', describe: 'name of this worker in file names (default: host-pid)' },
        device: { choices: DEVICES, default: 'cpu' as Device, describe: 'ONNX Runtime device' },
        threads: { type: 'number', describe: 'intra-op threads (default: 1 on 2-core hosts)' },
        ...THRESHOLD_OPTIONS,
        quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print only errors' },
      })
      .example(
        "$0 consume --model runs/first --subject 'ocsf.>' --create-streams --out scores/ --findings-subject ocsf-embed.findings",
        'one worker; start more with the same --consumer to split the stream',
      )
      .example(
        '$0 consume --model runs/first --stream OCSF --findings-out findings/ --webhook http://alertmanager:9093/api/v2/alerts --webhook-format alertmanager',
        'findings to files and to Alertmanager',
      )
      .check((a) => {
        checkConsumeArgs(a as unknown as ConsumeArgs);
        return true;
      }),
  handler: async (a) => {
    checkConsumeArgs(a);
    const say = (line: string) => {
      if (!a.quiet) console.log(line);
    };
    const log = (line: string) => console.error(line);
    const model = await LoadedModel.open(a.model!, {
      device: a.device,
      threads: a.threads,
      requireScorer: true,
      thresholdPercentile: a['threshold-percentile'],
    });
    if (model.notice && !a.quiet) console.error(`note: ${model.notice}`);
    const scorer = model.scoring!.scorer;
    const worker = a['worker-id'] ?? defaultWorkerId();
    const metrics = new StreamMetrics();
    const rotate = parseSize(a.rotate);
    const sinks: Sink[] = [];
    if (a.out) {
      sinks.push(
        a.format === 'parquet'
          ? new ParquetPartSink(a.out, worker, {
              'ocsf-embed.run': model.location.runDir ?? '',
              'ocsf-embed.method': scorer.method,
              'ocsf-embed.threshold': String(scorer.threshold),
            })
          : new JsonlFileSink('scores', a.out, 'scores', worker, rotate, scoreLines),
      );
    }
    if (a['findings-out']) {
      sinks.push(new JsonlFileSink('findings', a['findings-out'], 'findings', worker, rotate, findingLines));
    }
    const subject = a['findings-subject'];
    const webhook = a.webhook
      ? new WebhookSink({
          url: a.webhook,
          format: a['webhook-format'],
          timeoutMs: a['webhook-timeout'] * 1000,
          queueMax: a['webhook-queue'],
          onOutcome: (outcome, n) => metrics.webhook.inc({ outcome }, n),
          log,
        })
      : undefined;
    const listener =
      a['metrics-port'] !== undefined
        ? await serveMetrics(metrics, a['metrics-host'], a['metrics-port'])
        : null;
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
      say(`${signal}: draining (no new messages; finishing, writing and acknowledging those in flight)`);
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    say(
      `consuming ${a.stream}/${a.consumer}${a.subject ? ` (${a.subject})` : ''} from ${a.server} as ${worker}: batches of ${a['batch-size']}, at most ${a['max-in-flight']} in flight; scorer ${scorer.method} (threshold ${scorer.threshold.toFixed(4)})${listener ? `; metrics at ${listener.url}` : ''}`,
    );
    try {
      const summary = await runConsumer(
        {
          servers: a.server,
          stream: a.stream,
          consumer: a.consumer,
          filterSubject: a.subject,
          batchSize: a['batch-size'],
          maxInFlight: a['max-in-flight'],
          ackWaitMs: a['ack-wait'] * 1000,
          flushIntervalMs: a['flush-interval'] * 1000,
          deadLetterSubject: a['dead-letter-subject'],
          createStreams: a['create-streams'],
          findingsSubject: subject,
          workerId: worker,
        },
        {
          model,
          findings: findingContextOf(model.location.modelPath, model.location.runDir, scorer),
          sinks,
          subjectSink: subject ? (js) => new SubjectSink(js, subject) : undefined,
          webhook,
          metrics,
          log,
        },
        stop.signal,
      );
      await webhook?.close(a['webhook-timeout'] * 1000);
      say(formatConsumeSummary(summary));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await listener?.close();
      await model.release();
    }
  },
};
