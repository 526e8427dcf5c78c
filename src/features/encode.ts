// Encoding with a fitted spec, in two pure stages: extract (flatten, derive, template, hash,
// canonical strings) and encode (vocabulary ids, scaling, imputation, missing indicators).
import type { InputWidths } from '../../graphs/config.ts';
import { compileNestedReader, compilePathGetters, type PathGetter } from '../data/flatten.ts';
import { canonicalCategory, hashBucketKey, toNumber } from './canonical.ts';
import { DERIVED, derivedValue } from './derived.ts';
import { logTemplate, urlTemplate } from './template.ts';
import { type TimePart, timePart } from './time.ts';
import {
  type CategoricalFeature,
  type CategoricalSource,
  type FittedSpec,
  MISSING_ID,
  type NumericalFeature,
  type RawFeatures,
  UNKNOWN_ID,
  VOCAB_OFFSET,
} from './types.ts';

/** How a feature reads its raw value (see `CategoricalSource`, `NumericalSource`). */
const VALUE = 0;
const TEMPLATE = 1;
const URL_PATH = 2;
const TIME = 3;
const DERIVED_VALUE = 4;

/**
 * A spec compiled for fast encoding: per feature its kind and the slot of its raw value in `vals`,
 * held in flat arrays so that one loop with a switch encodes every feature (no call per feature).
 */
interface Plan {
  readNested: (record: object, out: unknown[]) => boolean;
  flatGetters: PathGetter[];
  vals: unknown[];
  maxLength: number;
  timeZone: string;
  catKind: Uint8Array;
  catSlot: Int32Array;
  catPart: (TimePart | null)[];
  catBuckets: Int32Array;
  numKind: Uint8Array;
  /** Per numerical feature: index into `vals` of its raw value (value and time kinds), or -1. */
  numValueSlot: Int32Array;
  numPart: (TimePart | null)[];
  /** Per numerical feature: its derived value from the current `vals`, for the derived kind. */
  numDerived: (((vals: unknown[]) => number) | null)[];
  numLog1p: Uint8Array;
  vocab: Map<string, number>[];
  mean: Float32Array;
  std: Float32Array;
  indicators: Int32Array;
  cat: (string | null)[];
  num: Float64Array;
}

const plans = new WeakMap<FittedSpec, Plan>();

/**
 * Largest magnitude a raw numerical value keeps: larger ones and ±Infinity are clamped to it, so
 * fitting (sums of squares) and float32 inputs stay finite. NaN stays NaN (missing).
 */
export const MAX_RAW_MAGNITUDE = 1e30;

/**
 * Largest magnitude of a scaled numerical input (in standard deviations): an extreme value stays
 * extreme, and so anomalous, but never becomes Infinity or NaN inside the model. model.onnx clips
 * the same way.
 */
export const MAX_SCALED_MAGNITUDE = 1e4;

/** `x` clamped to ±{@link MAX_RAW_MAGNITUDE}; NaN stays NaN. */
export function clampRaw(x: number): number {
  return Math.min(MAX_RAW_MAGNITUDE, Math.max(-MAX_RAW_MAGNITUDE, x));
}

function clampScaled(z: number): number {
  return Math.min(MAX_SCALED_MAGNITUDE, Math.max(-MAX_SCALED_MAGNITUDE, z));
}

