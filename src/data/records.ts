// Portable record checks shared by every reader: rejects (reason + source position), size
// limits, JSON lines, and the conversion of Parquet/Arrow rows into event records.
import { Vector } from 'apache-arrow';
import { bigintValue } from './flatten.ts';
import { columnNameToPath, ocsfKind } from './ocsf-paths.ts';

/** Where a record came from: the file and its 1-based line (text formats) or 0-based row (Parquet, Arrow). */
export interface SourcePos {
  file: string;
  line?: number;
  row?: number;
}

/** Why a record was rejected. */
export type RejectReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'non_finite_number'
  | 'oversize_record'
  | 'oversize_string'
  | 'wrong_type'
  | 'malformed_json_column'
  | 'too_deep'
  | 'too_many_fields'
  | 'corrupt_data'
  | 'unreadable_file';

/** A rejected record: its position, the reason, a detail message and the start of its text. */
export interface Reject extends SourcePos {
  reason: RejectReason;
  detail: string;
  text?: string;
}

/** Size limits that make a record a reject instead of a memory problem. */
export interface ReadLimits {
  /** Longest line or row, in characters (default 1 MiB). */
  maxRecordBytes: number;
  /** Longest string value, in characters (default 256 KiB). */
  maxStringLength: number;
  /** Parquet/Arrow only: read NaN in float columns as missing instead of rejecting the row (default false). */
  nanAsMissing: boolean;
  /** Deepest nesting of objects and arrays in a record (default 32). */
  maxDepth: number;
  /** Most values (objects, arrays and leaves together) in a record (default 10,000). */
  maxFields: number;
}

/** The default {@link ReadLimits}. */
export const DEFAULT_LIMITS: ReadLimits = {
  maxRecordBytes: 1 << 20,
  maxStringLength: 1 << 18,
  nanAsMissing: false,
  maxDepth: 32,
  maxFields: 10_000,
};

/** Fills in unset limits. */
export function readLimits(l?: Partial<ReadLimits>): ReadLimits {
  return { ...DEFAULT_LIMITS, ...l };
}

const SNIPPET = 200;

/**
 * Why a parsed record is too deep or too wide for the limits, or null. Walks the value without
 * recursion and stops at the first excess, so a nesting or width bomb costs no more than the limit.
 */
export function shapeProblem(
  v: unknown,
  limits: Pick<ReadLimits, 'maxDepth' | 'maxFields'>,
): { reason: 'too_deep' | 'too_many_fields'; detail: string } | null {
  const stack: unknown[] = [v];
  const depths: number[] = [0];
  let fields = 0;
  while (stack.length > 0) {
    const x = stack.pop();
    const depth = depths.pop()!;
    if (++fields > limits.maxFields) {
      return {
        reason: 'too_many_fields',
        detail: `the event has more than ${limits.maxFields} values; raise --max-fields if such events are expected`,
      };
    }
    if (x === null || typeof x !== 'object') continue;
    if (depth >= limits.maxDepth) {
      return {
        reason: 'too_deep',
        detail: `objects and arrays nest deeper than ${limits.maxDepth} levels; raise --max-depth if such events are expected`,
      };
    }
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length && stack.length <= limits.maxFields; i++) {
        stack.push(x[i]);
        depths.push(depth + 1);
      }
    } else if (!(x instanceof Date) && !ArrayBuffer.isView(x)) {
      for (const k in x as Record<string, unknown>) {
        stack.push((x as Record<string, unknown>)[k]);
        depths.push(depth + 1);
        if (stack.length > limits.maxFields) break;
      }
    }
  }
  return null;
}

/**
 * True when JSON text of this size cannot break the shape limits, so the parsed value need not be
 * walked: every value takes at least one character of the text (so a text no longer than `maxFields`
 * holds at most that many values), and nesting `maxDepth` deep takes more than `maxDepth` of `{` and `[`.
 */
function withinShape(text: string, limits: Pick<ReadLimits, 'maxDepth' | 'maxFields'>): boolean {
  if (text.length > limits.maxFields) return false;
  let openers = 0;
  for (const c of ['{', '[']) {
    for (let i = text.indexOf(c); i >= 0; i = text.indexOf(c, i + 1)) {
      if (++openers > limits.maxDepth) return false;
    }
  }
  return true;
}

/** The start of a record's text, for a rejects file. */
export function snippet(text: string): string {
  return text.length > SNIPPET ? `${text.slice(0, SNIPPET)}…` : text;
}

/** Path and length of the first string longer than `max` inside `v`, or null. */
export function findLongString(v: unknown, max: number, path = ''): [string, number] | null {
  if (typeof v === 'string') return v.length > max ? [path || '(value)', v.length] : null;
  if (v === null || typeof v !== 'object') return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findLongString(v[i], max, `${path}[${i}]`);
      if (r) return r;
    }
    return null;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const r = findLongString(o[k], max, path ? `${path}.${k}` : k);
    if (r) return r;
  }
  return null;
}

