// Encoded datasets (portable): row-major float32/int32 matrices from a fitted spec, Arrow IPC
// bytes for them, a seed-stable train/validation split and seeded shuffled batches.
import {
  DataType,
  makeVector,
  Table,
  tableFromIPC,
  tableToIPC,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { UserError } from '../core/errors.ts';
import { compilePathGetter } from '../data/flatten.ts';
import { canonicalCategory } from '../features/canonical.ts';
import {
  encodeRecord,
  numericalFeatureNames,
  numNumericalFeatures,
  rawCategorical,
} from '../features/encode.ts';
import type { FittedSpec } from '../features/types.ts';

/** Encoded rows: `numerical[r * numNumerical + j]`, `categorical[r * numCategorical + j]`. */
export interface EncodedDataset {
  numerical: Float32Array;
  categorical: Int32Array;
  rows: number;
  numNumerical: number;
  numCategorical: number;
  /** Per-row event id from the spec's `uidPath` ('' when a row has none). */
  uids?: string[];
}

/**
 * Encodes records with a fitted spec into row-major typed arrays (see `encodeRecord`). Row ids
 * are kept in `uids` when the spec has a `uidPath` and some record holds it (`opts.uids`
 * false turns this off).
 */
export function encodeDataset(
  spec: FittedSpec,
  records: Iterable<object>,
  opts: { uids?: boolean } = {},
): EncodedDataset {
  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const known = Array.isArray(records) ? records.length : 1024;
  let cap = Math.max(1, known);
  let numerical = new Float32Array(cap * fn);
  let categorical = new Int32Array(cap * fc);
  const getUid = spec.uidPath && opts.uids !== false ? compilePathGetter(spec.uidPath) : null;
  const uids: string[] = [];
  let anyUid = false;
  let rows = 0;
  for (const r of records) {
    if (rows === cap) {
      cap *= 2;
      const n = new Float32Array(cap * fn);
      n.set(numerical);
      numerical = n;
      const c = new Int32Array(cap * fc);
      c.set(categorical);
      categorical = c;
    }
    encodeRecord(spec, r, numerical, rows * fn, categorical, rows * fc);
    if (getUid) {
      const u = canonicalCategory(getUid(r), 1024);
      if (u !== null) anyUid = true;
      uids.push(u ?? '');
    }
    rows++;
  }
  const ds: EncodedDataset = {
    numerical: cap === rows ? numerical : numerical.slice(0, rows * fn),
    categorical: cap === rows ? categorical : categorical.slice(0, rows * fc),
    rows,
    numNumerical: fn,
    numCategorical: fc,
  };
  if (anyUid) ds.uids = uids;
  return ds;
}

const LAYOUT_KEY = 'ocsf-embed.dataset';

/**
 * The dataset as Arrow IPC bytes (file format by default): one float32 column per numerical
 * input (`num:<name>`, indicators `num:<name>:missing`), one int32 column per categorical
 * input (`cat:<name>`), and a utf8 `uid` column when there are ids. Names come from `spec`
 * when given, else `num:0`, `cat:0`, ….
 */
export function datasetToIPC(
  ds: EncodedDataset,
  opts: { spec?: FittedSpec; format?: 'file' | 'stream' } = {},
): Uint8Array {
  const numNames = opts.spec ? numericalFeatureNames(opts.spec) : [];
  const catNames = opts.spec ? rawCategorical(opts.spec) : [];
  if (opts.spec && (numNames.length !== ds.numNumerical || catNames.length !== ds.numCategorical)) {
    throw new UserError('The dataset was not encoded with this spec (column counts differ): re-encode it.');
  }
  const cols: Record<string, Vector> = {};
  const { rows, numNumerical: fn, numCategorical: fc } = ds;
  for (let j = 0; j < fn; j++) {
    const col = new Float32Array(rows);
    for (let r = 0; r < rows; r++) col[r] = ds.numerical[r * fn + j]!;
    cols[`num:${numNames[j] ?? j}`] = makeVector(col);
  }
  for (let j = 0; j < fc; j++) {
    const col = new Int32Array(rows);
    for (let r = 0; r < rows; r++) col[r] = ds.categorical[r * fc + j]!;
    cols[`cat:${catNames[j] ?? j}`] = makeVector(col);
  }
  if (ds.uids) cols.uid = vectorFromArray(ds.uids, new Utf8());
  const table = new Table(cols);
  table.schema.metadata.set(
    LAYOUT_KEY,
    JSON.stringify({ version: 1, rows, numNumerical: fn, numCategorical: fc }),
  );
  return tableToIPC(table, opts.format ?? 'file');
}

/** Reads a dataset written by {@link datasetToIPC}, with its column names. */
export function datasetFromIPC(
  bytes: Uint8Array,
): EncodedDataset & { numericalNames: string[]; categoricalNames: string[] } {
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (e) {
    throw new UserError(
      `Not an Arrow IPC dataset (${(e as Error).message}): pass a file written by the encoder.`,
    );
  }
  const numCols: Float32Array[] = [];
  const catCols: Int32Array[] = [];
  const numericalNames: string[] = [];
  const categoricalNames: string[] = [];
  let uids: string[] | undefined;
  table.schema.fields.forEach((f, i) => {
    const v = table.getChildAt(i)!;
    if (f.name.startsWith('num:') && DataType.isFloat(f.type)) {
      numCols.push(Float32Array.from(v.toArray() as ArrayLike<number>));
      numericalNames.push(f.name.slice(4));
    } else if (f.name.startsWith('cat:') && DataType.isInt(f.type)) {
      catCols.push(Int32Array.from(v.toArray() as ArrayLike<number>, Number));
      categoricalNames.push(f.name.slice(4));
    } else if (f.name === 'uid') uids = Array.from(v.toArray() as Iterable<string>, (s) => s ?? '');
  });
  if (!table.schema.metadata.has(LAYOUT_KEY) && numCols.length + catCols.length === 0) {
    throw new UserError(
      'This Arrow file is not an encoded dataset (no num:/cat: columns): pass a file written by the encoder.',
    );
  }
  const rows = table.numRows;
  const fn = numCols.length;
  const fc = catCols.length;
  const numerical = new Float32Array(rows * fn);
  const categorical = new Int32Array(rows * fc);
  numCols.forEach((col, j) => {
    for (let r = 0; r < rows; r++) numerical[r * fn + j] = col[r]!;
  });
  catCols.forEach((col, j) => {
    for (let r = 0; r < rows; r++) categorical[r * fc + j] = col[r]!;
  });
  const ds = {
    numerical,
    categorical,
    rows,
    numNumerical: fn,
    numCategorical: fc,
    numericalNames,
    categoricalNames,
  };
  return uids ? { ...ds, uids } : ds;
}

/** A 32-bit integer mixer (lowbias32): a counter-based hash, the same on every runtime. */
export function lowbias32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A uint32 derived from a seed and two counters. */
export function hash3(seed: number, a: number, b: number): number {
  return lowbias32((lowbias32((lowbias32(seed ^ 0x9e3779b9) ^ a) >>> 0) + b) >>> 0);
}

/**
 * Splits row indices into train and validation sets: rows are ranked by a hash of (seed, row)
 * and the first `round(rows · valFraction)` (at least 1 when the fraction is > 0 and there
 * are 2+ rows) go to validation. The same seed gives the same split, and a row's side depends
 * only on its rank, so appending rows moves few. Both lists are ascending.
 */
export function splitTrainVal(
  rows: number,
  valFraction: number,
  seed: number,
): { train: Uint32Array; val: Uint32Array } {
  if (!(valFraction >= 0 && valFraction < 1)) {
    throw new UserError(`The validation fraction must be in [0, 1), got ${valFraction}.`);
  }
  let nVal = Math.round(rows * valFraction);
  if (valFraction > 0 && rows >= 2 && nVal === 0) nVal = 1;
  const keys = new Float64Array(rows);
  for (let i = 0; i < rows; i++) keys[i] = hash3(seed, 0x51a7, i) * 4294967296 + i;
  const order = Uint32Array.from({ length: rows }, (_, i) => i);
  order.sort((a, b) => keys[a]! - keys[b]!);
  const val = order.slice(0, nVal).sort();
  const train = order.slice(nVal).sort();
  return { train, val };
}

/** A seeded permutation of 0..n-1 for one epoch (Fisher–Yates driven by a counter-based hash). */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((hash3(seed, epoch, i) / 4294967296) * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The batches of one epoch: a seeded permutation of 0..n-1 cut into `batchSize` pieces (views
 * into one array). The last, smaller batch is kept unless `dropLast`.
 */
export function shuffledBatches(
  n: number,
  batchSize: number,
  seed: number,
  epoch: number,
  opts: { dropLast?: boolean } = {},
): Uint32Array[] {
  if (!(batchSize >= 1)) throw new UserError(`The batch size must be at least 1, got ${batchSize}.`);
  const p = permutation(n, seed, epoch);
  const out: Uint32Array[] = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    if (e - s < batchSize && opts.dropLast) break;
    out.push(p.subarray(s, e));
  }
  return out;
}

/** Copies the given rows into batch buffers (allocated when not passed). */
export function gatherRows(
  ds: EncodedDataset,
  indices: ArrayLike<number>,
  numOut: Float32Array = new Float32Array(indices.length * ds.numNumerical),
  catOut: Int32Array = new Int32Array(indices.length * ds.numCategorical),
): { numerical: Float32Array; categorical: Int32Array } {
  const fn = ds.numNumerical;
  const fc = ds.numCategorical;
  for (let b = 0; b < indices.length; b++) {
    const r = indices[b]!;
    numOut.set(ds.numerical.subarray(r * fn, r * fn + fn), b * fn);
    catOut.set(ds.categorical.subarray(r * fc, r * fc + fc), b * fc);
  }
  return { numerical: numOut, categorical: catOut };
}

/** The dataset restricted to the given rows, in that order. */
export function subsetDataset(ds: EncodedDataset, indices: ArrayLike<number>): EncodedDataset {
  const { numerical, categorical } = gatherRows(ds, indices);
  const out: EncodedDataset = {
    numerical,
    categorical,
    rows: indices.length,
    numNumerical: ds.numNumerical,
    numCategorical: ds.numCategorical,
  };
  if (ds.uids) out.uids = Array.from({ length: indices.length }, (_, b) => ds.uids![indices[b]!]!);
  return out;
}
