// Portable event parsing (Node and browser): file-type detection, JSON lines, JSON documents,
// Parquet via hyparquet and Arrow IPC via apache-arrow, each yielding records with positions.
import { RecordBatchReader } from 'apache-arrow';
import {
  type AsyncBuffer,
  type ColumnData,
  type Compressors,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
} from 'hyparquet';
import { compressors as portableCompressors } from 'hyparquet-compressors';
import { UserError } from '../core/errors.ts';
import {
  type ColumnPlan,
  convertRow,
  coversAny,
  findLongString,
  LineSplitter,
  parseJsonLine,
  planColumns,
  type ReadLimits,
  type Reject,
  readLimits,
  type SourcePos,
  shapeProblem,
  snippet,
} from './records.ts';

/** A file format the readers understand. */
export type EventFormat = 'jsonl' | 'json' | 'parquet' | 'arrow';

/** Extensions per format (`.gz` may follow the JSON ones). */
export const FORMAT_EXTENSIONS: Record<EventFormat, string[]> = {
  jsonl: ['.jsonl', '.ndjson'],
  json: ['.json'],
  parquet: ['.parquet', '.pq'],
  arrow: ['.arrow', '.feather', '.ipc', '.arrows'],
};

const SUPPORTED =
  'use .jsonl/.ndjson (optionally .gz), .json (optionally .gz), .parquet, or .arrow/.feather (Arrow IPC)';

/** The format and compression of a file, from its name; throws an {@link UserError} for other types. */
export function detectFormat(name: string): { format: EventFormat; gzip: boolean } {
  const lower = name.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  for (const [format, exts] of Object.entries(FORMAT_EXTENSIONS) as [EventFormat, string[]][]) {
    if (exts.some((e) => base.endsWith(e))) {
      if (gzip && (format === 'parquet' || format === 'arrow')) {
        throw new UserError(
          `${name}: gzip around ${format} files is not supported; decompress it first (gunzip).`,
        );
      }
      return { format, gzip };
    }
  }
  const dot = base.lastIndexOf('.');
  const ext = dot >= 0 && dot > base.lastIndexOf('/') ? base.slice(dot) : '(none)';
  throw new UserError(`${name}: unsupported file type ${ext}; ${SUPPORTED}.`);
}

