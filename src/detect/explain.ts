// Explanations of anomaly scores: which fields make an event unusual compared with its nearest normal
// reference events (a categorical value rare among them, a numeric robust z-score against them), and how
// many of the spec's features a batch of events carries at all (schema coverage). Portable: the CLI, the
// service and the browser share it.
import { extractRaw } from '../features/encode.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import { MISSING_ID, UNKNOWN_ID, VOCAB_OFFSET } from '../features/types.ts';

/** Stage-1 features of the reference events, kept with the reference embeddings to explain scores. */
export interface ReferenceFeatures {
  rows: number;
  /** Stage-1 numbers [rows, numerical features] (after log1p where the spec sets it), NaN when missing. */
  numerical: Float32Array;
  /** Categorical ids [rows, categorical features]: 0 missing, 1 unknown, 2… vocabulary. */
  categorical: Int32Array;
}

/** One field that makes an event unusual. */
export interface FieldReason {
  /** Feature name (the OCSF path, or `time:hour`-style derived names). */
  field: string;
  /** The event's value as text (numbers in their original units). */
  value: string;
  /** Why it stands out, e.g. `never among neighbours`, `z 14`. */
  reason: string;
  /** How strongly (comparable across fields; higher first). */
  strength: number;
}

/** Options of {@link explainEvent}. */
export interface ExplainOptions {
  /** Fields reported at most (default 3). */
  maxFields?: number;
  /** Smallest robust |z| reported for a numeric field (default 3). */
  minZ?: number;
  /** Largest share of neighbours holding the same categorical value for it to count as rare (default 0.1). */
  maxShare?: number;
}

/** Default of {@link ExplainOptions.maxShare}. */
const MAX_SHARE = 0.1;

const vocabularyMaps = new WeakMap<FittedSpec, Map<string, number>[]>();

function vocabularies(spec: FittedSpec): Map<string, number>[] {
  let maps = vocabularyMaps.get(spec);
  if (!maps) {
    maps = spec.categorical.map((c) => new Map(c.vocabulary.map((v, i) => [v, i + VOCAB_OFFSET])));
    vocabularyMaps.set(spec, maps);
  }
  return maps;
}

function categoricalId(spec: FittedSpec, j: number, v: string | null): number {
  if (v === null) return MISSING_ID;
  return vocabularies(spec)[j]!.get(v) ?? UNKNOWN_ID;
}

/** Stage-1 features of `events` under `spec`, row-major, for {@link explainEvent}. */
export function referenceFeatures(spec: FittedSpec, events: readonly object[]): ReferenceFeatures {
  const fn = spec.numerical.length;
  const fc = spec.categorical.length;
  const numerical = new Float32Array(events.length * fn);
  const categorical = new Int32Array(events.length * fc);
  events.forEach((e, i) => {
    const raw = extractRaw(spec, e);
    for (let j = 0; j < fn; j++) numerical[i * fn + j] = raw.num[j]!;
    for (let j = 0; j < fc; j++) categorical[i * fc + j] = categoricalId(spec, j, raw.cat[j]!);
  });
  return { rows: events.length, numerical, categorical };
}

/** Reference row `row` back as stage-1 features (values outside the vocabulary come back as unseen). */
export function referenceRaw(spec: FittedSpec, reference: ReferenceFeatures, row: number): RawFeatures {
  const fn = spec.numerical.length;
  const fc = spec.categorical.length;
  const cat: (string | null)[] = [];
  for (let j = 0; j < fc; j++) {
    const id = reference.categorical[row * fc + j]!;
    cat.push(
      id === MISSING_ID
        ? null
        : id === UNKNOWN_ID
          ? UNSEEN
          : spec.categorical[j]!.vocabulary[id - VOCAB_OFFSET]!,
    );
  }
  return { cat, num: Array.from(reference.numerical.subarray(row * fn, (row + 1) * fn)) };
}

/** A stage-1 string no vocabulary holds (stage 1 never produces a NUL character). */
const UNSEEN = '\u0000unseen';

function median(sorted: ArrayLike<number>, n: number): number {
  const m = n >> 1;
  return n % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

function originalUnits(x: number, log1p: boolean): number {
  return log1p ? Math.sign(x) * Math.expm1(Math.abs(x)) : x;
}

/** en-US formats with at most 0, 2 and 4 fraction digits: made once, as building one costs far more than using it. */
const NUMBER_FORMATS = [0, 2, 4].map(
  (digits) => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits }),
);

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return NUMBER_FORMATS[a >= 100 ? 0 : a >= 1 ? 1 : 2]!.format(x);
}

