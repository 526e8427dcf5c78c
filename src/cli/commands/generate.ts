// The `generate` command: writes synthetic OCSF events with labelled anomalies to JSONL or Parquet.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import {
  DEFAULT_ANOMALY_RATE,
  DEFAULT_HOURS,
  DEFAULT_START,
  MAX_ANOMALY_RATE,
  MAX_HOURS,
  PROFILES,
  type Profile,
  SCENARIOS,
} from '../../data/generate/index.ts';
import {
  defaultLabelsPath,
  formatFromPath,
  type OutputFormat,
  writeGenerated,
} from '../../data/generate-writer.ts';
import { SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed generate`. */
export interface GenerateArgs {
  events: number;
  seed: number;
  worldSeed?: number;
  out: string;
  labels?: string;
  format?: OutputFormat;
  start: string;
  hours: number;
  anomalyRate: number;
  profile?: Profile;
  quiet: boolean;
}

function checkDir(flag: string, path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(
      `${flag} ${path}: folder ${dir} does not exist; create it first (mkdir -p ${dir}) or pick another path`,
    );
  if (existsSync(path) && statSync(path).isDirectory())
    throw new UserError(
      `${flag} ${path} is a folder; give a file name, e.g. ${flag} ${path.replace(/\/+$/, '')}/events.jsonl`,
    );
}

function parseStart(raw: string): number {
  const s = raw.trim();
  const t = /^\d+$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
  if (!Number.isFinite(t))
    throw new UserError(
      `--start must be an ISO 8601 date-time or epoch milliseconds, e.g. --start ${DEFAULT_START}`,
    );
  return t;
}

/** Checks the arguments and turns bad values into messages that say what to pass instead. */
export function validateGenerateArgs(a: GenerateArgs): {
  format: OutputFormat;
  labels: string;
  start: number;
} {
  if (!Number.isSafeInteger(a.events) || a.events <= 0)
    throw new UserError('--events must be a positive whole number, e.g. --events 72000');
  if (!Number.isSafeInteger(a.seed) || a.seed < 0)
    throw new UserError('--seed must be a whole number 0 or above, e.g. --seed 1');
  if (a.worldSeed !== undefined && (!Number.isSafeInteger(a.worldSeed) || a.worldSeed < 0))
    throw new UserError('--world-seed must be a whole number 0 or above, e.g. --world-seed 1');
  if (!Number.isFinite(a.hours) || a.hours <= 0 || a.hours > MAX_HOURS)
    throw new UserError(
      `--hours must be a number of hours above 0 and at most ${MAX_HOURS}, e.g. --hours 24`,
    );
  if (!Number.isFinite(a.anomalyRate) || a.anomalyRate < 0 || a.anomalyRate > MAX_ANOMALY_RATE) {
    const hint =
      a.anomalyRate > 1 && a.anomalyRate <= 50
        ? ` (a percentage? ${a.anomalyRate}% is --anomaly-rate ${a.anomalyRate / 100})`
        : '';
    throw new UserError(
      `--anomaly-rate must be a fraction between 0 and ${MAX_ANOMALY_RATE}, e.g. --anomaly-rate 0.02${hint}`,
    );
  }
  const start = parseStart(a.start);
  if (!a.out || typeof a.out !== 'string')
    throw new UserError('--out needs a file name, e.g. --out events.jsonl');
  const implied = formatFromPath(a.out);
  if (a.format && implied && a.format !== implied)
    throw new UserError(
      `--format ${a.format} does not match --out ${a.out}; name the file *.${a.format} or leave out --format`,
    );
  if (!a.format && !implied)
    throw new UserError(
      `--out ${a.out}: unknown file type; end it in .jsonl, .jsonl.gz or .parquet, or pass --format jsonl|parquet`,
    );
  const format = a.format ?? implied!;
  const labels = a.labels ?? defaultLabelsPath(a.out, format);
  if (!formatFromPath(labels))
    throw new UserError(`--labels ${labels}: unknown file type; end it in .jsonl, .jsonl.gz or .parquet`);
  if (resolve(labels) === resolve(a.out))
    throw new UserError('--labels must differ from --out, e.g. --labels labels.jsonl');
  checkDir('--out', a.out);
  checkDir('--labels', labels);
  return { format, labels, start };
}

const nf = new Intl.NumberFormat('en-US');

/** `ocsf-embed generate`: synthetic OCSF events of a small web application, with labelled anomalies. */
export const generateCommand: CommandModule<object, GenerateArgs> = {
  command: 'generate',
  describe: 'Write synthetic OCSF events with labelled anomalies (JSONL or Parquet)',
  builder: (y: Argv<object>) =>
    y
      .option('events', { alias: 'n', type: 'number', default: 72000, describe: 'Number of events to write' })
      .option('seed', {
        type: 'number',
        default: 1,
        describe: 'Random seed; same seed and options give identical files',
      })
      .option('world-seed', {
        type: 'number',
        describe:
          'Seed of the organisation (users, hosts, services; default: --seed); keep it and change --seed and --start for a later window of the same organisation',
      })
      .option('out', {
        ...SHARED_OPTIONS.out,
        demandOption: 'Give --out, e.g. --out events.jsonl',
        describe: 'Events file (.jsonl, .jsonl.gz or .parquet)',
      })
      .option('labels', {
        type: 'string',
        describe: 'Labels file keyed by metadata.uid (default: beside --out, e.g. events.labels.jsonl)',
      })
      .option('format', {
        choices: ['jsonl', 'parquet'] as const,
        describe: 'Events format (default: from the --out extension)',
      })
      .option('start', {
        type: 'string',
        default: DEFAULT_START,
        describe: 'Start of the time window (ISO 8601 or epoch ms)',
      })
      .option('hours', {
        type: 'number',
        default: DEFAULT_HOURS,
        describe: 'Length of the time window in hours',
      })
      .option('anomaly-rate', {
        type: 'number',
        default: DEFAULT_ANOMALY_RATE,
        describe: `Fraction of events that are anomalous (0 to ${MAX_ANOMALY_RATE})`,
      })
      .option('profile', {
        choices: PROFILES,
        default: 'ocsf' as Profile,
        describe: 'Shape of the data: ocsf (many OCSF classes) or api (a plain API-service log, few fields)',
      })
      .option('quiet', { ...SHARED_OPTIONS.quiet, describe: 'Print nothing but errors' })
      .example(
        '$0 generate --events 72000 --seed 1 --out events.jsonl',
        'one day of traffic; labels go to events.labels.jsonl',
      )
      .example(
        '$0 generate --seed 2 --world-seed 1 --start 2026-01-06T00:00:00Z --out next-day.jsonl',
        'the next day of the same organisation, to score against a model trained on the first',
      )
      .example(
        '$0 generate --out events.parquet --labels labels.parquet',
        'Parquet, nested objects as JSON text columns',
      )
      .example(
        '$0 generate -n 500000 --hours 168 --anomaly-rate 0.01 --out week.jsonl.gz',
        'a gzipped week at 1% anomalies',
      )
      .epilog(
        `Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}. See docs/generator.md.`,
      ) as unknown as Argv<GenerateArgs>,
  handler: async (args) => {
    const a = args as unknown as GenerateArgs;
    const { format, labels, start } = validateGenerateArgs(a);
    const tty = !a.quiet && process.stderr.isTTY === true && a.events >= 200000;
    let summary: Awaited<ReturnType<typeof writeGenerated>>;
    try {
      summary = await writeGenerated({
        events: a.events,
        seed: a.seed,
        ...(a.worldSeed !== undefined && { worldSeed: a.worldSeed }),
        start,
        hours: a.hours,
        anomalyRate: a.anomalyRate,
        profile: a.profile ?? 'ocsf',
        out: a.out,
        labels,
        format,
        progressEvery: 50000,
        ...(tty
          ? {
              onProgress: (n: number) =>
                process.stderr.write(`\rgenerated ${nf.format(n)} / ${nf.format(a.events)}`),
            }
          : {}),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code && err.path)
        throw new UserError(
          `cannot write ${err.path}: ${err.code} (${err.message}); check the path and permissions`,
        );
      throw e;
    }
    if (tty) process.stderr.write('\r\x1b[K');
    if (a.quiet) return;
    const parts = Object.entries(summary.byScenario)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => `${name} ${nf.format(n)}`);
    const missing = Object.keys(summary.byScenario).length - parts.length;
    const note = missing > 0 ? `; ${missing} scenario(s) absent: raise --events or --anomaly-rate` : '';
    console.log(
      `Wrote ${nf.format(summary.events)} events (${nf.format(summary.anomalies)} anomalous${parts.length ? `: ${parts.join(', ')}` : ''}${note}) to ${summary.out} [${summary.format}], labels to ${summary.labels}, in ${summary.seconds.toFixed(1)} s`,
    );
  },
};