/** True when `name` has an extension the readers understand. */
export function isEventFile(name: string): boolean {
  try {
    detectFormat(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a file's first bytes against its format: gzip data must be named `.gz`, Parquet starts
 * with `PAR1`, Arrow IPC with `ARROW1` or a stream message, Feather v1 (`FEA1`) is refused.
 * Throws an {@link UserError} that says what the file looks like instead.
 */
export function checkMagic(name: string, format: EventFormat, head: Uint8Array): void {
  const ascii = String.fromCharCode(...head.subarray(0, 6));
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  if (head.length === 0) return;
  if (format === 'parquet' && !ascii.startsWith('PAR1')) {
    throw new UserError(
      `${name} is not a Parquet file (it does not start with PAR1${gz ? '; it is gzip data' : ''}): check the file or its extension.`,
    );
  }
  if (format === 'arrow') {
    if (ascii.startsWith('FEA1')) {
      throw new UserError(
        `${name} is Feather v1, which is not supported: re-save it as Feather v2 / Arrow IPC (pyarrow.feather.write_feather(df, path, version=2)).`,
      );
    }
    const stream = head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff;
    if (!ascii.startsWith('ARROW1') && !stream) {
      throw new UserError(
        `${name} is not an Arrow IPC file (no ARROW1 header${ascii.startsWith('PAR1') ? '; it is a Parquet file, name it .parquet' : ''}): check the file or its extension.`,
      );
    }
  }
  if ((format === 'jsonl' || format === 'json') && ascii.startsWith('PAR1')) {
    throw new UserError(`${name} is a Parquet file: name it .parquet.`);
  }
}

/** Records read from one file, in order, with their 1-based lines or 0-based rows. */
export interface EventBatch {
  file: string;
  records: object[];
  positions: number[];
  unit: 'line' | 'row';
}

/** Options shared by the parsers. */
export interface ParseOptions {
  limits?: Partial<ReadLimits>;
  /** Receives each rejected record. Without it, a bad record throws an {@link UserError}. */
  onReject?: (reject: Reject) => void;
  /** Paths the caller needs (a spec's source paths): a Parquet/Arrow file with none of them is an error. */
  expectPaths?: readonly string[];
  /** Records per yielded batch (default {@link DEFAULT_BATCH_SIZE}). */
  batchSize?: number;
}

/**
 * Records per yielded batch unless a caller asks otherwise: small enough that records a streaming
 * caller drops die young (cheap to collect), large enough that the generator's steps cost nothing.
 */
export const DEFAULT_BATCH_SIZE = 256;

/** The reject handler for `opts`: the caller's, or one that throws a clear error. */
export function rejectHandler(opts: ParseOptions): (r: Reject) => void {
  return (
    opts.onReject ??
    ((r: Reject) => {
      const at = r.line !== undefined ? `line ${r.line}` : `row ${r.row}`;
      throw new UserError(
        `${r.file} ${at}: ${r.reason} (${r.detail}). Fix the record, or load with a rejects file (--rejects) to skip and list bad records.`,
      );
    })
  );
}

/**
 * Parses JSON-lines text: one event object per line, blank lines skipped. Bad lines are
 * passed to `opts.onReject` with their 1-based line number.
 */
export function parseJsonl(
  text: string,
  opts: ParseOptions & { file?: string } = {},
): { records: object[]; lines: number[]; rejects: Reject[] } {
  const file = opts.file ?? '(text)';
  const limits = readLimits(opts.limits);
  const records: object[] = [];
  const lines: number[] = [];
  const rejects: Reject[] = [];
  const onReject = (r: Reject) => {
    rejects.push(r);
    opts.onReject?.(r);
  };
  const splitter = new LineSplitter(
    limits.maxRecordBytes,
    (t, line) => {
      const r = parseJsonLine(t, { file, line }, limits);
      if (r.reject) onReject(r.reject);
      else {
        records.push(r.record);
        lines.push(line);
      }
    },
    (line, length, head) =>
      onReject({
        file,
        line,
        reason: 'oversize_record',
        detail: `line has ${length} characters, over the limit of ${limits.maxRecordBytes}`,
        text: snippet(head),
      }),
  );
  splitter.push(text);
  splitter.end();
  return { records, lines, rejects };
}

/**
 * Parses a JSON document: an array of events or one event object. Array elements get their
 * 0-based index as `row`. Text that is not one JSON document but whose first line is an
 * object is read as JSON lines.
 */
export function parseJson(
  text: string,
  opts: ParseOptions & { file?: string } = {},
): { records: object[]; positions: number[]; unit: 'line' | 'row'; rejects: Reject[] } {
  const file = opts.file ?? '(text)';
  const limits = readLimits(opts.limits);
  const onReject = opts.onReject ?? (() => {});
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const firstLine = text.trimStart().split('\n', 1)[0] ?? '';
    let linesLike = false;
    try {
      const v = JSON.parse(firstLine);
      linesLike = v !== null && typeof v === 'object' && !Array.isArray(v);
    } catch {}
    if (linesLike) {
      const r = parseJsonl(text, { ...opts, file });
      return { records: r.records, positions: r.lines, unit: 'line', rejects: r.rejects };
    }
    throw new UserError(
      `${file} is not valid JSON (${(e as Error).message}): fix it, or if it holds one event per line, name it .jsonl.`,
    );
  }
  const records: object[] = [];
  const positions: number[] = [];
  const rejects: Reject[] = [];
  const items = Array.isArray(doc) ? doc : [doc];
  items.forEach((v, i) => {
    const pos: SourcePos = { file, row: i };
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      const r: Reject = {
        ...pos,
        reason: 'not_an_object',
        detail: `expected an event object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`,
        text: snippet(stringifyOrNote(v)),
      };
      rejects.push(r);
      onReject(r);
      return;
    }
    const problem = checkParsedSize(v, pos, limits);
    if (problem) {
      rejects.push(problem);
      onReject(problem);
      return;
    }
    records.push(v);
    positions.push(i);
  });
  return { records, positions, unit: 'row', rejects };
}

function stringifyOrNote(v: unknown): string {
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '(too deeply nested to show)';
  }
}