const NON_FINITE = /(^|[^A-Za-z"])(NaN|-?Infinity)([^A-Za-z"]|$)/;

/**
 * Parses one JSON line into a record, or returns a reject. Checks the size limits, that the
 * line is a JSON object, and says when a parse failure comes from NaN/Infinity tokens.
 */
export function parseJsonLine(
  text: string,
  pos: SourcePos,
  limits: ReadLimits,
): { record: object; reject?: undefined } | { record?: undefined; reject: Reject } {
  if (text.length > limits.maxRecordBytes) {
    return {
      reject: {
        ...pos,
        reason: 'oversize_record',
        detail: `line has ${text.length} characters, over the limit of ${limits.maxRecordBytes}; raise --max-record-bytes if such events are expected`,
        text: snippet(text),
      },
    };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    if (NON_FINITE.test(text)) {
      return {
        reject: {
          ...pos,
          reason: 'non_finite_number',
          detail: 'NaN or Infinity is not JSON; write null for a missing number',
          text: snippet(text),
        },
      };
    }
    return {
      reject: { ...pos, reason: 'malformed_json', detail: (e as Error).message, text: snippet(text) },
    };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    return {
      reject: {
        ...pos,
        reason: 'not_an_object',
        detail: `expected one JSON object per line, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`,
        text: snippet(text),
      },
    };
  }
  if (!withinShape(text, limits)) {
    const shape = shapeProblem(v, limits);
    if (shape) return { reject: { ...pos, ...shape, text: snippet(text) } };
  }
  if (text.length > limits.maxStringLength) {
    const long = findLongString(v, limits.maxStringLength);
    if (long) return { reject: oversizeString(pos, long, limits, text) };
  }
  return { record: v };
}

function oversizeString(
  pos: SourcePos,
  [path, len]: [string, number],
  limits: ReadLimits,
  text?: string,
): Reject {
  const r: Reject = {
    ...pos,
    reason: 'oversize_string',
    detail: `${path} has ${len} characters, over the limit of ${limits.maxStringLength}; raise --max-string-length if such values are expected`,
  };
  if (text !== undefined) r.text = snippet(text);
  return r;
}

/**
 * Splits text into lines incrementally (chunks may cut lines anywhere), tracking 1-based line
 * numbers; blank lines are skipped, a line ends at `\n`, `\r\n` or a lone `\r` (old Mac files), a
 * leading BOM is dropped, and a line longer than the limit is never buffered whole: it is reported as
 * oversize once it ends.
 */
export class LineSplitter {
  private pending = '';
  private line = 0;
  private skipping = false;
  private skipped = 0;
  private first = true;
  /** The previous chunk ended in `\r`: a `\n` starting this one belongs to that break. */
  private afterCR = false;

  constructor(
    private readonly maxLine: number,
    private readonly onLine: (text: string, line: number) => void,
    private readonly onOversize: (line: number, length: number, head: string) => void,
  ) {}

  /** Feeds a chunk of text. */
  push(chunk: string): void {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let start = 0;
    if (this.afterCR) {
      this.afterCR = false;
      if (chunk.charCodeAt(0) === 10) start = 1;
    }
    let lf = chunk.indexOf('\n', start);
    let cr = chunk.indexOf('\r', start);
    for (;;) {
      if (lf >= 0 && lf < start) lf = chunk.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = chunk.indexOf('\r', start);
      const nl = cr < 0 ? lf : lf < 0 ? cr : Math.min(lf, cr);
      if (nl < 0) break;
      this.line++;
      if (this.skipping) {
        this.onOversize(this.line, this.skipped + nl - start, this.pending);
        this.skipping = false;
        this.pending = '';
      } else {
        const text = this.pending.length > 0 ? this.pending + chunk.slice(start, nl) : chunk.slice(start, nl);
        this.pending = '';
        this.emit(text);
      }
      start = nl + 1;
      if (nl === cr) {
        if (start === chunk.length) this.afterCR = true;
        else if (chunk.charCodeAt(start) === 10) start++;
      }
    }
    if (start < chunk.length) {
      if (this.skipping) this.skipped += chunk.length - start;
      else {
        this.pending += chunk.slice(start);
        if (this.pending.length > this.maxLine) {
          this.skipping = true;
          this.skipped = this.pending.length;
          this.pending = this.pending.slice(0, SNIPPET);
        }
      }
    }
  }

  /** Flushes the last line (one without a final newline). */
  end(): void {
    if (this.skipping) {
      this.line++;
      this.onOversize(this.line, this.skipped, this.pending);
    } else if (this.pending.length > 0) {
      this.line++;
      this.emit(this.pending);
    }
    this.pending = '';
    this.skipping = false;
  }

  /** Lines seen so far. */
  get lines(): number {
    return this.line;
  }

