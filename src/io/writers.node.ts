// Streaming output files for batch commands: embeddings as Arrow IPC, NumPy .npy or JSON lines, and anomaly
// scores as JSON lines, CSV or Parquet, written batch by batch with bounded memory into temporary files
// beside the targets, which `close` renames into place and `abort` removes: an output is never truncated
// or left half-written by a job that fails; text formats can go to standard output (`-`).
import { closeSync, createWriteStream, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import {
  Field,
  FixedSizeList,
  Float32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { type ColumnSource, fileWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { fsyncDir, removeStaleTemps, writeAll, writeError } from './atomic.node.ts';

/** Embedding file formats. */
export type EmbeddingFormat = 'arrow' | 'npy' | 'jsonl';
export const EMBEDDING_FORMATS: readonly EmbeddingFormat[] = ['arrow', 'npy', 'jsonl'];

/** Score file formats. */
export type ScoreFormat = 'jsonl' | 'csv' | 'parquet';
export const SCORE_FORMATS: readonly ScoreFormat[] = ['jsonl', 'csv', 'parquet'];

/** The format a file name implies (`.arrow`/`.feather`, `.npy`, `.jsonl`/`.ndjson`, `.csv`, `.parquet`), or null. */
export function formatFromPath(path: string): EmbeddingFormat | ScoreFormat | null {
  const m = /\.([a-z]+)$/i.exec(path);
  const ext = m?.[1]?.toLowerCase();
  if (ext === 'arrow' || ext === 'feather' || ext === 'ipc') return 'arrow';
  if (ext === 'npy') return 'npy';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'csv') return 'csv';
  if (ext === 'parquet') return 'parquet';
  return null;
}

/** A float32 value as the shortest decimal that reads back to the same float32. */
export function float32Number(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(9)) : x;
}

/** The path that means standard output. */
export const STDOUT = '-';

/** Writes every byte to `fd`, waiting out a full non-blocking pipe. */
function writeAllText(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      // The reader is gone (`… -o - | head`): stop at once and silently, as a Unix tool killed by SIGPIPE.
      else if (code === 'EPIPE' && fd === 1) process.exit(141);
      else throw e;
    }
  }
}

/** An output file written under a temporary name and renamed into place by `commit`. */
export class StagedPath {
  readonly tmp: string;
  constructor(readonly path: string) {
    removeStaleTemps(dirname(path));
    this.tmp = `${path}.tmp-${process.pid}`;
  }
  /** Renames the finished temporary file over the target and fsyncs the folder. */
  commit(): void {
    try {
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw writeError(this.path, e);
    }
    fsyncDir(dirname(this.path));
  }
  /** Removes the temporary file; the target keeps what it held before. */
  abort(): void {
    rmSync(this.tmp, { force: true });
  }
}

