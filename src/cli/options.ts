// The command-line options more than one command takes, written once: device, threads, model, out, quiet,
// json, and the batch options of the commands that stream events (embed, score). A command spreads what it
// takes and overrides `describe` where its meaning is narrower.

import { UserError } from '../core/errors.ts';
import { EMBED_BATCH_SIZE } from '../embed/embedder.ts';
import { DEVICES, type Device } from '../runtime/session.ts';

/** The `inputs` positional of a command that reads events. */
export const EVENTS_POSITIONAL = {
  type: 'string',
  array: true,
  default: [] as string[],
  describe:
    'event files, directories or globs (.jsonl[.gz], .json, .parquet, .arrow); - reads JSON lines from standard input',
} as const;

/** How much of the input may be rejected before a command fails: every command that reads events takes it. */
export const REJECT_OPTIONS = {
  'max-reject-fraction': {
    type: 'number',
    default: 0.5,
    describe: 'fail when more than this share of the events is rejected (0–1; none kept always fails)',
  },
} as const;

/** How many events a scoring command flags: every command that scores events takes it. */
export const THRESHOLD_OPTIONS = {
  'threshold-percentile': {
    type: 'number',
    describe:
      "flag events above this percentile of the training events' own scores (default: the run's, 95; 99 flags about 1% of events like them)",
  },
} as const;

/** Checks --threshold-percentile (absent: the run's own threshold). */
export function checkThresholdPercentile(v: number | undefined): void {
  if (v !== undefined && !(v > 0 && v < 100)) {
    throw new UserError(
      '--threshold-percentile must be a number above 0 and below 100, e.g. --threshold-percentile 99 to flag about 1% of events like the training ones',
    );
  }
}

/** Checks --max-reject-fraction. */
export function checkRejectFraction(v: number): void {
  if (!(v >= 0 && v <= 1)) {
    throw new UserError('--max-reject-fraction must be a number in [0, 1], e.g. --max-reject-fraction 0.5');
  }
}

/** Options shared across commands, by flag name. */
export const SHARED_OPTIONS = {
  device: {
    choices: DEVICES,
    default: 'auto' as Device,
    describe: 'ONNX Runtime device (auto: CUDA when set up with `npm run setup:cuda`, else CPU)',
  },
  threads: { type: 'number', describe: 'intra-op threads (default: 1 on 2-core hosts, else up to 4)' },
  model: { type: 'string', alias: 'm', describe: 'run directory (or a model.onnx file)' },
  out: { type: 'string', alias: 'o', describe: 'file or directory to write' },
  quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print nothing on success' },
  json: {
    type: 'boolean',
    default: false,
    describe: 'print the summary as one JSON object on stdout instead of text',
  },
} as const;

/** Batch size, device, threads, rejects file, quiet and json: the options of the batch commands. */
export const BATCH_OPTIONS = {
  'batch-size': { type: 'number', default: EMBED_BATCH_SIZE, describe: 'events per model call' },
  device: SHARED_OPTIONS.device,
  threads: SHARED_OPTIONS.threads,
  rejects: {
    type: 'string',
    describe: 'rejected records JSONL (default <out>.rejects.jsonl, kept only when non-empty)',
  },
  quiet: SHARED_OPTIONS.quiet,
  json: SHARED_OPTIONS.json,
  ...REJECT_OPTIONS,
} as const;

/** Flags the user typed (not filled in by a default), from the raw arguments. */
export function explicitFlags(argv: readonly string[], aliases: Record<string, string> = {}): Set<string> {
  const flags = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('--')) flags.add(arg.slice(2).split('=')[0]!.replace(/^no-/, ''));
    else if (/^-[a-zA-Z]$/.test(arg) && aliases[arg.slice(1)]) flags.add(aliases[arg.slice(1)]!);
  }
  return flags;
}
