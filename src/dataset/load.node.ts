// Node loading of events into memory with accounting: every bad record goes to a JSONL rejects
// file with its position and reason, and the summary counts reads, rejects and empty files.
import { closeSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.ts';
import {
  expandInputs,
  type FileReport,
  isStdin,
  type ReadOptions,
  readEventBatches,
} from '../data/readers.node.ts';
import type { ReadLimits, Reject, SourcePos } from '../data/records.ts';
import { checkRecord, numericChecker, type RecordProblem, specSourcePaths } from '../features/encode.ts';
import type { FittedSpec } from '../features/types.ts';
import { writeAll, writeError } from '../io/atomic.node.ts';

/** Core OCSF fields that must hold numbers; checked on load even without a spec. */
export const CORE_NUMERIC_PATHS: readonly string[] = [
  'time',
  'duration',
  'class_uid',
  'category_uid',
  'activity_id',
  'type_uid',
  'severity_id',
  'status_id',
  'traffic.bytes',
  'traffic.bytes_in',
  'traffic.bytes_out',
  'traffic.packets',
  'src_endpoint.port',
  'dst_endpoint.port',
  'http_response.code',
  'http_response.latency',
  'http_response.length',
  'http_request.length',
];

/** Counts of what loading read, kept and rejected. */
export interface LoadSummary {
  /** Records seen (kept + rejected). */
  read: number;
  /** Records kept. */
  accepted: number;
  rejected: number;
  byReason: Record<string, number>;
  files: FileReport[];
  emptyFiles: string[];
  /** Files in input directories skipped for their type. */
  skippedFiles: string[];
  /** Where rejects were written, if anywhere. */
  rejectsPath: string | null;
  /** Reading stopped at `limit` records. */
  truncated: boolean;
  /** Text lines with bytes that are not UTF-8 (read with U+FFFD in their place). */
  invalidUtf8: number;
}

/** Events in memory with their positions and the load summary. */
export interface LoadedEvents {
  records: object[];
  sources: SourcePos[];
  summary: LoadSummary;
}

/** Options for {@link loadEvents}. */
export interface LoadOptions {
  /** JSONL file for rejected records (created or replaced). Without it, rejects are only counted. */
  rejectsPath?: string;
  /** A fitted spec: its numeric fields are checked and Parquet/Arrow files must hold some of its columns. */
  spec?: FittedSpec;
  /** Check the core OCSF numeric fields (time, ids, bytes, ports, codes) hold numbers (default true). */
  checkTypes?: boolean;
  limits?: Partial<ReadLimits>;
  /** Stop after this many kept records. */
  limit?: number;
  /** Called with each reject as well as writing it. */
  onReject?: (reject: Reject) => void;
  /**
   * Fail (a {@link UserError}) when more than this share of the events read is rejected, or when
   * none is kept; see {@link checkRejectRate}. Unset: only an input without any events fails.
   */
  maxRejectFraction?: number;
}

/** The share of rejected events above which the commands stop instead of going on with the rest. */
export const DEFAULT_MAX_REJECT_FRACTION = 0.5;

/**
 * Throws a {@link UserError} when a load kept nothing, or rejected more than `maxFraction` of what it
 * read: a run on the remainder would look like success while most of the input was thrown away.
 */
export function checkRejectRate(s: LoadSummary, maxFraction = DEFAULT_MAX_REJECT_FRACTION): void {
  const read = s.accepted + s.rejected;
  if (read === 0 || (s.accepted > 0 && s.rejected <= maxFraction * read)) return;
  const top = Object.entries(s.byReason).sort((a, b) => b[1] - a[1])[0];
  const why = top ? ` (mostly ${top[0]}: ${top[1]})` : '';
  const where = s.rejectsPath ? `see ${s.rejectsPath}` : 'pass --rejects FILE to see them';
  if (s.accepted === 0) {
    throw new UserError(
      `all ${read} events were rejected${why}; nothing to work on: ${where}, and fix the input`,
    );
  }
  throw new UserError(
    `${s.rejected} of ${read} events were rejected${why}, more than the allowed share of ${maxFraction}: ${where} and fix the input, or raise --max-reject-fraction (up to 1) to go on with the ${s.accepted} kept`,
  );
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return `${realpathSync(dirname(resolve(path)))}${sep}${resolve(path).split(sep).pop()}`;
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Refuses outputs that would overwrite or be read as an input: an output that is one of the input files
 * (after links), or that lies inside an input folder. Each output is `[flag, path]`.
 */
export async function checkOutputsApart(
  inputs: readonly string[],
  outputs: readonly (readonly [string, string | null | undefined])[],
): Promise<void> {
  const { files } = await expandInputs(inputs).catch(() => ({ files: [] as string[] }));
  const inputFiles = new Set(files.filter((f) => !isStdin(f)).map(realOrResolved));
  const folders = inputs
    .filter((p) => !isStdin(p))
    .map(realOrResolved)
    .filter((p) => !inputFiles.has(p));
  for (const [flag, path] of outputs) {
    if (!path || path === '-') continue; // standard output
    const out = realOrResolved(path);
    if (inputFiles.has(out)) {
      throw new UserError(
        `${flag} ${path} is also an input: writing it would destroy the events; choose another file`,
      );
    }
    const inside = folders.find((d) => out.startsWith(`${d}${sep}`));
    if (inside) {
      throw new UserError(
        `${flag} ${path} is inside the input folder ${inside}: it would be read as events next time; write it elsewhere`,
      );
    }
  }
}

/**
 * Appends rejects to a JSONL file, one object per line with file, line/row, reason, detail and text. The
 * file is opened at the first reject, or empty at `close()` (a load that succeeded): a load that fails
 * before rejecting anything leaves no file behind and an earlier one as it was.
 */
export class RejectsWriter {
  private fd: number | null = null;
  private buf: string[] = [];

  constructor(
    readonly path: string,
    private readonly append = false,
  ) {}

  private handle(): number {
    if (this.fd === null) {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        this.fd = openSync(this.path, this.append ? 'a' : 'w');
      } catch (e) {
        throw writeError(this.path, e);
      }
    }
    return this.fd;
  }

  write(r: Reject): void {
    this.buf.push(JSON.stringify(r));
    if (this.buf.length >= 1024) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0) return;
    const text = `${this.buf.join('\n')}\n`;
    this.buf = [];
    try {
      writeAll(this.handle(), Buffer.from(text));
    } catch (e) {
      throw writeError(this.path, e);
    }
  }

  /** Writes what is left and closes the file (creating it, empty, when nothing was rejected). */
  close(): void {
    this.flush();
    closeSync(this.handle());
    this.fd = null;
  }

  /** After a failed load: keeps the rejects written so far, creates no file when there were none. */
  abort(): void {
    if (this.buf.length > 0) this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function problemReject(source: SourcePos, p: RecordProblem, record: object): Reject {
  let text = JSON.stringify(record);
  if (text.length > 200) text = `${text.slice(0, 200)}…`;
  return { ...source, reason: p.reason, detail: p.detail, text };
}

function newSummary(rejectsPath: string | undefined): LoadSummary {
  return {
    read: 0,
    accepted: 0,
    rejected: 0,
    byReason: {},
    files: [],
    emptyFiles: [],
    skippedFiles: [],
    rejectsPath: rejectsPath ?? null,
    truncated: false,
    invalidUtf8: 0,
  };
}

/**
 * Streams events from files, directories and globs to `onRecord` with the same checks and
 * accounting as {@link loadEvents}, without holding them. Return `false` from `onRecord` to stop;
 * return a promise to make reading wait for it.
 */
export async function streamEvents(
  inputs: readonly string[],
  opts: LoadOptions,
  onRecord: (record: object, source: SourcePos) => boolean | undefined | Promise<boolean | undefined>,
): Promise<LoadSummary> {
  const writer = opts.rejectsPath ? new RejectsWriter(opts.rejectsPath) : null;
  const summary = newSummary(opts.rejectsPath);
  const onReject = (r: Reject) => {
    summary.rejected++;
    summary.byReason[r.reason] = (summary.byReason[r.reason] ?? 0) + 1;
    writer?.write(r);
    opts.onReject?.(r);
  };
  const check = opts.spec
    ? (r: object) => checkRecord(opts.spec!, r)
    : opts.checkTypes === false
      ? null
      : numericChecker(CORE_NUMERIC_PATHS);
  const readOpts: ReadOptions = {
    onReject,
    onFile: (f) => {
      summary.files.push(f);
      summary.invalidUtf8 += f.invalidUtf8;
      if (f.empty) summary.emptyFiles.push(f.file);
    },
    onSkippedFile: (f) => summary.skippedFiles.push(f),
  };
  if (opts.limits) readOpts.limits = opts.limits;
  if (opts.spec) readOpts.expectPaths = specSourcePaths(opts.spec);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  try {
    outer: for await (const b of readEventBatches(inputs, readOpts)) {
      const line = b.unit === 'line';
      for (let i = 0; i < b.records.length; i++) {
        const record = b.records[i]!;
        const source: SourcePos = line
          ? { file: b.file, line: b.positions[i]! }
          : { file: b.file, row: b.positions[i]! };
        const p = check?.(record);
        if (p) {
          onReject(problemReject(source, p, record));
          continue;
        }
        summary.accepted++;
        let verdict = onRecord(record, source);
        if (verdict instanceof Promise) verdict = await verdict;
        if (verdict === false || summary.accepted >= limit) {
          summary.truncated = true;
          break outer;
        }
      }
    }
  } catch (e) {
    writer?.abort();
    throw e;
  }
  writer?.close();
  summary.read = summary.accepted + summary.rejected;
  if (summary.read === 0) {
    const empties = summary.emptyFiles.length > 0 ? ` (empty: ${summary.emptyFiles.join(', ')})` : '';
    throw new UserError(
      `No events found in ${inputs.join(', ')}${empties}: check the paths and that the files hold events.`,
    );
  }
  if (opts.maxRejectFraction !== undefined) checkRejectRate(summary, opts.maxRejectFraction);
  return summary;
}

/**
 * Streams accepted events in chunks of `size` to `onChunk` (with the input-order index of the
 * chunk's first event), waiting for each chunk before reading on, so memory stays bounded by the
 * chunk size. Checks, rejects and the summary are those of {@link streamEvents}.
 */
export async function streamEventChunks(
  inputs: readonly string[],
  opts: LoadOptions & { size: number },
  onChunk: (records: object[], start: number) => Promise<void>,
): Promise<LoadSummary> {
  let pending: object[] = [];
  let start = 0;
  const flush = async () => {
    const chunk = pending;
    pending = [];
    await onChunk(chunk, start);
    start += chunk.length;
  };
  const summary = await streamEvents(inputs, opts, (record) => {
    pending.push(record);
    return pending.length >= opts.size ? flush().then(() => undefined) : undefined;
  });
  if (pending.length > 0) await flush();
  return summary;
}

/**
 * Loads events from files, directories and globs into memory. Bad records (malformed JSON,
 * non-objects, NaN/Infinity, oversize records or strings, text in numeric fields) are written
 * to `rejectsPath` and counted by reason; they never stop the load. File-level problems
 * (unknown type, wrong content, unreadable Parquet/Arrow, no usable columns) throw an
 * {@link UserError} that says what to do; so does an input with no events at all.
 */
export async function loadEvents(inputs: readonly string[], opts: LoadOptions = {}): Promise<LoadedEvents> {
  const records: object[] = [];
  const sources: SourcePos[] = [];
  const summary = await streamEvents(inputs, opts, (record, source) => {
    records.push(record);
    sources.push(source);
    return true;
  });
  return { records, sources, summary };
}

/**
 * Moves records that do not fit a spec (text or non-finite numbers in the fields it reads as
 * numbers) out of `loaded` into the rejects file (appended) and the summary's counts.
 */
export function rejectUnfit(loaded: LoadedEvents, spec: FittedSpec, rejectsPath?: string): LoadedEvents {
  const path = rejectsPath ?? loaded.summary.rejectsPath ?? undefined;
  const writer = path ? new RejectsWriter(path, true) : null;
  const summary: LoadSummary = { ...loaded.summary, byReason: { ...loaded.summary.byReason } };
  const records: object[] = [];
  const sources: SourcePos[] = [];
  try {
    loaded.records.forEach((r, i) => {
      const p = checkRecord(spec, r);
      if (!p) {
        records.push(r);
        sources.push(loaded.sources[i]!);
        return;
      }
      summary.rejected++;
      summary.byReason[p.reason] = (summary.byReason[p.reason] ?? 0) + 1;
      writer?.write(problemReject(loaded.sources[i]!, p, r));
    });
  } catch (e) {
    writer?.abort();
    throw e;
  }
  writer?.close();
  summary.accepted = records.length;
  if (path) summary.rejectsPath = path;
  return { records, sources, summary };
}

/** A one-paragraph account of a load for the terminal. */
export function formatLoadSummary(s: LoadSummary): string {
  const parts = [
    `read ${s.read} events from ${s.files.length} file(s): ${s.accepted} kept, ${s.rejected} rejected`,
  ];
  const reasons = Object.entries(s.byReason)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`);
  if (reasons.length > 0) parts.push(`rejects by reason: ${reasons.join(', ')}`);
  if (s.rejected > 0)
    parts.push(s.rejectsPath ? `rejects written to ${s.rejectsPath}` : 'pass --rejects FILE to see them');
  if (s.emptyFiles.length > 0) parts.push(`empty files: ${s.emptyFiles.join(', ')}`);
  if (s.skippedFiles.length > 0) parts.push(`skipped (not event files): ${s.skippedFiles.length}`);
  if (s.invalidUtf8 > 0) {
    parts.push(`${s.invalidUtf8} line(s) held bytes that are not UTF-8 (read as U+FFFD)`);
  }
  if (s.truncated) parts.push('stopped at the record limit');
  return parts.join('; ');
}
