// Feature-spec options: the JSON overrides file (include/exclude paths, per-column types and
// limits, vocabulary and hashing settings, derived features, time zone) and its validation.
import { UserError } from '../core/errors.ts';

/** Per-column settings in an overrides file; keys are OCSF paths or derived feature names. */
export interface ColumnOverride {
  /** Force the column's type, or drop it. */
  type?: 'categorical' | 'numerical' | 'drop';
  /** Categorical transform: the value itself, a log template, or a URL template. */
  transform?: 'value' | 'template' | 'url';
  topK?: number;
  minCount?: number;
  /** Hash values into this many buckets instead of keeping a vocabulary (0 turns hashing off). */
  hashBuckets?: number;
  /** Numerical: apply sign(x)·log1p(|x|) before scaling. */
  log1p?: boolean;
  /** Numerical: add an is-missing indicator (true/false) instead of deciding from the data. */
  indicator?: boolean;
}

/** Options for fitting a feature spec; the overrides JSON file has exactly this shape. */
export interface SpecOptions {
  /** Records used to choose columns and types (default 10000). Statistics use every record. */
  sampleSize?: number;
  /** `UTC` (default) or an IANA zone name for the time features. */
  timeZone?: string;
  /** Path patterns to keep even when the automatic rules would drop them (`*` = one segment, `**` = any). */
  include?: string[];
  /** Path patterns to drop. */
  exclude?: string[];
  /** Use only paths matched by `include` or named in `columns`. */
  includeOnly?: boolean;
  /** Per-column settings by path or derived feature name (`time:hour_sin`, `traffic:bytes_total`). */
  columns?: Record<string, ColumnOverride>;
  categorical?: {
    /** Most frequent values kept per column (default 1000). */
    topK?: number;
    /** Fewest occurrences to keep a value (default 2). */
    minCount?: number;
    /** What to do with columns that hold one value per row: drop (default) or hash. */
    uniqueIds?: 'drop' | 'hash';
    /** Buckets for hashed columns (default 1024). */
    hashBuckets?: number;
    /** Distinct values counted exactly per column before rare ones are pruned (default 100000). */
    maxTracked?: number;
  };
  numerical?: {
    /** Missing indicators: for columns with missing values in the fit data (auto, default), all, or none. */
    indicators?: 'auto' | 'all' | 'none';
    /** log1p for non-negative counts, bytes, durations, lengths (auto, default) or never (none). */
    log1p?: 'auto' | 'none';
  };
  /** Derived features: time features from `time`, network/HTTP features (both default true). */
  derived?: { time?: boolean; network?: boolean };
  /** Categorical strings are cut to this many UTF-16 units (default 1024). */
  maxStringLength?: number;
  /** Per-event id kept beside encoded rows (default `metadata.uid`; null for none). */
  uidPath?: string | null;
}

/** {@link SpecOptions} with every default filled in. */
export interface ResolvedOptions {
  sampleSize: number;
  timeZone: string;
  include: string[];
  exclude: string[];
  includeOnly: boolean;
  columns: Record<string, ColumnOverride>;
  topK: number;
  minCount: number;
  uniqueIds: 'drop' | 'hash';
  hashBuckets: number;
  maxTracked: number;
  indicators: 'auto' | 'all' | 'none';
  log1p: 'auto' | 'none';
  deriveTime: boolean;
  deriveNetwork: boolean;
  maxStringLength: number;
  uidPath: string | null;
}

const TOP_KEYS = [
  'sampleSize',
  'timeZone',
  'include',
  'exclude',
  'includeOnly',
  'columns',
  'categorical',
  'numerical',
  'derived',
  'maxStringLength',
  'uidPath',
];
const COLUMN_KEYS = ['type', 'transform', 'topK', 'minCount', 'hashBuckets', 'log1p', 'indicator'];

function fail(where: string, msg: string): never {
  throw new UserError(`Feature spec options: ${where} ${msg}. See docs/features.md for the format.`);
}

