// Column inference from a sample of flattened events: which OCSF paths become categorical or
// numerical inputs (with which transform), which derived features apply, and what is dropped.
import { type FlatValue, flattenRecord } from '../data/flatten.ts';
import { ocsfKind } from '../data/ocsf-paths.ts';
import { canonicalCategory, isNumericLiteral } from './canonical.ts';
import { DERIVED_NAMES, type DerivedName, derivedApplies } from './derived.ts';
import { type ColumnOverride, pathPattern, type ResolvedOptions } from './options.ts';
import { TIME_PARTS, type TimePart } from './time.ts';
import type {
  CategoricalFeature,
  CategoricalSource,
  CategoricalTimePart,
  FittedSpec,
  NumericalFeature,
  NumericalSource,
  NumericalTimePart,
} from './types.ts';

const DISTINCT_CAP = 2000;

/** Most flattened paths considered as features: the most frequent in the sample are kept. */
export const MAX_CANDIDATE_PATHS = 1000;

/** What the sample says about one flattened path. */
export interface PathStats {
  present: number;
  numbers: number;
  numericStrings: number;
  strings: number;
  booleans: number;
  distinct: Set<string>;
  overflow: boolean;
  min: number;
  max: number;
  /** Strings with three or more spaces (free text). */
  textLike: number;
  /** Strings starting with `/` (paths). */
  slashStart: number;
  /** Records in which this path holds an object or an array instead of a value. */
  containers: number;
}

function newStats(): PathStats {
  return {
    present: 0,
    numbers: 0,
    numericStrings: 0,
    strings: 0,
    booleans: 0,
    distinct: new Set(),
    overflow: false,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    textLike: 0,
    slashStart: 0,
    containers: 0,
  };
}

function countSpaces(s: string, limit: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n < limit; i++) if (s.charCodeAt(i) === 32) n++;
  return n;
}

function addValue(st: PathStats, v: FlatValue): void {
  st.present++;
  let num = Number.NaN;
  if (typeof v === 'number') {
    st.numbers++;
    num = v;
  } else if (typeof v === 'boolean') st.booleans++;
  else {
    st.strings++;
    if (isNumericLiteral(v)) {
      st.numericStrings++;
      num = Number(v);
    } else {
      if (countSpaces(v, 3) >= 3) st.textLike++;
      if (v.charCodeAt(0) === 47) st.slashStart++;
    }
  }
  if (Number.isFinite(num)) {
    if (num < st.min) st.min = num;
    if (num > st.max) st.max = num;
  }
  if (!st.overflow) {
    const key = canonicalCategory(v, 256);
    if (key !== null) {
      st.distinct.add(key);
      if (st.distinct.size > DISTINCT_CAP) st.overflow = true;
    }
  }
}

/**
 * Flattens each sample record and gathers per-path statistics, including how often each path
 * holds an object or array (a prefix of other paths) rather than a value. Linear in the total
 * length of the flattened paths.
 */
export function collectStats(sample: readonly object[]): Map<string, PathStats> {
  const stats = new Map<string, PathStats>();
  const containers = new Map<string, number>();
  const seen = new Set<string>();
  for (const rec of sample) {
    const flat = flattenRecord(rec);
    seen.clear();
    for (const path in flat) {
      let st = stats.get(path);
      if (!st) {
        st = newStats();
        stats.set(path, st);
      }
      addValue(st, flat[path]!);
      countContainers(path, seen, containers);
    }
  }
  for (const [path, n] of containers) {
    const st = stats.get(path);
    if (st) st.containers = n;
  }
  return stats;
}

/** Counts each proper prefix of `path` (cut at `.` or `[`) once per record as a container. */
function countContainers(path: string, seen: Set<string>, containers: Map<string, number>): void {
  for (let i = path.length - 1; i > 0; i--) {
    const c = path.charCodeAt(i);
    if (c !== 46 && c !== 91) continue;
    const prefix = path.slice(0, i);
    if (seen.has(prefix)) return;
    seen.add(prefix);
    containers.set(prefix, (containers.get(prefix) ?? 0) + 1);
  }
}

const ENUM_UIDS = new Set(['class_uid', 'category_uid', 'type_uid']);
const CATEGORICAL_NUMBER_NAMES = new Set([
  'code',
  'port',
  'status_code',
  'event_code',
  'protocol_num',
  'rcode',
  'version',
  'year',
]);
const ID_NAMES = new Set(['uid', 'pid', 'uuid', 'sequence', 'id']);
const TEXT_NAMES = new Set([
  'message',
  'status_detail',
  'desc',
  'description',
  'title',
  'comment',
  'error_message',
  'reason',
  'summary',
  'details',
  'query_string',
  'cmd_line',
]);
const URL_NAMES = new Set(['url_string', 'uri', 'url', 'referrer', 'request_uri']);
const MEASURE = /(^|_)(bytes|packets|count|duration|length|size|latency|elapsed|bytes_in|bytes_out)$/;
const LOG_DERIVED = new Set<string>([
  'traffic:bytes_total',
  'traffic:bytes_per_second',
  'http_request:user_agent_length',
]);