function signedLog1p(x: number): number {
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

const CAT_KIND: Record<CategoricalSource['kind'], number> = {
  value: VALUE,
  template: TEMPLATE,
  url: URL_PATH,
  time: TIME,
};

function compile(spec: FittedSpec): Plan {
  const slots = new Map<string, number>();
  const flatGetters: PathGetter[] = [];
  const slot = (path: string): number => {
    let s = slots.get(path);
    if (s === undefined) {
      s = flatGetters.length;
      slots.set(path, s);
      flatGetters.push(compilePathGetters(path).any);
    }
    return s;
  };
  const nc = spec.categorical.length;
  const catKind = new Uint8Array(nc);
  const catSlot = new Int32Array(nc);
  const catPart: (TimePart | null)[] = new Array(nc).fill(null);
  const catBuckets = new Int32Array(nc);
  spec.categorical.forEach((f, j) => {
    catKind[j] = CAT_KIND[f.source.kind];
    catSlot[j] = slot(f.source.path);
    if (f.source.kind === 'time') catPart[j] = f.source.part;
    catBuckets[j] = f.hashBuckets;
  });

  const nn = spec.numerical.length;
  const numKind = new Uint8Array(nn);
  const numValueSlot = new Int32Array(nn).fill(-1);
  const numPart: (TimePart | null)[] = new Array(nn).fill(null);
  const numDerived: (((vals: unknown[]) => number) | null)[] = new Array(nn).fill(null);
  const numLog1p = new Uint8Array(nn);
  spec.numerical.forEach((f, j) => {
    const src = f.source;
    numLog1p[j] = f.log1p ? 1 : 0;
    if (src.kind === 'derived') {
      numKind[j] = DERIVED_VALUE;
      const ks = DERIVED[src.name].map(slot);
      const name = src.name;
      let cur: unknown[] = [];
      const num = (i: number) => toNumber(cur[ks[i]!]);
      const text = () => cur[ks[0]!];
      numDerived[j] = (vals) => {
        cur = vals;
        return derivedValue(name, num, text);
      };
      return;
    }
    numValueSlot[j] = slot(src.path);
    if (src.kind === 'time') {
      numKind[j] = TIME;
      numPart[j] = src.part;
    } else numKind[j] = VALUE;
  });

  const vocab = spec.categorical.map((f) => {
    const m = new Map<string, number>();
    f.vocabulary.forEach((v, i) => {
      m.set(v, i + VOCAB_OFFSET);
    });
    return m;
  });
  const mean = new Float32Array(spec.numerical.map((f) => f.mean));
  const std = new Float32Array(spec.numerical.map((f) => (f.std > 0 && Number.isFinite(f.std) ? f.std : 1)));
  for (let j = 0; j < std.length; j++) if (!(std[j]! > 0) || !Number.isFinite(std[j]!)) std[j] = 1;
  const indicators = new Int32Array(indicatorColumns(spec));
  return {
    readNested: compileNestedReader([...slots.keys()]),
    flatGetters,
    vals: new Array(flatGetters.length),
    maxLength: spec.maxStringLength,
    timeZone: spec.timeZone,
    catKind,
    catSlot,
    catPart,
    catBuckets,
    numKind,
    numValueSlot,
    numPart,
    numDerived,
    numLog1p,
    vocab,
    mean,
    std,
    indicators,
    cat: new Array(nc).fill(null),
    num: new Float64Array(nn),
  };
}

function plan(spec: FittedSpec): Plan {
  let p = plans.get(spec);
  if (!p) {
    p = compile(spec);
    plans.set(spec, p);
  }
  return p;
}

/** Runs stage 1 into the plan's scratch arrays; returns the plan. */
function stage1(p: Plan, record: object): Plan {
  const { vals, cat, num, maxLength, timeZone } = p;
  if (!p.readNested(record, vals)) {
    const getters = p.flatGetters;
    for (let k = 0; k < getters.length; k++) vals[k] = getters[k]!(record);
  }
  const { catKind, catSlot, catBuckets } = p;
  for (let j = 0; j < catKind.length; j++) {
    const v = vals[catSlot[j]!];
    let s: string | null;
    switch (catKind[j]) {
      case VALUE:
        s = canonicalCategory(v, maxLength);
        break;
      case TEMPLATE:
        s =
          typeof v === 'string' && v.length > 0
            ? canonicalCategory(logTemplate(v.length > maxLength ? v.slice(0, maxLength) : v), maxLength)
            : canonicalCategory(v, maxLength);
        break;
      case URL_PATH:
        s =
          typeof v === 'string' && v.length > 0
            ? canonicalCategory(urlTemplate(v), maxLength)
            : canonicalCategory(v, maxLength);
        break;
      default: {
        const x = timePart(toNumber(v), p.catPart[j]!, timeZone);
        s = Number.isNaN(x) ? null : String(x);
      }
    }
    const buckets = catBuckets[j]!;
    cat[j] = buckets > 0 && s !== null ? hashBucketKey(s, buckets) : s;
  }
  const { numKind, numValueSlot, numLog1p } = p;
  for (let j = 0; j < numKind.length; j++) {
    let x: number;
    switch (numKind[j]) {
      case VALUE:
        x = toNumber(vals[numValueSlot[j]!]);
        break;
      case TIME:
        x = timePart(toNumber(vals[numValueSlot[j]!]), p.numPart[j]!, timeZone);
        break;
      default:
        x = p.numDerived[j]!(vals);
    }
    if (numLog1p[j] === 1) x = signedLog1p(x);
    num[j] = clampRaw(x);
  }
  return p;
}

function stage2(
  p: Plan,
  cat: ArrayLike<string | null>,
  num: ArrayLike<number>,
  numOut: Float32Array,
  numOffset: number,
  catOut: Int32Array,
  catOffset: number,
): void {
  const { vocab, mean, std, indicators } = p;
  const nc = vocab.length;
  for (let j = 0; j < nc; j++) {
    const s = cat[j];
    catOut[catOffset + j] = s === null || s === undefined ? MISSING_ID : (vocab[j]!.get(s) ?? UNKNOWN_ID);
  }
  const nn = mean.length;
  for (let j = 0; j < nn; j++) {
    const x = num[j]!;
    numOut[numOffset + j] = Number.isNaN(x)
      ? 0
      : clampScaled(Math.fround(Math.fround(x) - mean[j]!) / std[j]!);
  }
  const base = numOffset + nn;
  for (let t = 0; t < indicators.length; t++) numOut[base + t] = Number.isNaN(num[indicators[t]!]!) ? 1 : 0;
}

/**
 * Stage 1 of encoding, a pure function of (spec, record): reads each feature's OCSF path from a
 * nested or already-flattened record, derives time and network features, applies log templates,
 * URL templates and hashing, and returns each categorical value as its canonical string (null
 * when missing) and each numerical value as a number (NaN when missing or invalid, clamped to
 * ±{@link MAX_RAW_MAGNITUDE}).
 * `cat.length === rawCategorical(spec).length`, `num.length === rawNumerical(spec).length`.
 */
export function extractRaw(spec: FittedSpec, record: object): RawFeatures {
  const p = stage1(plan(spec), record);
  return { cat: p.cat.slice(), num: Array.from(p.num) };
}

/**
 * Stage 2 of encoding: categorical strings to ids (null → MISSING_ID, unseen → UNKNOWN_ID,
 * vocabulary entry i → i + 2), numbers scaled as float32((float32(x) − mean) / std) with each
 * operation rounded to float32 (std 0 is treated as 1) and clipped to ±{@link MAX_SCALED_MAGNITUDE},
 * NaN imputed with the mean (0 after scaling), then one is-missing indicator (1/0) per {@link indicatorColumns} entry after the
 * scaled values. Writes `numNumericalFeatures(spec)` floats and `categorical.length` ids.
 */
export function encodeRaw(
  spec: FittedSpec,
  raw: RawFeatures,
  numOut: Float32Array,
  numOffset: number,
  catOut: Int32Array,
  catOffset: number,
): void {
  stage2(plan(spec), raw.cat, raw.num, numOut, numOffset, catOut, catOffset);
}

/** Both stages of encoding for one record (= `encodeRaw(spec, extractRaw(spec, record), …)`), without allocating. */
export function encodeRecord(
  spec: FittedSpec,
  record: object,
  numOut: Float32Array,
  numOffset: number,
  catOut: Int32Array,
  catOffset: number,
): void {
  const p = stage1(plan(spec), record);
  stage2(p, p.cat, p.num, numOut, numOffset, catOut, catOffset);
}

/**
 * Stage 1 into reusable scratch arrays, for fitting: returns views that the next call
 * overwrites, plus per numerical feature whether its raw value was present but invalid.
 */
export function extractScratch(
  spec: FittedSpec,
  record: object,
): { cat: (string | null)[]; num: Float64Array; invalid: (j: number) => boolean } {
  const p = stage1(plan(spec), record);
  return {
    cat: p.cat,
    num: p.num,
    invalid: (j) => {
      const k = p.numValueSlot[j]!;
      if (k < 0 || !Number.isNaN(p.num[j]!)) return false;
      const v = p.vals[k];
      return v !== undefined && v !== '';
    },
  };
}

/** The categorical inputs: name, vocabulary (entry i → id i + 2) and cardinality (vocabulary + MISSING, UNKNOWN, MASK). */
export function categoricalColumns(
  spec: FittedSpec,
): { name: string; vocabulary: string[]; cardinality: number }[] {
  return spec.categorical.map((c) => ({
    name: c.name,
    vocabulary: c.vocabulary,
    cardinality: c.vocabulary.length + 3,
  }));
}

/** The MASK id of a categorical column: its last id, never produced by encoding. */
export function maskId(column: CategoricalFeature | { cardinality: number }): number {
  return 'cardinality' in column ? column.cardinality - 1 : column.vocabulary.length + 2;
}

/** The raw numerical inputs in order, with their scaling. */
export function numericalColumns(spec: FittedSpec): { name: string; mean: number; std: number }[] {
  return spec.numerical.map((n) => ({ name: n.name, mean: n.mean, std: n.std }));
}

/** Indices into {@link numericalColumns} that get an is-missing indicator, in order. */
export function indicatorColumns(spec: FittedSpec): number[] {
  const out: number[] = [];
  spec.numerical.forEach((n: NumericalFeature, i) => {
    if (n.indicator) out.push(i);
  });
  return out;
}

/** The model's numerical width: raw numerical inputs plus missing indicators. */
export function numNumericalFeatures(spec: FittedSpec): number {
  return spec.numerical.length + indicatorColumns(spec).length;
}

/** The encoder's input widths this spec decides: numerical inputs and each categorical column's cardinality. */
export function specInputWidths(spec: FittedSpec): InputWidths {
  return {
    numNumerical: numNumericalFeatures(spec),
    cardinalities: categoricalColumns(spec).map((c) => c.cardinality),
  };
}

/** Names of the stage-1 categorical outputs, in order. */
export function rawCategorical(spec: FittedSpec): string[] {
  return spec.categorical.map((c) => c.name);
}

/** Names of the stage-1 numerical outputs, in order. */
export function rawNumerical(spec: FittedSpec): string[] {
  return spec.numerical.map((n) => n.name);
}

/** Names of every numerical model input: scaled values, then `<name>:missing` indicators. */
export function numericalFeatureNames(spec: FittedSpec): string[] {
  return [...rawNumerical(spec), ...indicatorColumns(spec).map((i) => `${spec.numerical[i]!.name}:missing`)];
}

/** Every OCSF path the spec reads, sorted. */
export function specSourcePaths(spec: FittedSpec): string[] {
  const paths = new Set<string>();
  for (const c of spec.categorical) paths.add(c.source.path);
  for (const n of spec.numerical) {
    if (n.source.kind === 'derived') for (const p of DERIVED[n.source.name]) paths.add(p);
    else paths.add(n.source.path);
  }
  return [...paths].sort();
}

/** Why a record does not fit the spec. */
export interface RecordProblem {
  reason: 'wrong_type' | 'non_finite_number';
  detail: string;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}

/**
 * A checker for fields that must hold numbers: a value that is present but not a finite number
 * (text, NaN, ±Infinity, an object) makes the record unfit. Returns null when the record fits.
 */
export function numericChecker(paths: readonly string[]): (record: object) => RecordProblem | null {
  const sorted = [...new Set(paths)].sort();
  const getters = sorted.map((p) => compilePathGetters(p).any);
  const readNested = compileNestedReader(sorted);
  const vals: unknown[] = new Array(sorted.length);
  return (record) => {
    if (!readNested(record, vals)) for (let i = 0; i < getters.length; i++) vals[i] = getters[i]!(record);
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      const path = sorted[i]!;
      if (v === undefined || v === '' || Number.isFinite(toNumber(v))) continue;
      if (typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity') {
        return { reason: 'non_finite_number', detail: `${path} is ${v}; write null for a missing number` };
      }
      return { reason: 'wrong_type', detail: `${path} should be a number but is ${describe(v)}` };
    }
    return null;
  };
}

const checkers = new WeakMap<FittedSpec, (record: object) => RecordProblem | null>();

/**
 * Checks the fields a spec reads as numbers (numerical columns, derived-feature inputs and
 * `time`); see {@link numericChecker}. Returns null when the record fits.
 */
export function checkRecord(spec: FittedSpec, record: object): RecordProblem | null {
  let check = checkers.get(spec);
  if (!check) {
    const paths: string[] = [];
    for (const n of spec.numerical) {
      if (n.source.kind === 'derived') {
        for (const p of DERIVED[n.source.name]) if (p !== 'http_request.user_agent') paths.push(p);
      } else paths.push(n.source.path);
    }
    for (const c of spec.categorical) if (c.source.kind === 'time') paths.push(c.source.path);
    check = numericChecker(paths);
    checkers.set(spec, check);
  }
  return check(record);
}

export type { CategoricalFeature, NumericalFeature };