function checkParsedSize(v: object, pos: SourcePos, limits: ReadLimits): Reject | null {
  const shape = shapeProblem(v, limits);
  if (shape) return { ...pos, ...shape };
  const long = findLongString(v, limits.maxStringLength);
  if (long) {
    return {
      ...pos,
      reason: 'oversize_string',
      detail: `${long[0]} has ${long[1]} characters, over the limit of ${limits.maxStringLength}; raise --max-string-length if such values are expected`,
    };
  }
  const size = JSON.stringify(v).length;
  if (size > limits.maxRecordBytes) {
    return {
      ...pos,
      reason: 'oversize_record',
      detail: `event has ${size} characters, over the limit of ${limits.maxRecordBytes}`,
    };
  }
  return null;
}

function wrapTabularError(file: string, kind: string, e: unknown): UserError {
  if (e instanceof UserError) return e;
  const msg = (e as Error)?.message ?? String(e);
  if (/compression|codec/i.test(msg)) {
    return new UserError(
      `${file}: ${msg}. Re-write the file with SNAPPY, GZIP, ZSTD, LZ4, BROTLI or no compression (pandas: df.to_parquet(path, compression="zstd")).`,
    );
  }
  return new UserError(
    `${file} could not be read as ${kind} (${msg}): check that the file is complete and not corrupted.`,
  );
}

function noColumnsError(file: string, plan: ColumnPlan, expected: readonly string[]): UserError {
  const have = plan.names.slice(0, 12).join(', ') + (plan.names.length > 12 ? ', …' : '');
  const want = expected.slice(0, 8).join(', ') + (expected.length > 8 ? ', …' : '');
  return new UserError(
    `${file} has none of the columns the feature spec reads (${want}); its columns are ${have}. ` +
      'Check that it holds OCSF events (nested, JSON-string or actor_user_name-style flattened columns), or fit a spec on this data.',
  );
}

/**
 * Decodes rows `[start, start + n)` (one row group) column by column: one array of `n` values per
 * name, in `names` order (undefined where a column gives no value).
 */
async function readColumns(
  file: AsyncBuffer,
  metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>,
  names: readonly string[],
  start: number,
  n: number,
  compressors: Compressors,
): Promise<ArrayLike<unknown>[]> {
  const index = new Map(names.map((name, i) => [name, i]));
  const columns: ArrayLike<unknown>[] = names.map(() => []);
  const onChunk = ({ columnName, columnData, rowStart, rowEnd }: ColumnData) => {
    const c = index.get(columnName);
    if (c === undefined) return;
    if (rowStart === start && rowEnd === start + n) {
      columns[c] = columnData as ArrayLike<unknown>;
      return;
    }
    let col = columns[c] as unknown[];
    if (col.length !== n) {
      col = new Array(n);
      columns[c] = col;
    }
    const from = Math.max(rowStart, start);
    const to = Math.min(rowEnd, start + n);
    for (let r = from; r < to; r++) col[r - start] = columnData[r - rowStart];
  };
  await parquetRead({ file, metadata, rowStart: start, rowEnd: start + n, compressors, onChunk });
  return columns;
}