function lastSegment(path: string): string {
  const i = path.lastIndexOf('.');
  const s = i < 0 ? path : path.slice(i + 1);
  return s.endsWith('[0]') ? s.slice(0, s.indexOf('[')) : s;
}

function parentSegment(path: string): string {
  const i = path.lastIndexOf('.');
  return i < 0 ? '' : lastSegment(path.slice(0, i));
}

/** Caption paths (`severity`, `activity_name`) whose enum id (`severity_id`, `activity_id`) is also present. */
function captionsOf(paths: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of paths) {
    if (p.endsWith('_id')) {
      const base = p.slice(0, -3);
      out.set(base, p);
      out.set(`${base}_name`, p);
    } else if (ENUM_UIDS.has(lastSegment(p))) {
      out.set(`${p.slice(0, -4)}_name`, p);
    }
  }
  return out;
}

type Decision =
  | { kind: 'categorical'; transform: 'value' | 'template' | 'url'; unique: boolean }
  | { kind: 'numerical'; log1p: boolean }
  | { kind: 'drop'; reason: string };

function isNumeric(st: PathStats): boolean {
  return st.present > 0 && st.numbers + st.numericStrings >= 0.95 * st.present && st.booleans === 0;
}

function stringTransform(path: string, st: PathStats): 'value' | 'template' | 'url' {
  const last = lastSegment(path);
  if (URL_NAMES.has(last) || (last === 'path' && parentSegment(path) === 'url')) return 'url';
  if (TEXT_NAMES.has(last)) return 'template';
  const strings = st.strings - st.numericStrings;
  if (strings > 0 && st.slashStart >= 0.9 * strings) return 'url';
  if (strings > 0 && st.textLike >= 0.5 * strings) return 'template';
  return 'value';
}

function isUnique(st: PathStats): boolean {
  return st.present >= 20 && (st.overflow || st.distinct.size >= 0.9 * st.present);
}

/** The type the data suggests for a path, ignoring the drop rules. */
function typeFromData(path: string, st: PathStats, opts: ResolvedOptions): Decision {
  const last = lastSegment(path);
  if (st.booleans > 0 && st.booleans + st.strings >= st.present) {
    return { kind: 'categorical', transform: 'value', unique: false };
  }
  if (isNumeric(st)) {
    if (last.endsWith('_id') || ENUM_UIDS.has(last)) {
      return { kind: 'categorical', transform: 'value', unique: false };
    }
    if (CATEGORICAL_NUMBER_NAMES.has(last))
      return { kind: 'categorical', transform: 'value', unique: isUnique(st) };
    if (ID_NAMES.has(last) || last.endsWith('_uid')) {
      return { kind: 'categorical', transform: 'value', unique: isUnique(st) };
    }
    return { kind: 'numerical', log1p: opts.log1p === 'auto' && MEASURE.test(last) && st.min >= 0 };
  }
  if (st.present === 0) return { kind: 'categorical', transform: 'value', unique: false };
  const transform = stringTransform(path, st);
  return { kind: 'categorical', transform, unique: transform === 'value' && isUnique(st) };
}

/** The automatic drop rules; null when the path is kept. */
function dropReason(
  path: string,
  st: PathStats,
  rows: number,
  captions: Map<string, string>,
  opts: ResolvedOptions,
) {
  const last = lastSegment(path);
  const kind = ocsfKind(path);
  if (kind === 'object' || kind === 'array' || (st.containers > 0 && st.containers >= st.present)) {
    return `an object in ${st.containers} of the ${st.containers + st.present} sampled events that have it; the ${st.present} plain values there are type errors`;
  }
  if (path === 'time') {
    return opts.deriveTime && isNumeric(st)
      ? 'becomes the time:* features'
      : 'timestamp (time features are off or it is not epoch ms)';
  }
  if (
    path === 'raw_data' ||
    path.startsWith('unmapped.') ||
    path.endsWith('_dt') ||
    path === 'metadata.original_time'
  ) {
    return 'raw or duplicate field';
  }
  if (
    kind === 'timestamp' ||
    ((last === 'time' || last.endsWith('_time')) && isNumeric(st) && st.min > 1e11)
  ) {
    return 'timestamp (only time gets time features)';
  }
  const captionOf = captions.get(path);
  if (captionOf) return `caption of ${captionOf}`;
  if (!st.overflow && st.distinct.size <= 1 && st.present === rows) return 'constant';
  return null;
}