function formatZ(z: number): string {
  const a = Math.abs(z);
  return `z ${z < 0 ? '-' : ''}${a >= 10 ? Math.round(a) : a.toFixed(1)}`;
}

/**
 * Why a field stands out, before its text is written (only the strongest few are): a categorical value
 * missing where the neighbours have one, outside the vocabulary, or rare among the neighbours; a numeric
 * value missing where they have one, present where few have one, or far from theirs (robust z-score).
 */
type Kind = 'cat-missing' | 'cat-unseen' | 'cat-rare' | 'num-missing' | 'num-few' | 'num-z';

interface Candidate {
  kind: Kind;
  /** Feature index among the categorical or numerical features. */
  j: number;
  field: string;
  /** Neighbours holding a value (missing kinds) or this value (`cat-rare`), or with a value (numeric kinds). */
  n: number;
  z: number;
  strength: number;
}

/** Scratch for the neighbours' numeric values and their deviations (grown on demand). */
let values = new Float64Array(64);
let deviations = new Float64Array(64);
/** Scratch per categorical feature: the event's id, and how many neighbours hold it or any value. */
let ids = new Int32Array(64);
let sameCounts = new Int32Array(64);
let presentCounts = new Int32Array(64);

/** Sorts `x[0..n)` ascending (insertion sort: the neighbours are a few dozen at most). */
function sortSmall(x: Float64Array, n: number): Float64Array {
  for (let i = 1; i < n; i++) {
    const v = x[i]!;
    let j = i - 1;
    while (j >= 0 && x[j]! > v) {
      x[j + 1] = x[j]!;
      j--;
    }
    x[j + 1] = v;
  }
  return x;
}

/** An event's candidate fields against one set of neighbours, strongest first, before any text. */
interface Candidates {
  spec: FittedSpec;
  reference: ReferenceFeatures;
  minZ: number;
  maxShare: number;
  /** The neighbours' reference rows that counted (in range), in the order given. */
  rows: Int32Array;
  found: Candidate[];
}

/**
 * Each event's latest candidates (keyed by its stage-1 features): scoring's field surprise and the reasons
 * written afterwards ask about the same event and neighbours, and share one pass over them.
 */
const latest = new WeakMap<RawFeatures, Candidates>();

