// The fitted feature spec's JSON shape and the reserved categorical ids.
import type { DerivedName } from './derived.ts';
import type { TimePart } from './time.ts';

/** Categorical id of a missing value (null, absent, ""). */
export const MISSING_ID = 0;
/** Categorical id of a value outside the vocabulary. */
export const UNKNOWN_ID = 1;
/** Vocabulary entry i has id `i + VOCAB_OFFSET`; the last id of a column (`cardinality - 1`) is its MASK id. */
export const VOCAB_OFFSET = 2;

/** A time feature that is categorical. */
export type CategoricalTimePart = 'hour' | 'day_of_week';
/** A time feature that is numerical. */
export type NumericalTimePart = Exclude<TimePart, CategoricalTimePart>;

/** Where a categorical feature's raw string comes from (stage 1 of encoding). */
export type CategoricalSource =
  | { kind: 'value'; path: string }
  | { kind: 'template'; path: string }
  | { kind: 'url'; path: string }
  | { kind: 'time'; path: string; part: CategoricalTimePart };

/** Where a numerical feature's raw number comes from (stage 1 of encoding). */
export type NumericalSource =
  | { kind: 'value'; path: string }
  | { kind: 'time'; path: string; part: NumericalTimePart }
  | { kind: 'derived'; name: DerivedName };

/** One categorical model input. */
export interface CategoricalFeature {
  /** Unique feature name: the OCSF path, or `<path>:<part>` for derived features. */
  name: string;
  source: CategoricalSource;
  /** 0: vocabulary of seen values; N > 0: values are hashed into N buckets `#0`…`#N-1`. */
  hashBuckets: number;
  /** Most frequent values kept (ignored when hashed). */
  topK: number;
  /** Fewest occurrences in the fit data for a value to be kept (ignored when hashed). */
  minCount: number;
  /** Stage-1 strings; entry i has id i + 2. */
  vocabulary: string[];
  /** Over the fit rows: missing values, distinct non-missing values, rows whose value is in the vocabulary. */
  stats: { missing: number; distinct: number; covered: number };
}

/** One numerical model input (before the missing indicators). */
export interface NumericalFeature {
  name: string;
  source: NumericalSource;
  /** Stage 1 applies sign(x)·log1p(|x|). */
  log1p: boolean;
  /** Training mean (a float32 value). */
  mean: number;
  /** Divisor used for scaling (a float32 value): the training std, or 1 when that is 0. */
  std: number;
  /** Whether an is-missing indicator follows the scaled values. */
  indicator: boolean;
  /** Over the fit rows: missing, invalid (text or non-finite in a numeric field), range, fitted std. */
  stats: { missing: number; invalid: number; min: number | null; max: number | null; fittedStd: number };
}

/** A feature spec fitted on training data; plain JSON, immutable once fitted. */
export interface FittedSpec {
  version: 1;
  /** `UTC` or an IANA zone for the time features. */
  timeZone: string;
  /** Categorical strings longer than this (UTF-16 units) are cut in stage 1. */
  maxStringLength: number;
  /** Path of the per-event id kept beside encoded rows (not a feature), or null. */
  uidPath: string | null;
  categorical: CategoricalFeature[];
  numerical: NumericalFeature[];
  /** Paths seen in the sample but not used, and why. */
  dropped: { name: string; reason: string }[];
  /** Rows the statistics were fitted on, and rows used to choose the columns. */
  rows: number;
  sampleRows: number;
}

/** Stage-1 output: canonical category strings (null = missing) and raw numbers (NaN = missing). */
export interface RawFeatures {
  cat: (string | null)[];
  num: number[];
}