/**
 * Reads a Parquet file row group by row group (bounded memory), each decoded column by column,
 * yielding records keyed by OCSF path. Columns may be nested structs, JSON text of OCSF objects, or
 * flattened names.
 */
export async function* parquetBatches(
  file: AsyncBuffer,
  name: string,
  opts: ParseOptions & { compressors?: Compressors } = {},
): AsyncGenerator<EventBatch> {
  const limits = readLimits(opts.limits);
  const onReject = rejectHandler(opts);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw wrapTabularError(name, 'Parquet', e);
  }
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  let plan: ColumnPlan | null = null;
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const n = Number(group.num_rows);
    if (n === 0) continue;
    let columns: ArrayLike<unknown>[];
    try {
      columns = await readColumns(
        file,
        metadata,
        names,
        rowStart,
        n,
        opts.compressors ?? portableCompressors,
      );
    } catch (e) {
      throw wrapTabularError(name, 'Parquet', e);
    }
    if (!plan) {
      const head = Math.min(50, n);
      plan = planColumns(names, (col) => Array.prototype.slice.call(columns[names.indexOf(col)]!, 0, head));
      if (opts.expectPaths && opts.expectPaths.length > 0 && !coversAny(plan, opts.expectPaths)) {
        throw noColumnsError(name, plan, opts.expectPaths);
      }
    }
    const p = plan;
    let at = 0;
    const value = (c: number) => columns[c]![at];
    let batch: EventBatch = { file: name, records: [], positions: [], unit: 'row' };
    for (; at < n; at++) {
      const row = rowStart + at;
      const r = convertRow(p, value, { file: name, row }, limits);
      if (r.reject) onReject(r.reject);
      else {
        batch.records.push(r.record);
        batch.positions.push(row);
      }
      if (batch.records.length >= batchSize) {
        yield batch;
        batch = { file: name, records: [], positions: [], unit: 'row' };
      }
    }
    rowStart += n;
    if (batch.records.length > 0) yield batch;
  }
}

/**
 * Reads Arrow IPC record batches (file or stream format), yielding records keyed by OCSF path;
 * struct and list columns become nested objects and arrays.
 */