/** A draft spec (columns chosen, nothing fitted) and the feature names the user forced in. */
export interface Draft {
  spec: FittedSpec;
  forced: Set<string>;
  /** Per numerical feature name: the user's explicit indicator choice. */
  indicatorOverrides: Map<string, boolean>;
}

/** The include and exclude patterns of the options, compiled. */
interface Selection {
  include: RegExp[];
  exclude: RegExp[];
}

const matches = (res: RegExp[], name: string) => res.some((r) => r.test(name));

/** A draft's columns as they are chosen, what was dropped and why, and the names the user forced in. */
class DraftColumns {
  readonly categorical: CategoricalFeature[] = [];
  readonly numerical: NumericalFeature[] = [];
  readonly dropped: { name: string; reason: string }[] = [];
  readonly forced = new Set<string>();
  readonly indicatorOverrides = new Map<string, boolean>();

  constructor(private readonly opts: ResolvedOptions) {}

  drop(name: string, reason: string): void {
    this.dropped.push({ name, reason });
  }

  categoricalColumn(name: string, source: CategoricalSource, col: ColumnOverride | undefined, hash: boolean) {
    this.categorical.push({
      name,
      source,
      hashBuckets: col?.hashBuckets ?? (hash ? this.opts.hashBuckets : 0),
      topK: col?.topK ?? this.opts.topK,
      minCount: col?.minCount ?? this.opts.minCount,
      vocabulary: [],
      stats: { missing: 0, distinct: 0, covered: 0 },
    });
  }

  numericalColumn(name: string, source: NumericalSource, col: ColumnOverride | undefined, log1p: boolean) {
    if (col?.indicator !== undefined) this.indicatorOverrides.set(name, col.indicator);
    this.numerical.push({
      name,
      source,
      log1p: col?.log1p ?? log1p,
      mean: 0,
      std: 1,
      indicator: false,
      stats: { missing: 0, invalid: 0, min: null, max: null, fittedStd: 0 },
    });
  }

  /** Whether a derived feature may be added: not dropped or excluded, included when `includeOnly`. */
  derivedAllowed(name: string, sel: Selection): boolean {
    const col = this.opts.columns[name];
    if (col?.type === 'drop') {
      this.drop(name, 'dropped by the spec file');
      return false;
    }
    if (matches(sel.exclude, name)) {
      this.drop(name, 'excluded by the spec file');
      return false;
    }
    if (this.opts.includeOnly && !col && !matches(sel.include, name)) return false;
    if (col || matches(sel.include, name)) this.forced.add(name);
    return true;
  }
}

/**
 * The sample's paths to consider, sorted: the most frequent when a width bomb (one event with thousands of
 * keys) would make thousands of features, plus every path the options name.
 */
function candidatePaths(
  stats: Map<string, PathStats>,
  opts: ResolvedOptions,
  sel: Selection,
  cols: DraftColumns,
): string[] {
  const paths = new Set(stats.keys());
  if (paths.size > MAX_CANDIDATE_PATHS) {
    const named = new Set([...opts.include, ...Object.keys(opts.columns)]);
    const ranked = [...paths].sort(
      (a, b) => stats.get(b)!.present - stats.get(a)!.present || (a < b ? -1 : 1),
    );
    const rare = ranked.slice(MAX_CANDIDATE_PATHS).filter((p) => !named.has(p) && !matches(sel.include, p));
    for (const path of rare) paths.delete(path);
    cols.drop(
      `${rare.length} rarer paths (${rare.slice(0, 3).join(', ')}, …)`,
      `the sample holds more than ${MAX_CANDIDATE_PATHS} paths; only the most frequent are considered`,
    );
  }
  for (const name of [...opts.include, ...Object.keys(opts.columns)]) {
    if (!/[*:]/.test(name) && !paths.has(name)) paths.add(name);
  }
  return [...paths].sort();
}

/** What one path becomes: the user's typing and transform over the type the data suggests, or dropped. */
function decidePath(
  path: string,
  st: PathStats,
  included: boolean,
  sampleRows: number,
  captions: Map<string, string>,
  opts: ResolvedOptions,
): Decision {
  const col = opts.columns[path];
  let d: Decision;
  const auto = typeFromData(path, st, opts);
  if (col?.type === 'numerical') d = { kind: 'numerical', log1p: auto.kind === 'numerical' && auto.log1p };
  else if (col?.type === 'categorical') {
    d = {
      kind: 'categorical',
      transform: auto.kind === 'categorical' ? auto.transform : 'value',
      unique: false,
    };
  } else {
    const reason = dropReason(path, st, sampleRows, captions, opts);
    if (reason !== null && (!included || path === 'time')) d = { kind: 'drop', reason };
    else d = auto;
  }
  if (col?.transform && d.kind === 'categorical') d.transform = col.transform;
  return d;
}

