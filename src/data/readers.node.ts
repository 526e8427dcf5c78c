// Node event readers: expand files, directories and globs, then stream JSONL (also gzip),
// JSON, Parquet (row group by row group) and Arrow IPC files as records with positions.
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { brotliDecompressSync, createGunzip, gunzipSync } from 'node:zlib';
import { RecordBatchReader } from 'apache-arrow';
import { asyncBufferFromFile, type Compressors } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UserError } from '../core/errors.ts';
import {
  arrowBatches,
  checkMagic,
  DEFAULT_BATCH_SIZE,
  detectFormat,
  type EventBatch,
  type EventFormat,
  isEventFile,
  type ParseOptions,
  parquetBatches,
  parseJson,
  rejectHandler,
} from './parse.ts';
import { LineSplitter, parseJsonLine, type Reject, readLimits, type SourcePos, snippet } from './records.ts';

export type { EventBatch, EventFormat, ParseOptions } from './parse.ts';
export type { ReadLimits, Reject, RejectReason, SourcePos } from './records.ts';

/** What one input file gave. */
export interface FileReport {
  file: string;
  format: EventFormat;
  records: number;
  rejected: number;
  /** The file holds no events at all (zero bytes, blank, `[]`, or a table without rows). */
  empty: boolean;
  /** Text lines holding bytes that are not UTF-8, read with U+FFFD in their place (kept). */
  invalidUtf8: number;
}

/** Options for {@link readEvents} and {@link readEventBatches}. */
export interface ReadOptions extends ParseOptions {
  /** Called after each file with what it gave. */
  onFile?: (report: FileReport) => void;
  /** Called for files inside input directories that are skipped because of their type. */
  onSkippedFile?: (file: string) => void;
}

/** The input that is standard input, read as JSON lines: `-` on the command line. */
export const STDIN = '-';

/**
 * Whether an input names standard input: `-`, or /dev/stdin (read as a stream too, since opening that path
 * fails with ENXIO when standard input is a socket).
 */
export function isStdin(input: string): boolean {
  return input === STDIN || input === '/dev/stdin';
}

/**
 * Expands inputs into files, in a stable order: a file stays as it is, a directory gives its
 * event files (recursively, sorted; other files are skipped and listed), a glob gives its
 * matches (sorted), standard input is {@link STDIN}. Missing paths and empty matches are
 * {@link UserError}s.
 */
