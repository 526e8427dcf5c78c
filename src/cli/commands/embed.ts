// `ocsf-embed embed`: streams events through model.onnx in batches and writes their embeddings (Arrow, .npy
// or JSON lines), with rejected records counted and written to a rejects file.
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { checkOutputsApart, formatLoadSummary, streamEventChunks } from '../../dataset/load.node.ts';
import {
  EMBEDDING_FORMATS,
  type EmbeddingFormat,
  formatFromPath,
  npyUidsPath,
  openEmbeddingWriter,
  STDOUT,
} from '../../io/writers.node.ts';
import { LoadedModel } from '../../run/model.node.ts';
import type { Device } from '../../runtime/session.node.ts';
import { BATCH_OPTIONS, checkRejectFraction, EVENTS_POSITIONAL, SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed embed`. */
export interface EmbedArgs {
  inputs: string[];
  model?: string;
  out?: string;
  format?: EmbeddingFormat;
  normalized: boolean;
  'batch-size': number;
  device: Device;
  threads?: number;
  rejects?: string;
  quiet: boolean;
  json: boolean;
  'max-reject-fraction': number;
}

/** Checks an output path: its folder exists and it is not a folder itself (`-`, standard output, passes). */
export function checkOutPath(flag: string, path: string, example: string): void {
  if (path === STDOUT) return;
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(
      `${flag} ${path}: folder ${dir} does not exist; create it first (mkdir -p ${dir}) or pick another path`,
    );
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new UserError(
      `${flag} ${path} is a folder; give a file name, e.g. ${flag} ${path.replace(/\/+$/, '')}/${example}`,
    );
  }
}

/** Checks batch size and threads, shared by `embed` and `score`. */
export function checkBatchArgs(a: {
  'batch-size': number;
  threads?: number;
  'max-reject-fraction'?: number;
}): void {
  checkRejectFraction(a['max-reject-fraction'] ?? 0.5);
  if (!(Number.isInteger(a['batch-size']) && a['batch-size'] >= 1))
    throw new UserError('--batch-size must be a whole number ≥ 1, e.g. --batch-size 1024');
  if (a.threads !== undefined && !(Number.isInteger(a.threads) && a.threads >= 1))
    throw new UserError('--threads must be a whole number ≥ 1, e.g. --threads 2');
}

/** The rejects file for an output: `--rejects`, else `<out>.rejects.jsonl` (`stdout.rejects.jsonl` for `-`). */
export function rejectsPathFor(out: string, rejects?: string): string {
  return rejects ?? `${out === STDOUT ? 'stdout' : out}.rejects.jsonl`;
}

/** Checks what `-` (standard output) and --json allow: text formats only, and one of the two on stdout. */
export function checkStdout(
  a: { out?: string; json: boolean; quiet: boolean },
  format: string,
  text: string[],
): void {
  if (a.quiet && a.json) throw new UserError('--quiet and --json exclude each other: choose one');
  if (a.out !== STDOUT) return;
  if (a.json)
    throw new UserError('--json and --out - would both write to standard output: give --out a file name');
  if (!text.includes(format))
    throw new UserError(
      `--out - writes ${text.join(' or ')} to standard output; ${format} needs a file name, e.g. --out out.${format}`,
    );
}

/** Where the summary lines go: stderr when the data itself goes to stdout, nowhere with --quiet or --json. */
export function summaryPrinter(a: { out?: string; json: boolean; quiet: boolean }): (line: string) => void {
  if (a.quiet || a.json) return () => {};
  return a.out === STDOUT ? (line) => console.error(line) : (line) => console.log(line);
}

/**
 * The output format: `--format`, else JSON lines on standard output, else what the `--out` name says when it
 * is one of `formats`; anything else is a {@link UserError} naming the endings and the flag.
 */
export function outputFormat<F extends string>(a: { format?: F; out?: string }, formats: readonly F[]): F {
  if (a.format) return a.format;
  if (a.out === STDOUT) return 'jsonl' as F;
  const f = formatFromPath(a.out!);
  if (f && (formats as readonly string[]).includes(f)) return f as F;
  const endings = formats.map((x) => `.${x}`);
  throw new UserError(
    `cannot tell the format of --out ${a.out}: name it ${endings.slice(0, -1).join(', ')} or ${endings.at(-1)}, or pass --format ${formats.join('|')}`,
  );
}

/** Checks every flag; each error says what to type instead. */
export function checkEmbedArgs(a: EmbedArgs): EmbeddingFormat {
  if (a.inputs.length === 0)
    throw new UserError(
      'name the events to embed, e.g. `ocsf-embed embed events.jsonl --model runs/first --out emb.arrow`',
    );
  if (!a.model)
    throw new UserError(
      'give the model with --model (a run directory or model.onnx), e.g. --model runs/first',
    );
  if (!a.out)
    throw new UserError('give the output file with --out, e.g. --out embeddings.arrow (or .npy, .jsonl)');
  checkBatchArgs(a);
  const format = outputFormat(a, EMBEDDING_FORMATS);
  checkStdout(a, format, ['jsonl']);
  checkOutPath('--out', a.out, `embeddings.${format}`);
  return format;
}

export const embedCommand: CommandModule<object, EmbedArgs> = {
  command: 'embed [inputs..]',
  describe: 'Embed OCSF events with model.onnx; writes Arrow, .npy or JSON lines',
  builder: (y) =>
    y
      .positional('inputs', EVENTS_POSITIONAL)
      .options({
        model: SHARED_OPTIONS.model,
        out: {
          ...SHARED_OPTIONS.out,
          describe: 'output file: .arrow, .npy or .jsonl (- for JSON lines on stdout)',
        },
        format: { choices: EMBEDDING_FORMATS, describe: 'output format (default: from the --out extension)' },
        normalized: {
          type: 'boolean',
          default: false,
          describe: 'unit-length embeddings (embedding_normalized)',
        },
        ...BATCH_OPTIONS,
      })
      .example(
        '$0 embed events.jsonl --model runs/first --out emb.arrow',
        'uid + fixed-size-list embedding column',
      )
      .example(
        '$0 embed logs/ --model model.onnx --out emb.npy --normalized',
        'float32 [N, d] + emb.uids.jsonl',
      )
      .example('$0 embed events.jsonl -m runs/first -o - | head -1', 'JSON lines on standard output')
      .check((a) => {
        checkEmbedArgs(a as unknown as EmbedArgs);
        return true;
      }),
  handler: async (a) => {
    const format = checkEmbedArgs(a);
    const out = a.out!;
    const t0 = performance.now();
    const rejectsPath = rejectsPathFor(out, a.rejects);
    await checkOutputsApart(a.inputs, [
      ['--out', out],
      ['--rejects', rejectsPath],
      ['--out', format === 'npy' ? npyUidsPath(out) : null],
    ]);
    const model = await LoadedModel.open(a.model!, {
      device: a.device,
      threads: a.threads,
      loadScorer: false,
    });
    if (model.notice && !a.quiet) console.error(`note: ${model.notice}`);
    const say = summaryPrinter(a);
    const writer = openEmbeddingWriter(out, format, model.dimension, {
      'ocsf-embed.model': model.location.modelPath,
      'ocsf-embed.normalized': String(a.normalized),
      'ocsf-embed.dimension': String(model.dimension),
    });
    let summary: Awaited<ReturnType<typeof streamEventChunks>>;
    let files: string[] = [];
    try {
      summary = await streamEventChunks(
        a.inputs,
        {
          size: a['batch-size'],
          rejectsPath,
          spec: model.embedder.spec,
          maxRejectFraction: a['max-reject-fraction'],
        },
        async (events) => {
          await writer.write(model.uidsOf(events), await model.embed(events, a.normalized));
        },
      );
      files = (await writer.close()).files;
    } catch (e) {
      await writer.abort();
      throw e;
    } finally {
      await model.release();
    }
    if (summary.rejected === 0 && !a.rejects && existsSync(rejectsPath)) unlinkSync(rejectsPath);
    const seconds = (performance.now() - t0) / 1000;
    const eventsPerSecond = Math.round(summary.accepted / Math.max(seconds, 1e-9));
    say(formatLoadSummary(summary));
    say(
      `embedded ${summary.accepted} events (dimension ${model.dimension}${a.normalized ? ', normalized' : ''}) in ${seconds.toFixed(1)} s (${eventsPerSecond} events/s, device ${model.device}) → ${files.join(', ')}`,
    );
    if (a.json) {
      console.log(
        JSON.stringify({
          events: summary.accepted,
          rejected: summary.rejected,
          dimension: model.dimension,
          normalized: a.normalized,
          seconds,
          eventsPerSecond,
          device: model.device,
          files,
          rejects: summary.rejected > 0 || a.rejects ? rejectsPath : null,
        }),
      );
    }
  },
};