/** A staged file written through one descriptor; write failures become one-line user errors. */
class StagedFile {
  readonly staged: StagedPath;
  private fd: number | null;
  constructor(readonly path: string) {
    this.staged = new StagedPath(path);
    try {
      this.fd = openSync(this.staged.tmp, 'w');
    } catch (e) {
      throw writeError(path, e);
    }
  }
  write(bytes: Uint8Array | string, position?: number): void {
    const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    if (data.length === 0) return;
    try {
      if (position === undefined) writeAll(this.fd!, data);
      else if (writeSync(this.fd!, data, 0, data.length, position) !== data.length) {
        throw Object.assign(new Error('short write'), { code: 'ESHORT' });
      }
    } catch (e) {
      throw writeError(this.path, e);
    }
  }
  /** Fsyncs, closes and renames the file into place. */
  close(): void {
    try {
      fsyncSync(this.fd!);
    } catch (e) {
      throw writeError(this.path, e);
    } finally {
      this.release();
    }
    this.staged.commit();
  }
  abort(): void {
    this.release();
    this.staged.abort();
  }
  private release(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * A text file written line batch by line batch under a temporary name, renamed into place by `close` and
 * removed by `abort` (the target keeps what it held); `-` is standard output (written at once, nothing to
 * stage).
 */
export class TextFile {
  private readonly file: StagedFile | null;
  constructor(readonly path: string) {
    this.file = path === STDOUT ? null : new StagedFile(path);
  }
  write(text: string): void {
    if (text.length === 0) return;
    if (this.file) this.file.write(text);
    else writeAllText(1, text);
  }
  close(): void {
    this.file?.close();
  }
  abort(): void {
    this.file?.abort();
  }
}

/** Writes embeddings batch by batch; `close` finishes the file. */
export interface EmbeddingWriter {
  readonly format: EmbeddingFormat;
  /** Appends rows: one uid (or null) per row and the embeddings, row-major [rows, dimension]. */
  write(uids: readonly (string | null)[], embeddings: Float32Array): Promise<void>;
  /** Finishes the file(s) and moves them into place; returns the rows written and every file written. */
  close(): Promise<{ rows: number; files: string[] }>;
  /** Removes what was written; files that existed before keep their content. */
  abort(): Promise<void>;
}

/** Provenance recorded in the file where the format has room for it (Arrow schema metadata). */
export type WriterMetadata = Record<string, string>;

function checkRows(uids: readonly unknown[], embeddings: Float32Array, d: number): void {
  if (embeddings.length !== uids.length * d) {
    throw new RangeError(`${uids.length} uids but ${embeddings.length / d} rows of width ${d}`);
  }
}

class JsonlEmbeddingWriter implements EmbeddingWriter {
  readonly format = 'jsonl';
  private readonly file: TextFile;
  private rows = 0;
  constructor(
    path: string,
    private readonly d: number,
  ) {
    this.file = new TextFile(path);
  }
  async write(uids: readonly (string | null)[], embeddings: Float32Array): Promise<void> {
    checkRows(uids, embeddings, this.d);
    const d = this.d;
    const lines: string[] = [];
    for (let i = 0; i < uids.length; i++) {
      const v = new Array<number>(d);
      for (let j = 0; j < d; j++) v[j] = float32Number(embeddings[i * d + j]!);
      lines.push(JSON.stringify({ uid: uids[i], embedding: v }));
    }
    if (lines.length > 0) this.file.write(`${lines.join('\n')}\n`);
    this.rows += uids.length;
  }
  async close() {
    this.file.close();
    return { rows: this.rows, files: [this.file.path] };
  }
  async abort() {
    this.file.abort();
  }
}

/** Bytes of an .npy header reserved up front, so that the final shape can be written over it in place. */
const NPY_HEADER_BYTES = 128;

/** The .npy v1.0 header for a little-endian float32 C-order array of `rows` × `d`, padded to `NPY_HEADER_BYTES`. */
export function npyHeader(rows: number, d: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${d}), }`;
  const headerLen = NPY_HEADER_BYTES - 10;
  if (dict.length + 1 > headerLen) throw new RangeError(`shape (${rows}, ${d}) does not fit the .npy header`);
  const out = new Uint8Array(NPY_HEADER_BYTES);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, headerLen & 0xff, headerLen >> 8]);
  const text = `${dict.padEnd(headerLen - 1, ' ')}\n`;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** Where an .npy file's uids go: `x.npy` → `x.uids.jsonl`. */
export function npyUidsPath(path: string): string {
  return `${path.replace(/\.npy$/i, '')}.uids.jsonl`;
}

class NpyEmbeddingWriter implements EmbeddingWriter {
  readonly format = 'npy';
  private readonly file: StagedFile;
  private readonly uidFile: TextFile;
  private rows = 0;
  constructor(
    private readonly path: string,
    private readonly d: number,
  ) {
    if (endianness() !== 'LE')
      throw new Error('.npy output is written little-endian; this host is big-endian');
    this.file = new StagedFile(path);
    this.file.write(npyHeader(0, d));
    this.uidFile = new TextFile(npyUidsPath(path));
  }
  async write(uids: readonly (string | null)[], embeddings: Float32Array): Promise<void> {
    checkRows(uids, embeddings, this.d);
    this.file.write(new Uint8Array(embeddings.buffer, embeddings.byteOffset, embeddings.byteLength));
    if (uids.length > 0) this.uidFile.write(`${uids.map((u) => JSON.stringify(u)).join('\n')}\n`);
    this.rows += uids.length;
  }
  async close() {
    this.file.write(npyHeader(this.rows, this.d), 0);
    this.file.close();
    this.uidFile.close();
    return { rows: this.rows, files: [this.path, this.uidFile.path] };
  }
  async abort() {
    this.file.abort();
    this.uidFile.abort();
  }
}

class ArrowEmbeddingWriter implements EmbeddingWriter {
  readonly format = 'arrow';
  private readonly schema: Schema;
  private readonly writer = new RecordBatchFileWriter();
  private readonly done: Promise<void>;
  private readonly staged: StagedPath;
  private rows = 0;
  constructor(
    private readonly path: string,
    private readonly d: number,
    metadata: WriterMetadata,
  ) {
    this.staged = new StagedPath(path);
    const listType = new FixedSizeList(d, new Field('item', new Float32(), false));
    this.schema = new Schema(
      [new Field('uid', new Utf8(), true), new Field('embedding', listType, false)],
      new Map(Object.entries(metadata)),
    );
    const out = createWriteStream(this.staged.tmp);
    this.writer.toNodeStream().pipe(out);
    this.done = finished(out);
    this.done.catch(() => undefined);
  }
  async write(uids: readonly (string | null)[], embeddings: Float32Array): Promise<void> {
    checkRows(uids, embeddings, this.d);
    const n = uids.length;
    if (n === 0) return;
    const [uidField, embField] = this.schema.fields as [Field<Utf8>, Field<FixedSizeList<Float32>>];
    const child = makeData({ type: new Float32(), length: n * this.d, data: embeddings.slice() });
    const list = makeData({ type: embField.type, length: n, nullCount: 0, child });
    const uid = vectorFromArray(uids as (string | null)[], uidField.type).data[0]!;
    const data = makeData({
      type: new Struct(this.schema.fields),
      length: n,
      nullCount: 0,
      children: [uid, list],
    });
    this.writer.write(new RecordBatch(this.schema, data));
    this.rows += n;
  }
  async close() {
    if (this.rows === 0) this.writer.reset(undefined, this.schema);
    this.writer.finish();
    try {
      await this.done;
    } catch (e) {
      this.staged.abort();
      throw writeError(this.path, e);
    }
    this.staged.commit();
    return { rows: this.rows, files: [this.path] };
  }
  async abort() {
    this.writer.abort();
    await this.done.catch(() => undefined);
    this.staged.abort();
  }
}

/**
 * Opens an embedding writer. Formats:
 * - `arrow`: an Arrow IPC file with columns `uid` (utf8, nullable) and `embedding`
 *   (fixed_size_list<float32>[dimension]); `metadata` goes into the schema metadata.
 * - `npy`: a float32 array [rows, dimension] (the header is rewritten with the final row count), and the
 *   uids beside it in `<name>.uids.jsonl`, one JSON string (or null) per line.
 * - `jsonl`: one `{"uid": …, "embedding": [...]}` per line.
 */
export function openEmbeddingWriter(
  path: string,
  format: EmbeddingFormat,
  dimension: number,
  metadata: WriterMetadata = {},
): EmbeddingWriter {
  if (format === 'npy') return new NpyEmbeddingWriter(path, dimension);
  if (format === 'arrow') return new ArrowEmbeddingWriter(path, dimension, metadata);
  return new JsonlEmbeddingWriter(path, dimension);
}

/** One scored event. */
export interface ScoreRow {
  uid: string | null;
  score: number;
  threshold: number;
  is_anomaly: boolean;
  /** Uids of the nearest reference events, nearest first (up to 3). */
  nearest: string[];
  /** The fields that make the event unusual, as one line (empty when nothing stands out). */
  why?: string;
  /** The same fields one by one (JSON lines only). */
  reasons?: { field: string; value: string; reason: string }[];
}

/** Writes score rows batch by batch; `close` finishes the file. */
export interface ScoreWriter {
  readonly format: ScoreFormat;
  write(rows: readonly ScoreRow[]): Promise<void>;
  /** Finishes the file and moves it into place. */
  close(): Promise<{ rows: number }>;
  /** Removes what was written; a file that existed before keeps its content. */
  abort(): Promise<void>;
}

/** Nearest-neighbour columns in CSV and Parquet files. */
export const NEAREST_COLUMNS = ['nearest_1', 'nearest_2', 'nearest_3'] as const;

/** The CSV header of a scores file. */
export const SCORE_CSV_COLUMNS = [
  'uid',
  'score',
  'threshold',
  'is_anomaly',
  ...NEAREST_COLUMNS,
  'why',
] as const;

function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

class TextScoreWriter implements ScoreWriter {
  private readonly file: TextFile;
  private rows = 0;
  constructor(
    path: string,
    readonly format: 'jsonl' | 'csv',
  ) {
    this.file = new TextFile(path);
    if (format === 'csv') this.file.write(`${SCORE_CSV_COLUMNS.join(',')}\n`);
  }
  async write(rows: readonly ScoreRow[]): Promise<void> {
    const lines = rows.map((r) => {
      const s = float32Number(r.score);
      if (this.format === 'jsonl') {
        return JSON.stringify({
          uid: r.uid,
          score: s,
          threshold: r.threshold,
          is_anomaly: r.is_anomaly,
          nearest: r.nearest,
          why: r.why ?? '',
          reasons: r.reasons ?? [],
        });
      }
      return [r.uid, s, r.threshold, r.is_anomaly, ...NEAREST_COLUMNS.map((_, j) => r.nearest[j]), r.why]
        .map(csvCell)
        .join(',');
    });
    if (lines.length > 0) this.file.write(`${lines.join('\n')}\n`);
    this.rows += rows.length;
  }
  async close() {
    this.file.close();
    return { rows: this.rows };
  }
  async abort() {
    this.file.abort();
  }
}

const PARQUET_ROW_GROUP = 65536;

class ParquetScoreWriter implements ScoreWriter {
  readonly format = 'parquet';
  private readonly writer: ParquetWriter;
  private readonly staged: StagedPath;
  private pending: ScoreRow[] = [];
  private rows = 0;
  constructor(
    private readonly path: string,
    metadata: WriterMetadata,
  ) {
    this.staged = new StagedPath(path);
    const optionalString = (name: string): SchemaElement => ({
      name,
      type: 'BYTE_ARRAY',
      converted_type: 'UTF8',
      repetition_type: 'OPTIONAL',
    });
    const schema: SchemaElement[] = [
      { name: 'root', num_children: 5 + NEAREST_COLUMNS.length },
      optionalString('uid'),
      { name: 'score', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'threshold', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'is_anomaly', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
      ...NEAREST_COLUMNS.map(optionalString),
      optionalString('why'),
    ];
    this.writer = new ParquetWriter({
      writer: this.fileWriter(),
      schema,
      kvMetadata: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      createdBy: 'ocsf-embed score',
    });
  }
  async write(rows: readonly ScoreRow[]): Promise<void> {
    for (const r of rows) this.pending.push(r);
    if (this.pending.length >= PARQUET_ROW_GROUP) await this.flush();
  }
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    const columnData: ColumnSource[] = [
      { name: 'uid', data: rows.map((r) => r.uid), nullable: true },
      { name: 'score', data: Float64Array.from(rows, (r) => r.score), nullable: false },
      { name: 'threshold', data: Float64Array.from(rows, (r) => r.threshold), nullable: false },
      { name: 'is_anomaly', data: rows.map((r) => r.is_anomaly), nullable: false },
      ...NEAREST_COLUMNS.map((name, j) => ({
        name,
        data: rows.map((r) => r.nearest[j] ?? null),
        nullable: true,
      })),
      { name: 'why', data: rows.map((r) => r.why ?? ''), nullable: true },
    ];
    try {
      await this.writer.write({ columnData, rowGroupSize: PARQUET_ROW_GROUP });
    } catch (e) {
      throw writeError(this.path, e);
    }
    this.rows += rows.length;
  }
  private fileWriter() {
    try {
      return fileWriter(this.staged.tmp);
    } catch (e) {
      throw writeError(this.path, e);
    }
  }
  async close() {
    await this.flush();
    try {
      await this.writer.finish();
    } catch (e) {
      this.staged.abort();
      throw writeError(this.path, e);
    }
    this.staged.commit();
    return { rows: this.rows };
  }
  async abort() {
    this.staged.abort();
  }
}

/**
 * Opens a score writer. Every format has `uid`, `score`, `threshold`, `is_anomaly`; JSON lines hold
 * `nearest` as an array of uids, CSV and Parquet as the columns `nearest_1` … `nearest_3` (empty or null
 * where the reference has fewer rows); every format has `why` (the fields that make the event unusual, one
 * line), JSON lines also `reasons` (the same fields as objects).
 */
export function openScoreWriter(
  path: string,
  format: ScoreFormat,
  metadata: WriterMetadata = {},
): ScoreWriter {
  if (format === 'parquet') return new ParquetScoreWriter(path, metadata);
  return new TextScoreWriter(path, format);
}