function sameRows(a: Int32Array, b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The fields that make one event unusual among its nearest reference events (`neighbours`: reference row
 * indices, −1 for none), strongest first: a categorical value never (or rarely) held by the neighbours,
 * or unseen in training; a numeric value whose robust z-score against the neighbours' median and MAD
 * (floored at a tenth of the training std) is at least `minZ`; a value missing where the neighbours have
 * one. Empty when nothing stands out or there are fewer than 3 neighbours.
 */
export function explainEvent(
  spec: FittedSpec,
  raw: RawFeatures,
  reference: ReferenceFeatures,
  neighbours: ArrayLike<number>,
  options: ExplainOptions = {},
): FieldReason[] {
  const { maxFields = 3, minZ = 3, maxShare = MAX_SHARE } = options;
  const c = candidates(spec, raw, reference, neighbours, minZ, maxShare);
  return c.found.slice(0, maxFields).map((x) => describe(spec, raw, x, c.rows.length));
}

/** The candidate fields of `raw` among `neighbours` (see {@link explainEvent}), reused when asked again. */
function candidates(
  spec: FittedSpec,
  raw: RawFeatures,
  reference: ReferenceFeatures,
  neighbours: ArrayLike<number>,
  minZ: number,
  maxShare: number,
): Candidates {
  const rows: number[] = [];
  for (let i = 0; i < neighbours.length; i++) {
    const r = neighbours[i]!;
    if (r >= 0 && r < reference.rows) rows.push(r);
  }
  const last = latest.get(raw);
  if (
    last?.spec === spec &&
    last.reference === reference &&
    last.minZ === minZ &&
    last.maxShare === maxShare &&
    sameRows(last.rows, rows)
  ) {
    return last;
  }
  const c: Candidates = {
    spec,
    reference,
    minZ,
    maxShare,
    rows: Int32Array.from(rows),
    found: findCandidates(spec, raw, reference, rows, minZ, maxShare),
  };
  latest.set(raw, c);
  return c;
}

/** The candidate fields, strongest first (see {@link explainEvent}); none with fewer than 3 neighbours. */
function findCandidates(
  spec: FittedSpec,
  raw: RawFeatures,
  reference: ReferenceFeatures,
  rows: readonly number[],
  minZ: number,
  maxShare: number,
): Candidate[] {
  const m = rows.length;
  if (m < 3) return [];
  if (values.length < m) {
    values = new Float64Array(m);
    deviations = new Float64Array(m);
  }
  const found: Candidate[] = [];
  const fc = spec.categorical.length;
  if (ids.length < fc) {
    ids = new Int32Array(fc);
    sameCounts = new Int32Array(fc);
    presentCounts = new Int32Array(fc);
  }
  const vocab = vocabularies(spec);
  for (let j = 0; j < fc; j++) {
    const v = raw.cat[j] ?? null;
    ids[j] = v === null ? MISSING_ID : (vocab[j]!.get(v) ?? UNKNOWN_ID);
  }
  sameCounts.fill(0, 0, fc);
  presentCounts.fill(0, 0, fc);
  for (let i = 0; i < m; i++) {
    const base = rows[i]! * fc;
    for (let j = 0; j < fc; j++) {
      const other = reference.categorical[base + j]!;
      if (other === ids[j]) sameCounts[j]++;
      if (other !== MISSING_ID) presentCounts[j]++;
    }
  }
  for (let j = 0; j < fc; j++) {
    const v = raw.cat[j] ?? null;
    const id = ids[j]!;
    const same = sameCounts[j]!;
    const present = presentCounts[j]!;
    if (same / m > maxShare) continue;
    const strength = 2 * Math.log((m + 1) / (same + 0.5));
    const field = spec.categorical[j]!.name;
    if (v === null) found.push({ kind: 'cat-missing', j, field, n: present, z: 0, strength });
    else if (id === UNKNOWN_ID)
      found.push({ kind: 'cat-unseen', j, field, n: 0, z: 0, strength: strength + 2 });
    else found.push({ kind: 'cat-rare', j, field, n: same, z: 0, strength });
  }
  const fn = spec.numerical.length;
  for (let j = 0; j < fn; j++) {
    const f = spec.numerical[j]!;
    const x = raw.num[j]!;
    let count = 0;
    for (let i = 0; i < m; i++) {
      const y = reference.numerical[rows[i]! * fn + j]!;
      if (!Number.isNaN(y)) values[count++] = y;
    }
    if (Number.isNaN(x)) {
      if (count / m > 1 - maxShare) {
        const strength = 2 * Math.log((m + 1) / (m - count + 0.5));
        found.push({ kind: 'num-missing', j, field: f.name, n: count, z: 0, strength });
      }
      continue;
    }
    if (count < 3) {
      if (count / m <= maxShare) {
        const strength = 2 * Math.log((m + 1) / (count + 0.5));
        found.push({ kind: 'num-few', j, field: f.name, n: count, z: 0, strength });
      }
      continue;
    }
    const sorted = sortSmall(values, count);
    const med = median(sorted, count);
    for (let i = 0; i < count; i++) deviations[i] = Math.abs(sorted[i]! - med);
    const mad = median(sortSmall(deviations, count), count);
    const floor = 0.1 * (f.stats.fittedStd > 0 ? f.stats.fittedStd : 1);
    const z = (x - med) / Math.max(1.4826 * mad, floor);
    if (!(Math.abs(z) >= minZ)) continue;
    found.push({ kind: 'num-z', j, field: f.name, n: count, z, strength: Math.min(Math.abs(z), 1e6) });
  }
  found.sort((a, b) => b.strength - a.strength || (a.field < b.field ? -1 : 1));
  return found;
}

/** A numerical field's value of an event as text, in its original units. */
export function numericValueText(spec: FittedSpec, raw: RawFeatures, j: number): string {
  return formatNumber(originalUnits(raw.num[j]!, spec.numerical[j]!.log1p));
}

function describe(spec: FittedSpec, raw: RawFeatures, c: Candidate, m: number): FieldReason {
  const { field, strength } = c;
  switch (c.kind) {
    case 'cat-missing':
      return { field, value: '(missing)', reason: `present in ${c.n} of ${m} neighbours`, strength };
    case 'cat-unseen':
      return { field, value: raw.cat[c.j]!, reason: 'never seen in training', strength };
    case 'cat-rare': {
      const reason = c.n === 0 ? 'never among neighbours' : `${c.n} of ${m} neighbours`;
      return { field, value: raw.cat[c.j]!, reason, strength };
    }
    case 'num-missing':
      return { field, value: '(missing)', reason: `present in ${c.n} of ${m} neighbours`, strength };
    case 'num-few': {
      const value = numericValueText(spec, raw, c.j);
      return { field, value, reason: `missing in ${m - c.n} of ${m} neighbours`, strength };
    }
    case 'num-z': {
      const value = numericValueText(spec, raw, c.j);
      return { field, value, reason: formatZ(c.z), strength };
    }
  }
}

/**
 * How unusual an event is among its nearest reference events, field by field: the summed strength of
 * its `fields` most unusual fields (see {@link explainEvent}; numeric fields count from |z| ≥ `minZ`).
 * 0 when nothing stands out. This scores an event relative to its own kind (its neighbours) rather than
 * to the whole event space, and counts numeric extremes.
 */
export function neighbourSurprise(
  spec: FittedSpec,
  raw: RawFeatures,
  reference: ReferenceFeatures,
  neighbours: ArrayLike<number>,
  fields = 3,
  minZ = 3,
): number {
  const found = candidates(spec, raw, reference, neighbours, minZ, MAX_SHARE).found;
  let sum = 0;
  for (let i = 0; i < Math.min(fields, found.length); i++) sum += found[i]!.strength;
  return sum;
}

/** One line for people: `http_response.code 504 (never among neighbours), duration 5,012 (z 14)`. */
export function formatReasons(reasons: readonly FieldReason[]): string {
  return reasons.map((r) => `${r.field} ${r.value} (${r.reason})`).join(', ');
}

/** How many of the spec's features a batch of events carries. */
export interface SchemaCoverage {
  /** Features with a value in at least one event. */
  present: number;
  /** Features of the spec (categorical + numerical, indicators not counted). */
  total: number;
  /** Per event: its features with a value. */
  perEvent: Int32Array;
  /** A sentence for people when the events carry too few of the features, else null. */
  warning: string | null;
}

/** Share of the spec's features below which {@link featureCoverage} warns when training coverage is unknown. */
export const COVERAGE_WARNING = 0.5;

/** Features with a value in each reference row; its low percentile is what a normal event carries at least. */
export function referenceCoverage(spec: FittedSpec, reference: ReferenceFeatures): number {
  const fn = spec.numerical.length;
  const fc = spec.categorical.length;
  const counts: number[] = [];
  for (let r = 0; r < reference.rows; r++) {
    let n = 0;
    for (let j = 0; j < fc; j++) if (reference.categorical[r * fc + j] !== MISSING_ID) n++;
    for (let j = 0; j < fn; j++) if (!Number.isNaN(reference.numerical[r * fn + j]!)) n++;
    counts.push(n);
  }
  counts.sort((a, b) => a - b);
  return counts.length > 0 ? counts[Math.floor(0.01 * (counts.length - 1))]! : 0;
}

/**
 * The warning for events carrying `perEvent` features each (`present` of `total` in all), or null: when
 * they carry none, or on average fewer than half of `expected` (the fewest a training event carries), or —
 * when that is unknown — fewer than half of the spec's features in all.
 */
export function coverageWarning(
  present: number,
  total: number,
  perEvent: ArrayLike<number>,
  expected = 0,
): string | null {
  if (perEvent.length === 0 || total === 0) return null;
  let sum = 0;
  for (let i = 0; i < perEvent.length; i++) sum += perEvent[i]!;
  const mean = sum / perEvent.length;
  const few = present === 0 || (expected > 0 ? mean < expected / 2 : present / total < COVERAGE_WARNING);
  if (!few) return null;
  const typical = expected > 0 ? `; training events carry at least ${expected}` : '';
  return `the events carry ${present} of ${total} features of the model's spec (${mean.toFixed(1)} per event${typical}): they do not look like the training events and their scores say little; check that they are the same kind of OCSF events`;
}

/**
 * Which of the spec's features the events carry (stage-1 values that are not missing). Events that carry
 * few of them are not like the training data and their scores say little: `warning` says so, e.g.
 * `the events carry 0 of 84 features of the model's spec …` (see {@link coverageWarning}). `expected` is
 * the fewest features a training event carries ({@link referenceCoverage}).
 */
export function featureCoverage(
  spec: FittedSpec,
  raws: readonly RawFeatures[],
  expected = 0,
): SchemaCoverage {
  const fc = spec.categorical.length;
  const fn = spec.numerical.length;
  const total = fc + fn;
  const seen = new Uint8Array(total);
  const perEvent = new Int32Array(raws.length);
  raws.forEach((raw, i) => {
    let n = 0;
    for (let j = 0; j < fc; j++) {
      if (raw.cat[j] !== null) {
        n++;
        seen[j] = 1;
      }
    }
    for (let j = 0; j < fn; j++) {
      if (!Number.isNaN(raw.num[j]!)) {
        n++;
        seen[fc + j] = 1;
      }
    }
    perEvent[i] = n;
  });
  let present = 0;
  for (const s of seen) present += s;
  return { present, total, perEvent, warning: coverageWarning(present, total, perEvent, expected) };
}