  private emit(text: string): void {
    const n = text.length;
    const t = n > 0 && text.charCodeAt(n - 1) === 13 ? text.slice(0, n - 1) : text;
    if (t.length === 0 || isBlank(t)) return;
    this.onLine(t, this.line);
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** How a tabular (Parquet/Arrow) file's columns map onto an event record. */
export interface ColumnPlan {
  names: string[];
  paths: string[];
  /** Column holds JSON text of an OCSF object or array, to be parsed. */
  json: boolean[];
}

/**
 * Plans the columns of a tabular file: names become OCSF paths ({@link columnNameToPath}) and
 * string columns holding JSON objects or arrays are marked for parsing — those named like an
 * OCSF object (`actor`, `src_endpoint`), or unknown columns whose first values all parse as
 * JSON objects/arrays.
 */
export function planColumns(names: string[], firstRows: (name: string) => unknown[]): ColumnPlan {
  const paths = names.map(columnNameToPath);
  const json = names.map((name, i) => {
    const values = firstRows(name).filter((v) => typeof v === 'string' && v.length > 0) as string[];
    if (values.length === 0) return false;
    const kind = ocsfKind(paths[i]!);
    if (kind === 'object' || kind === 'array') return true;
    if (kind !== undefined) return false;
    return values.slice(0, 20).every((v) => {
      const c = v.charCodeAt(0);
      if (c !== 123 && c !== 91) return false;
      try {
        const p = JSON.parse(v);
        return p !== null && typeof p === 'object';
      } catch {
        return false;
      }
    });
  });
  return { names, paths, json };
}

/** True when any column (or an object column above it) provides one of `expected` paths. */
export function coversAny(plan: ColumnPlan, expected: readonly string[]): boolean {
  return expected.some((p) =>
    plan.paths.some(
      (c) => c === p || p.startsWith(`${c}.`) || p.startsWith(`${c}[`) || c.startsWith(`${p}.`),
    ),
  );
}

function convertValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'bigint':
      return bigintValue(v);
    case 'object': {
      if (v instanceof Date) return v;
      if (ArrayBuffer.isView(v)) return null;
      if (Array.isArray(v)) return v.map(convertValue);
      if (v instanceof Vector) return Array.from(v as Iterable<unknown>, convertValue);
      const o = v as { toJSON?: () => unknown };
      const plain = typeof o.toJSON === 'function' ? (o.toJSON() as Record<string, unknown>) : o;
      if (plain === null || typeof plain !== 'object') return plain;
      const out: Record<string, unknown> = {};
      for (const k in plain) out[k] = convertValue((plain as Record<string, unknown>)[k]);
      return out;
    }
    default:
      return v;
  }
}

/**
 * Turns one tabular row (values in column order) into an event record keyed by OCSF path,
 * parsing JSON columns and converting bigints, Arrow structs and lists; or returns a reject
 * (bad JSON in a JSON column, non-finite number, oversize row or string).
 */
export function convertRow(
  plan: ColumnPlan,
  values: (i: number) => unknown,
  pos: SourcePos,
  limits: ReadLimits,
): { record: Record<string, unknown>; reject?: undefined } | { record?: undefined; reject: Reject } {
  const record: Record<string, unknown> = {};
  let size = 0;
  for (let i = 0; i < plan.names.length; i++) {
    let v = values(i);
    if (v === null || v === undefined) continue;
    const path = plan.paths[i]!;
    if (typeof v === 'string') {
      size += v.length;
      if (plan.json[i] && v.length > 0) {
        const text = v;
        try {
          v = JSON.parse(text);
        } catch (e) {
          return {
            reject: {
              ...pos,
              reason: 'malformed_json_column',
              detail: `column ${plan.names[i]} holds invalid JSON: ${(e as Error).message}`,
              text: snippet(v as string),
            },
          };
        }
        const shape = withinShape(text, limits) ? null : shapeProblem(v, limits);
        if (shape) return { reject: { ...pos, ...shape, text: snippet(plan.names[i]!) } };
        if (size > limits.maxStringLength) {
          const long = findLongString(v, limits.maxStringLength, path);
          if (long) return { reject: oversizeString(pos, long, limits) };
        }
      } else if (v.length > limits.maxStringLength) {
        return { reject: oversizeString(pos, [path, v.length], limits) };
      }
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) {
        if (Number.isNaN(v) && limits.nanAsMissing) continue;
        return {
          reject: {
            ...pos,
            reason: 'non_finite_number',
            detail: `column ${plan.names[i]} is ${v}; write null for a missing number${Number.isNaN(v) ? ' (or read with nanAsMissing)' : ''}`,
          },
        };
      }
    } else if (typeof v === 'object') {
      const shape = shapeProblem(v, limits);
      if (shape) return { reject: { ...pos, ...shape } };
      v = convertValue(v);
      const long = findLongString(v, limits.maxStringLength, path);
      if (long) return { reject: oversizeString(pos, long, limits) };
    } else v = convertValue(v);
    record[path] = v;
  }
  if (size > limits.maxRecordBytes) {
    return {
      reject: {
        ...pos,
        reason: 'oversize_record',
        detail: `row has ${size} characters of text, over the limit of ${limits.maxRecordBytes}`,
      },
    };
  }
  return { record };
}