export async function* arrowBatches(
  reader: AsyncIterable<unknown> | Iterable<unknown>,
  name: string,
  opts: ParseOptions = {},
): AsyncGenerator<EventBatch> {
  const limits = readLimits(opts.limits);
  const onReject = rejectHandler(opts);
  let plan: ColumnPlan | null = null;
  let rowStart = 0;
  const iter = (
    Symbol.asyncIterator in reader
      ? reader
      : (async function* () {
          yield* reader as Iterable<unknown>;
        })()
  ) as AsyncIterable<unknown>;
  const it = iter[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<unknown>;
    try {
      next = await it.next();
    } catch (e) {
      throw wrapTabularError(name, 'Arrow IPC', e);
    }
    if (next.done) break;
    const b = next.value as {
      numRows: number;
      numCols: number;
      schema: { fields: { name: string }[] };
      getChildAt(i: number): { get(i: number): unknown } | null;
    };
    const cols = b.schema.fields.map((_, i) => b.getChildAt(i)!);
    if (!plan) {
      const names = b.schema.fields.map((f) => f.name);
      const head = Math.min(50, b.numRows);
      plan = planColumns(names, (col) => {
        const v = cols[names.indexOf(col)]!;
        return Array.from({ length: head }, (_, i) => v.get(i));
      });
      if (opts.expectPaths && opts.expectPaths.length > 0 && !coversAny(plan, opts.expectPaths)) {
        throw noColumnsError(name, plan, opts.expectPaths);
      }
    }
    const p = plan;
    const batch: EventBatch = { file: name, records: [], positions: [], unit: 'row' };
    for (let i = 0; i < b.numRows; i++) {
      const r = convertRow(p, (c) => cols[c]!.get(i), { file: name, row: rowStart + i }, limits);
      if (r.reject) onReject(r.reject);
      else {
        batch.records.push(r.record);
        batch.positions.push(rowStart + i);
      }
    }
    rowStart += b.numRows;
    yield batch;
  }
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(ds);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Parses a whole file held in memory (a browser `File`'s bytes, say), by its name's
 * extension. Returns records, their positions and the rejects.
 */
export async function parseEventBytes(
  name: string,
  bytes: Uint8Array,
  opts: ParseOptions = {},
): Promise<{ records: object[]; sources: SourcePos[]; rejects: Reject[] }> {
  const { format, gzip } = detectFormat(name);
  let data = bytes;
  if (gzip || (data[0] === 0x1f && data[1] === 0x8b && (format === 'jsonl' || format === 'json'))) {
    data = await gunzip(data);
  }
  checkMagic(name, format, data.subarray(0, 8));
  const records: object[] = [];
  const sources: SourcePos[] = [];
  const rejects: Reject[] = [];
  const onReject = (r: Reject) => {
    rejects.push(r);
    opts.onReject?.(r);
  };
  const o: ParseOptions = { ...opts, onReject };
  const take = (b: { records: object[]; positions: number[]; unit: 'line' | 'row' }) => {
    b.records.forEach((r, i) => {
      records.push(r);
      sources.push(
        b.unit === 'line' ? { file: name, line: b.positions[i]! } : { file: name, row: b.positions[i]! },
      );
    });
  };
  if (format === 'jsonl' || format === 'json') {
    const text = new TextDecoder().decode(data);
    if (format === 'jsonl') {
      const r = parseJsonl(text, { ...o, file: name });
      take({ records: r.records, positions: r.lines, unit: 'line' });
    } else if (text.trim().length > 0) take(parseJson(text, { ...o, file: name }));
    return { records, sources, rejects };
  }
  if (data.length === 0) return { records, sources, rejects };
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
  const batches =
    format === 'parquet' ? parquetBatches(buffer, name, o) : arrowBatches(openArrow(name, data), name, o);
  for await (const b of batches) take(b);
  return { records, sources, rejects };
}

function openArrow(name: string, data: Uint8Array): Iterable<unknown> {
  try {
    return RecordBatchReader.from(data) as unknown as Iterable<unknown>;
  } catch (e) {
    throw wrapTabularError(name, 'Arrow IPC', e);
  }
}

/** Parses Parquet bytes into records (portable; see {@link parquetBatches}). */
export async function parseParquet(
  buffer: ArrayBuffer,
  opts: ParseOptions & { file?: string } = {},
): Promise<{ records: object[]; rows: number[]; rejects: Reject[] }> {
  const rejects: Reject[] = [];
  const records: object[] = [];
  const rows: number[] = [];
  const o: ParseOptions = {
    ...opts,
    onReject: (r) => {
      rejects.push(r);
      opts.onReject?.(r);
    },
  };
  for await (const b of parquetBatches(buffer, opts.file ?? '(parquet)', o)) {
    records.push(...b.records);
    rows.push(...b.positions);
  }
  return { records, rows, rejects };
}

/** Parses Arrow IPC bytes (file or stream format) into records (portable). */
export async function parseArrow(
  bytes: Uint8Array,
  opts: ParseOptions & { file?: string } = {},
): Promise<{ records: object[]; rows: number[]; rejects: Reject[] }> {
  const file = opts.file ?? '(arrow)';
  checkMagic(file, 'arrow', bytes.subarray(0, 8));
  const rejects: Reject[] = [];
  const records: object[] = [];
  const rows: number[] = [];
  const o: ParseOptions = {
    ...opts,
    onReject: (r) => {
      rejects.push(r);
      opts.onReject?.(r);
    },
  };
  for await (const b of arrowBatches(openArrow(file, bytes), file, o)) {
    records.push(...b.records);
    rows.push(...b.positions);
  }
  return { records, rows, rejects };
}
