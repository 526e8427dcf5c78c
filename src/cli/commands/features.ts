// The `features` command: reads events, fits a feature spec (with optional overrides), prints
// the spec table and writes the spec JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { formatLoadSummary, streamEvents } from '../../dataset/load.node.ts';
import {
  parseSpecOptions,
  SpecFitter,
  type SpecOptions,
  serializeSpec,
  specTable,
} from '../../features/spec.ts';
import { SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed features`. */
export interface FeaturesArgs {
  inputs: string[];
  spec?: string;
  out?: string;
  sample?: number;
  rejects?: string;
  timeZone?: string;
  maxRecordBytes?: number;
  maxStringLength?: number;
  nanAsMissing: boolean;
  quiet: boolean;
}

function readOverrides(path: string): SpecOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`--spec ${path} cannot be read: check the path.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `--spec ${path} is not valid JSON (${(e as Error).message}); see docs/features.md for the format.`,
    );
  }
  return parseSpecOptions(json);
}

/** `ocsf-embed features`: fit a feature spec on events and print it. */
export const featuresCommand: CommandModule<object, FeaturesArgs> = {
  command: 'features <inputs...>',
  describe: 'Fit a feature spec on OCSF events, print it as a table and optionally save it',
  builder: (y: Argv<object>) =>
    y
      .positional('inputs', {
        type: 'string',
        array: true,
        describe: 'Event files, directories or globs (.jsonl[.gz], .json, .parquet, .arrow)',
      })
      .option('spec', { type: 'string', describe: 'Overrides JSON (include/exclude, column types, limits)' })
      .option('out', {
        ...SHARED_OPTIONS.out,
        describe: 'Write the fitted spec JSON here (usable as `train --spec`)',
      })
      .option('sample', { type: 'number', describe: 'Fit on the first N events only' })
      .option('rejects', {
        type: 'string',
        describe: 'Write rejected records (JSONL, with position and reason) here',
      })
      .option('time-zone', { type: 'string', describe: 'Time zone for the time features (default UTC)' })
      .option('max-record-bytes', {
        type: 'number',
        describe: 'Longest line or row accepted (default 1 MiB)',
      })
      .option('max-string-length', {
        type: 'number',
        describe: 'Longest string value accepted (default 256 KiB)',
      })
      .option('nan-as-missing', {
        type: 'boolean',
        default: false,
        describe: 'Read NaN in Parquet/Arrow float columns as missing instead of rejecting the row',
      })
      .option('quiet', { ...SHARED_OPTIONS.quiet, describe: 'Print only the table' })
      .example('$0 features events.jsonl --out spec.json', 'fit on every event and save the spec')
      .example(
        '$0 features logs/ --spec overrides.json --sample 50000 --rejects rejects.jsonl',
        'fit on a directory with overrides, listing bad records',
      )
      .epilog(
        'See docs/features.md for the overrides format and the feature rules.',
      ) as unknown as Argv<FeaturesArgs>,
  handler: async (args) => {
    const a = args as unknown as FeaturesArgs;
    if (a.sample !== undefined && (!Number.isSafeInteger(a.sample) || a.sample <= 0)) {
      throw new UserError('--sample must be a positive whole number, e.g. --sample 50000');
    }
    for (const [flag, v] of [
      ['--max-record-bytes', a.maxRecordBytes],
      ['--max-string-length', a.maxStringLength],
    ] as const) {
      if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) {
        throw new UserError(`${flag} must be a positive whole number of characters`);
      }
    }
    const options = a.spec ? readOverrides(a.spec) : {};
    if (a.timeZone) options.timeZone = a.timeZone;
    const fitter = new SpecFitter(options);
    const limits: { maxRecordBytes?: number; maxStringLength?: number; nanAsMissing?: boolean } = {
      nanAsMissing: a.nanAsMissing,
    };
    if (a.maxRecordBytes) limits.maxRecordBytes = a.maxRecordBytes;
    if (a.maxStringLength) limits.maxStringLength = a.maxStringLength;
    const summary = await streamEvents(
      a.inputs,
      {
        limits,
        ...(a.rejects ? { rejectsPath: a.rejects } : {}),
        ...(a.sample ? { limit: a.sample } : {}),
      },
      (record) => {
        fitter.add(record);
        return true;
      },
    );
    if (summary.accepted === 0) {
      throw new UserError(
        `All ${summary.rejected} events were rejected (${formatLoadSummary(summary)}); fix the input or check the options.`,
      );
    }
    const spec = fitter.finish();
    if (!a.quiet) console.error(`ocsf-embed: ${formatLoadSummary(summary)}`);
    process.stdout.write(specTable(spec));
    if (a.out) {
      try {
        writeFileSync(a.out, serializeSpec(spec));
      } catch (e) {
        throw new UserError(
          `cannot write --out ${a.out}: ${(e as Error).message}; check the path and permissions`,
        );
      }
      if (!a.quiet) console.error(`ocsf-embed: wrote the spec to ${a.out}`);
    }
  },
};