export async function expandInputs(
  inputs: readonly string[],
): Promise<{ files: string[]; skipped: string[] }> {
  if (inputs.length === 0)
    throw new UserError('No input files given: pass event files, directories or globs.');
  const files: string[] = [];
  const skipped: string[] = [];
  for (const input of inputs) {
    if (isStdin(input)) {
      if (files.includes(STDIN)) throw new UserError('give - (standard input) once among the inputs');
      files.push(STDIN);
      continue;
    }
    const st = await stat(input).catch(() => null);
    if (st?.isFile()) {
      files.push(input);
      continue;
    }
    if (st?.isDirectory()) {
      const all = (await glob('**/*', { cwd: input, onlyFiles: true, absolute: false, dot: false })).sort();
      const base = input.endsWith('/') ? input : `${input}/`;
      for (const f of all) (isEventFile(f) ? files : skipped).push(base + f);
      if (!all.some(isEventFile)) {
        throw new UserError(
          `${input} holds no event files: put .jsonl, .json, .parquet or .arrow files in it.`,
        );
      }
      continue;
    }
    if (isDynamicPattern(input)) {
      const matches = (await glob(input, { onlyFiles: true, expandDirectories: false })).sort();
      if (matches.length === 0)
        throw new UserError(`No files match ${input}: check the pattern (quote it in the shell).`);
      files.push(...matches);
      continue;
    }
    throw new UserError(`${input} does not exist: check the path.`);
  }
  return { files, skipped };
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Every codec hyparquet-compressors reads (ZSTD, LZ4, LZ4_RAW, SNAPPY, …), with zlib's native GZIP and BROTLI. */
const nodeCompressors: Compressors = {
  ...compressors,
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

/** Standard input as text, refusing gzip data (whose bytes would be read as broken lines). */
async function* stdinText(): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let first = true;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    if (first && chunk[0] === 0x1f && chunk[1] === 0x8b) {
      throw new UserError(
        'standard input is gzip data: decompress it first, e.g. `zcat events.jsonl.gz | ocsf-embed score - …`',
      );
    }
    first = false;
    yield decoder.decode(chunk, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

async function* jsonlFile(
  file: string,
  gzip: boolean,
  opts: ParseOptions,
  count: { records: number; rejected: number; invalidUtf8: number },
): AsyncGenerator<EventBatch> {
  if (file === STDIN) {
    yield* jsonlLines(file, stdinText(), opts, count);
    return;
  }
  const raw = createReadStream(file, { highWaterMark: 1 << 16 });
  const src = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (e) => src.destroy(e));
  src.setEncoding('utf8');
  try {
    yield* jsonlLines(file, src as AsyncIterable<string>, opts, count, gzip);
  } finally {
    raw.destroy();
  }
}

/** JSON lines from `text` as batches; a gzip stream that breaks off ends in one reject. */
async function* jsonlLines(
  file: string,
  text: AsyncIterable<string>,
  opts: ParseOptions,
  count: { records: number; rejected: number; invalidUtf8: number },
  gzip = false,
): AsyncGenerator<EventBatch> {
  const limits = readLimits(opts.limits);
  const onReject = rejectHandler(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  let batch: EventBatch = { file, records: [], positions: [], unit: 'line' };
  const reject = (r: Reject) => {
    count.rejected++;
    onReject(r);
  };
  const splitter = new LineSplitter(
    limits.maxRecordBytes,
    (text, line) => {
      if (text.includes('\uFFFD')) count.invalidUtf8++;
      const r = parseJsonLine(text, { file, line }, limits);
      if (r.reject) reject(r.reject);
      else {
        batch.records.push(r.record);
        batch.positions.push(line);
      }
    },
    (line, length, head) =>
      reject({
        file,
        line,
        reason: 'oversize_record',
        detail: `line has ${length} characters, over the limit of ${limits.maxRecordBytes}; raise --max-record-bytes if such events are expected`,
        text: snippet(head),
      }),
  );
  try {
    for await (const chunk of text) {
      splitter.push(chunk);
      if (batch.records.length >= batchSize) {
        count.records += batch.records.length;
        yield batch;
        batch = { file, records: [], positions: [], unit: 'line' };
      }
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (!(gzip && code.startsWith('Z_'))) throw e;
    // Damaged gzip (or bytes after its end): keep the lines read so far, reject the rest of the file.
    const at = splitter.lines;
    splitter.end();
    reject({
      file,
      line: splitter.lines + 1,
      reason: 'corrupt_data',
      detail: `the gzip data is corrupt, cut short or followed by other bytes after line ${at} (${(e as Error).message}); the rest of the file is skipped: re-copy or re-compress it`,
    });
    count.records += batch.records.length;
    if (batch.records.length > 0) yield batch;
    return;
  }
  splitter.end();
  count.records += batch.records.length;
  if (batch.records.length > 0) yield batch;
}

async function* fileBatches(file: string, opts: ReadOptions): AsyncGenerator<EventBatch> {
  // Standard input is JSON lines, read as it comes: no size, no look at its first bytes.
  const stdin = file === STDIN;
  const { format, gzip: named } = stdin ? { format: 'jsonl' as const, gzip: false } : detectFormat(file);
  const size = stdin ? Number.POSITIVE_INFINITY : (await stat(file)).size;
  const count = { records: 0, rejected: 0, invalidUtf8: 0 };
  const onReject = rejectHandler(opts);
  const o: ParseOptions = {
    ...opts,
    onReject: (r) => {
      count.rejected++;
      onReject(r);
    },
  };
  if (size > 0) {
    const head = stdin ? null : await readHead(file, 8);
    const gzip = head !== null && head[0] === 0x1f && head[1] === 0x8b;
    if (named && !gzip)
      throw new UserError(`${file} is named .gz but is not gzip data: rename it without .gz.`);
    if (head && !gzip) checkMagic(file, format, head);
    if (format === 'jsonl') {
      yield* jsonlFile(file, gzip, opts, count);
    } else if (format === 'json') {
      if (size > 512 * 1024 * 1024) {
        throw new UserError(
          `${file} is over 512 MiB, too large to read as one JSON document: convert it to JSON lines (.jsonl).`,
        );
      }
      let text = '';
      const raw = createReadStream(file);
      const src = gzip ? raw.pipe(createGunzip()) : raw;
      src.setEncoding('utf8');
      for await (const chunk of src as AsyncIterable<string>) text += chunk;
      if (text.trim().length > 0) {
        const r = parseJson(text, { ...o, file });
        count.records += r.records.length;
        if (r.records.length > 0) yield { file, records: r.records, positions: r.positions, unit: r.unit };
      }
    } else if (format === 'parquet') {
      const buffer = await asyncBufferFromFile(file);
      for await (const b of parquetBatches(buffer, file, { ...o, compressors: nodeCompressors })) {
        count.records += b.records.length;
        yield b;
      }
    } else {
      const fh = await open(file, 'r');
      try {
        let reader: AsyncIterable<unknown>;
        try {
          reader = (await RecordBatchReader.from(fh as never)) as unknown as AsyncIterable<unknown>;
        } catch (e) {
          throw new UserError(
            `${file} could not be read as Arrow IPC (${(e as Error).message}): check the file.`,
          );
        }
        for await (const b of arrowBatches(reader, file, o)) {
          count.records += b.records.length;
          yield b;
        }
      } finally {
        await fh.close();
      }
    }
  }
  opts.onFile?.({
    file,
    format,
    records: count.records,
    rejected: count.rejected,
    empty: count.records === 0 && count.rejected === 0,
    invalidUtf8: count.invalidUtf8,
  });
}

/**
 * Reads events from files, directories and globs as batches, file by file in input order,
 * records in file order. JSONL is streamed (bounded memory, `.gz` or gzip content detected);
 * Parquet is read one row group at a time; Arrow one record batch at a time.
 */
export async function* readEventBatches(
  inputs: readonly string[],
  opts: ReadOptions = {},
): AsyncGenerator<EventBatch> {
  const { files, skipped } = await expandInputs(inputs);
  for (const f of skipped) opts.onSkippedFile?.(f);
  for (const file of files) {
    if (files.length === 1) {
      yield* fileBatches(file, opts);
      continue;
    }
    // Among several files, one that cannot be read is a reject: the others are still read.
    try {
      yield* fileBatches(file, opts);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      rejectHandler(opts)({ file, reason: 'unreadable_file', detail: e.message });
      opts.onFile?.({
        file,
        format: detectFormatOr(file),
        records: 0,
        rejected: 1,
        empty: false,
        invalidUtf8: 0,
      });
    }
  }
}

function detectFormatOr(file: string): EventFormat {
  try {
    return detectFormat(file).format;
  } catch {
    return 'jsonl';
  }
}

/**
 * Reads events one by one with their source position (`line` for text formats, 1-based;
 * `row` for Parquet/Arrow and JSON arrays, 0-based). Bad records go to `opts.onReject`, or
 * throw an {@link UserError} when no handler is given.
 */
export async function* readEvents(
  inputs: readonly string[],
  opts: ReadOptions = {},
): AsyncGenerator<{ record: object; source: SourcePos }> {
  for await (const b of readEventBatches(inputs, opts)) {
    for (let i = 0; i < b.records.length; i++) {
      const source: SourcePos =
        b.unit === 'line' ? { file: b.file, line: b.positions[i]! } : { file: b.file, row: b.positions[i]! };
      yield { record: b.records[i]!, source };
    }
  }
}