/** Adds the column of one sampled path, or records why it is dropped. */
function draftPath(
  path: string,
  st: PathStats,
  sampleRows: number,
  captions: Map<string, string>,
  opts: ResolvedOptions,
  sel: Selection,
  cols: DraftColumns,
): void {
  const col = opts.columns[path];
  const typed = col?.type === 'categorical' || col?.type === 'numerical';
  const included = typed || matches(sel.include, path);
  const refused =
    col?.type === 'drop'
      ? 'dropped by the spec file'
      : !typed && matches(sel.exclude, path)
        ? 'excluded by the spec file'
        : path === opts.uidPath && !included && !col
          ? 'event id (kept as the row uid)'
          : opts.includeOnly && !included
            ? 'not included (includeOnly)'
            : null;
  if (refused !== null) {
    cols.drop(path, refused);
    return;
  }
  if (included) cols.forced.add(path);
  const d = decidePath(path, st, included, sampleRows, captions, opts);
  switch (d.kind) {
    case 'drop':
      cols.drop(path, d.reason);
      break;
    case 'numerical':
      cols.numericalColumn(path, { kind: 'value', path }, col, d.log1p);
      break;
    case 'categorical':
      if (d.unique && opts.uniqueIds === 'drop' && !included && col?.hashBuckets === undefined) {
        cols.drop(path, 'one value per row (id-like); hash it with hashBuckets to keep it');
      } else {
        cols.categoricalColumn(path, { kind: d.transform, path }, col, d.unique);
      }
      break;
  }
}

/** The derived columns: time parts of a numeric `time`, and the network features whose inputs are present. */
function draftDerived(
  stats: Map<string, PathStats>,
  opts: ResolvedOptions,
  sel: Selection,
  cols: DraftColumns,
): void {
  const time = stats.get('time');
  if (opts.deriveTime && time && isNumeric(time)) {
    for (const part of Object.keys(TIME_PARTS) as TimePart[]) {
      const name = `time:${part}`;
      if (!cols.derivedAllowed(name, sel)) continue;
      const col = opts.columns[name];
      if (TIME_PARTS[part] === 'categorical') {
        cols.categoricalColumn(
          name,
          { kind: 'time', path: 'time', part: part as CategoricalTimePart },
          col,
          false,
        );
      } else {
        cols.numericalColumn(
          name,
          { kind: 'time', path: 'time', part: part as NumericalTimePart },
          col,
          false,
        );
      }
    }
  }
  if (opts.deriveNetwork) {
    const present = (p: string): boolean => {
      if (p.endsWith('.*')) {
        const prefix = p.slice(0, -1);
        for (const k of stats.keys()) if (k.startsWith(prefix)) return true;
        return false;
      }
      return (stats.get(p)?.present ?? 0) > 0;
    };
    for (const name of DERIVED_NAMES) {
      if (!derivedApplies(name as DerivedName, present) || !cols.derivedAllowed(name, sel)) continue;
      cols.numericalColumn(
        name,
        { kind: 'derived', name },
        opts.columns[name],
        opts.log1p === 'auto' && LOG_DERIVED.has(name),
      );
    }
  }
}

/** Chooses the spec's columns from sample statistics and the resolved options. */
export function draftSpec(stats: Map<string, PathStats>, sampleRows: number, opts: ResolvedOptions): Draft {
  const sel: Selection = { include: opts.include.map(pathPattern), exclude: opts.exclude.map(pathPattern) };
  const captions = captionsOf(stats.keys());
  const cols = new DraftColumns(opts);
  for (const path of candidatePaths(stats, opts, sel, cols)) {
    draftPath(path, stats.get(path) ?? newStats(), sampleRows, captions, opts, sel, cols);
  }
  draftDerived(stats, opts, sel, cols);
  return {
    spec: {
      version: 1,
      timeZone: opts.timeZone,
      maxStringLength: opts.maxStringLength,
      uidPath: opts.uidPath,
      categorical: cols.categorical,
      numerical: cols.numerical,
      dropped: cols.dropped,
      rows: 0,
      sampleRows,
    },
    forced: cols.forced,
    indicatorOverrides: cols.indicatorOverrides,
  };
}