function checkKeys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(where, `has an unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(where, 'must be a JSON object');
  return v as Record<string, unknown>;
}

function int(v: unknown, where: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(where, `must be an integer ≥ ${min}`);
  return v;
}

function bool(v: unknown, where: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') fail(where, 'must be true or false');
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], where: string): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(where, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function strings(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
    fail(where, 'must be an array of non-empty strings');
  }
  return v as string[];
}

/**
 * Validates parsed overrides JSON and returns it as {@link SpecOptions}; throws an
 * {@link UserError} naming the bad key and what is allowed.
 */
export function parseSpecOptions(json: unknown): SpecOptions {
  const o = obj(json, 'the file');
  checkKeys(o, TOP_KEYS, 'the file');
  const out: SpecOptions = {};
  if (o.sampleSize !== undefined) out.sampleSize = int(o.sampleSize, '"sampleSize"', 1);
  if (o.timeZone !== undefined) {
    if (typeof o.timeZone !== 'string')
      fail('"timeZone"', 'must be a string such as "UTC" or "Europe/Berlin"');
    out.timeZone = o.timeZone;
  }
  if (o.include !== undefined) out.include = strings(o.include, '"include"');
  if (o.exclude !== undefined) out.exclude = strings(o.exclude, '"exclude"');
  if (o.includeOnly !== undefined) out.includeOnly = bool(o.includeOnly, '"includeOnly"');
  if (o.maxStringLength !== undefined) out.maxStringLength = int(o.maxStringLength, '"maxStringLength"', 1);
  if (o.uidPath !== undefined) {
    if (o.uidPath !== null && typeof o.uidPath !== 'string')
      fail('"uidPath"', 'must be a path string or null');
    out.uidPath = o.uidPath as string | null;
  }
  if (o.columns !== undefined) {
    const cols = obj(o.columns, '"columns"');
    out.columns = {};
    for (const [path, spec] of Object.entries(cols)) {
      const where = `"columns.${path}"`;
      const c = obj(spec, where);
      checkKeys(c, COLUMN_KEYS, where);
      const col: ColumnOverride = {};
      const type = oneOf(c.type, ['categorical', 'numerical', 'drop'] as const, `${where}.type`);
      if (type) col.type = type;
      const transform = oneOf(c.transform, ['value', 'template', 'url'] as const, `${where}.transform`);
      if (transform) col.transform = transform;
      const topK = int(c.topK, `${where}.topK`, 1);
      if (topK !== undefined) col.topK = topK;
      const minCount = int(c.minCount, `${where}.minCount`, 1);
      if (minCount !== undefined) col.minCount = minCount;
      const hb = int(c.hashBuckets, `${where}.hashBuckets`, 0);
      if (hb !== undefined) col.hashBuckets = hb;
      const log1p = bool(c.log1p, `${where}.log1p`);
      if (log1p !== undefined) col.log1p = log1p;
      const indicator = bool(c.indicator, `${where}.indicator`);
      if (indicator !== undefined) col.indicator = indicator;
      out.columns[path] = col;
    }
  }
  if (o.categorical !== undefined) {
    const c = obj(o.categorical, '"categorical"');
    checkKeys(c, ['topK', 'minCount', 'uniqueIds', 'hashBuckets', 'maxTracked'], '"categorical"');
    out.categorical = {};
    const topK = int(c.topK, '"categorical.topK"', 1);
    if (topK !== undefined) out.categorical.topK = topK;
    const minCount = int(c.minCount, '"categorical.minCount"', 1);
    if (minCount !== undefined) out.categorical.minCount = minCount;
    const u = oneOf(c.uniqueIds, ['drop', 'hash'] as const, '"categorical.uniqueIds"');
    if (u) out.categorical.uniqueIds = u;
    const hb = int(c.hashBuckets, '"categorical.hashBuckets"', 1);
    if (hb !== undefined) out.categorical.hashBuckets = hb;
    const mt = int(c.maxTracked, '"categorical.maxTracked"', 16);
    if (mt !== undefined) out.categorical.maxTracked = mt;
  }
  if (o.numerical !== undefined) {
    const n = obj(o.numerical, '"numerical"');
    checkKeys(n, ['indicators', 'log1p'], '"numerical"');
    out.numerical = {};
    const ind = oneOf(n.indicators, ['auto', 'all', 'none'] as const, '"numerical.indicators"');
    if (ind) out.numerical.indicators = ind;
    const lg = oneOf(n.log1p, ['auto', 'none'] as const, '"numerical.log1p"');
    if (lg) out.numerical.log1p = lg;
  }
  if (o.derived !== undefined) {
    const d = obj(o.derived, '"derived"');
    checkKeys(d, ['time', 'network'], '"derived"');
    out.derived = {};
    const t = bool(d.time, '"derived.time"');
    if (t !== undefined) out.derived.time = t;
    const nw = bool(d.network, '"derived.network"');
    if (nw !== undefined) out.derived.network = nw;
  }
  return out;
}

/** Fills in the defaults of {@link SpecOptions}. */
export function resolveOptions(o: SpecOptions = {}): ResolvedOptions {
  return {
    sampleSize: o.sampleSize ?? 10_000,
    timeZone: o.timeZone ?? 'UTC',
    include: o.include ?? [],
    exclude: o.exclude ?? [],
    includeOnly: o.includeOnly ?? false,
    columns: o.columns ?? {},
    topK: o.categorical?.topK ?? 1000,
    minCount: o.categorical?.minCount ?? 2,
    uniqueIds: o.categorical?.uniqueIds ?? 'drop',
    hashBuckets: o.categorical?.hashBuckets ?? 1024,
    maxTracked: o.categorical?.maxTracked ?? 100_000,
    indicators: o.numerical?.indicators ?? 'auto',
    log1p: o.numerical?.log1p ?? 'auto',
    deriveTime: o.derived?.time ?? true,
    deriveNetwork: o.derived?.network ?? true,
    maxStringLength: o.maxStringLength ?? 1024,
    uidPath: o.uidPath === undefined ? 'metadata.uid' : o.uidPath,
  };
}

/**
 * Compiles a path pattern: `*` matches within one dotted segment, `**` across segments;
 * other characters match themselves.
 */
export function pathPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^.]*';
    } else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
