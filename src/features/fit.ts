// Fitting a feature spec in one streaming pass: a bounded sample chooses the columns, then every
// record updates vocabulary counts (bounded) and Welford mean/variance; nothing else is held.
import { UserError } from '../core/errors.ts';
import { compilePathGetter, type PathGetter } from '../data/flatten.ts';
import { isNumericLiteral } from './canonical.ts';
import { extractScratch } from './encode.ts';
import { collectStats, type Draft, draftSpec } from './infer.ts';
import { type ResolvedOptions, resolveOptions, type SpecOptions } from './options.ts';
import { checkTimeZone, dayOfWeek, hourOfDay, instantMs, type TimePart } from './time.ts';
import type { FittedSpec } from './types.ts';

/** Time features that repeat once a day: kept only when the fit data covers every hour of the day. */
const DAILY_PARTS: ReadonlySet<TimePart> = new Set(['hour', 'hour_sin', 'hour_cos', 'is_business_hours']);
/** Time features that repeat once a week: kept only when the fit data covers every day of the week. */
const WEEKLY_PARTS: ReadonlySet<TimePart> = new Set(['day_of_week', 'dow_sin', 'dow_cos', 'is_weekend']);

/** A value column whose correlation with `time` reaches this (in absolute value) is a counter or clock. */
export const DRIFT_CORRELATION = 0.95;
/** Fewest rows with both the value and `time` before a column is judged by its correlation. */
const DRIFT_MIN_ROWS = 50;

/** Online Pearson correlation of a value with `time` (Welford co-moments, stable for epoch ms). */
class TimeCorrelation {
  n = 0;
  private mx = 0;
  private mt = 0;
  private m2x = 0;
  private m2t = 0;
  private cxt = 0;

  add(x: number, t: number): void {
    this.n++;
    const dx = x - this.mx;
    const dt = t - this.mt;
    this.mx += dx / this.n;
    this.mt += dt / this.n;
    this.m2x += dx * (x - this.mx);
    this.m2t += dt * (t - this.mt);
    this.cxt += dx * (t - this.mt);
  }

  /** Pearson r, or 0 when either side is constant or too few rows were seen. */
  get r(): number {
    if (this.n < DRIFT_MIN_ROWS || !(this.m2x > 0) || !(this.m2t > 0)) return 0;
    return this.cxt / Math.sqrt(this.m2x * this.m2t);
  }
}

function epochMs(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && isNumericLiteral(v)) return Number(v);
  return Number.NaN;
}

function hoursCovered(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

interface NumAcc {
  n: number;
  mean: number;
  m2: number;
  missing: number;
  invalid: number;
  min: number;
  max: number;
}

/** Counts of one categorical column's stage-1 values, pruned when they grow past a bound. */
class ValueCounts {
  readonly counts = new Map<string, number>();
  missing = 0;
  pruned = 0;
  constructor(private readonly cap: number) {}

  add(v: string | null): void {
    if (v === null) {
      this.missing++;
      return;
    }
    const c = this.counts.get(v);
    if (c !== undefined) this.counts.set(v, c + 1);
    else {
      this.counts.set(v, 1);
      if (this.counts.size > this.cap) this.prune();
    }
  }

  /** Drops the rarest values until at most half the bound remain (their counts become approximate). */
  private prune(): void {
    let level = 1;
    while (this.counts.size > this.cap / 2) {
      for (const [k, c] of this.counts) {
        if (c <= level) {
          this.counts.delete(k);
          this.pruned++;
        }
      }
      level *= 2;
    }
  }
}

/**
 * Fits a {@link FittedSpec} from a stream of records: call {@link SpecFitter.add} for each
 * training record (in order) and {@link SpecFitter.finish} once. The first `sampleSize`
 * records are held to choose columns; after that memory stays bounded by the vocabulary
 * counters (`categorical.maxTracked` values per column).
 */
export class SpecFitter {
  private readonly opts: ResolvedOptions;
  private sample: object[] = [];
  private draft: Draft | null = null;
  private cats: ValueCounts[] = [];
  private nums: NumAcc[] = [];
  private rows = 0;
  private readonly timeOf: PathGetter = compilePathGetter('time');
  private timeMin = Number.POSITIVE_INFINITY;
  private timeMax = Number.NEGATIVE_INFINITY;
  /** Bit h set when hour of day h occurs in the fit data; bit d of `daysSeen` likewise for weekdays. */
  private hoursSeen = 0;
  private daysSeen = 0;
  private lastHourBucket = Number.NaN;
  /** Per categorical / numerical feature: its value's correlation with time (value columns only). */
  private catDrift: (TimeCorrelation | null)[] = [];
  private numDrift: (TimeCorrelation | null)[] = [];

  constructor(options: SpecOptions = {}) {
    this.opts = resolveOptions(options);
    checkTimeZone(this.opts.timeZone);
  }

  /** Adds one training record. */
  add(record: object): void {
    if (this.draft === null) {
      this.sample.push(record);
      if (this.sample.length >= this.opts.sampleSize) this.startCounting();
      return;
    }
    this.count(record);
  }

  private startCounting(): void {
    const sample = this.sample;
    this.draft = draftSpec(collectStats(sample), sample.length, this.opts);
    this.cats = this.draft.spec.categorical.map(() => new ValueCounts(this.opts.maxTracked));
    this.nums = this.draft.spec.numerical.map(() => ({
      n: 0,
      mean: 0,
      m2: 0,
      missing: 0,
      invalid: 0,
      min: Number.POSITIVE_INFINITY,
      max: Number.NEGATIVE_INFINITY,
    }));
    const spec = this.draft.spec;
    this.catDrift = spec.categorical.map((f) => (f.source.kind === 'value' ? new TimeCorrelation() : null));
    this.numDrift = spec.numerical.map((f) => (f.source.kind === 'value' ? new TimeCorrelation() : null));
    this.sample = [];
    for (const r of sample) this.count(r);
  }

  /** Notes which hours and weekdays the fit data covers (one look-up per new hour bucket). */
  private countTime(t: number): void {
    if (t < this.timeMin) this.timeMin = t;
    if (t > this.timeMax) this.timeMax = t;
    const bucket = Math.floor(t / 3_600_000);
    if (bucket === this.lastHourBucket) return;
    this.lastHourBucket = bucket;
    const tz = this.opts.timeZone;
    this.hoursSeen |= 1 << hourOfDay(t, tz);
    this.daysSeen |= 1 << dayOfWeek(t, tz);
  }

  private count(record: object): void {
    this.rows++;
    const raw = extractScratch(this.draft!.spec, record);
    const t = instantMs(epochMs(this.timeOf(record)));
    const timed = Number.isFinite(t);
    if (timed) this.countTime(t);
    const cats = this.cats;
    for (let j = 0; j < cats.length; j++) {
      const v = raw.cat[j]!;
      cats[j]!.add(v);
      const drift = this.catDrift[j];
      if (drift && timed && v !== null && isNumericLiteral(v)) drift.add(Number(v), t);
    }
    const nums = this.nums;
    for (let j = 0; j < nums.length; j++) {
      const a = nums[j]!;
      const x = raw.num[j]!;
      if (timed && !Number.isNaN(x)) this.numDrift[j]?.add(x, t);
      if (Number.isNaN(x)) {
        a.missing++;
        if (raw.invalid(j)) a.invalid++;
        continue;
      }
      a.n++;
      const d = x - a.mean;
      a.mean += d / a.n;
      a.m2 += d * (x - a.mean);
      if (x < a.min) a.min = x;
      if (x > a.max) a.max = x;
    }
  }

  /** Finishes fitting and returns the spec. */
  finish(): FittedSpec {
    if (this.draft === null) {
      if (this.sample.length === 0) {
        throw new UserError('No events to fit the feature spec on: check that the input files hold events.');
      }
      this.startCounting();
    }
    const { spec: draft, forced, indicatorOverrides } = this.draft!;
    const rows = this.rows;
    const dropped = [...draft.dropped];

    const categorical = [];
    for (let j = 0; j < draft.categorical.length; j++) {
      const f = draft.categorical[j]!;
      const vc = this.cats[j]!;
      let vocabulary: string[];
      let covered = 0;
      if (f.hashBuckets > 0) {
        vocabulary = Array.from({ length: f.hashBuckets }, (_, i) => `#${i}`);
        covered = rows - vc.missing;
      } else {
        const kept = [...vc.counts].filter(([, c]) => c >= f.minCount);
        kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        const top = kept.slice(0, f.topK);
        vocabulary = top.map(([k]) => k);
        for (const [, c] of top) covered += c;
      }
      const distinct = vc.counts.size + vc.pruned;
      if (!forced.has(f.name)) {
        const drift = this.catDrift[j] ?? null;
        const numericShare = drift ? drift.n / Math.max(1, rows - vc.missing) : 0;
        const reason = this.driftReason(f.source, numericShare >= 0.95 && distinct > 20 ? drift : null);
        if (reason !== null) {
          dropped.push({ name: f.name, reason });
          continue;
        }
        if (vc.missing === rows) {
          dropped.push({ name: f.name, reason: 'always missing in the fit data' });
          continue;
        }
        if (distinct === 1 && vc.missing === 0) {
          dropped.push({ name: f.name, reason: 'constant' });
          continue;
        }
      }
      categorical.push({ ...f, vocabulary, stats: { missing: vc.missing, distinct, covered } });
    }

    const numerical = [];
    for (let j = 0; j < draft.numerical.length; j++) {
      const f = draft.numerical[j]!;
      const a = this.nums[j]!;
      const fittedStd = a.n > 0 ? Math.fround(Math.sqrt(a.m2 / a.n)) : 0;
      if (!forced.has(f.name)) {
        const reason = this.driftReason(f.source, this.numDrift[j] ?? null);
        if (reason !== null) {
          dropped.push({ name: f.name, reason });
          continue;
        }
        if (a.n === 0) {
          dropped.push({
            name: f.name,
            reason:
              a.invalid > 0 ? `no numbers (${a.invalid} invalid values)` : 'always missing in the fit data',
          });
          continue;
        }
        if (fittedStd === 0 && a.missing === 0) {
          dropped.push({ name: f.name, reason: 'constant' });
          continue;
        }
      }
      const mode = this.opts.indicators;
      const indicator =
        indicatorOverrides.get(f.name) ?? (mode === 'all' || (mode === 'auto' && a.missing > 0));
      numerical.push({
        ...f,
        mean: a.n > 0 ? Math.fround(a.mean) : 0,
        std: fittedStd > 0 && Number.isFinite(fittedStd) ? fittedStd : 1,
        indicator,
        stats: {
          missing: a.missing,
          invalid: a.invalid,
          min: a.n > 0 ? a.min : null,
          max: a.n > 0 ? a.max : null,
          fittedStd,
        },
      });
    }

    return { ...draft, categorical, numerical, dropped, rows };
  }

  /**
   * Why a feature would make a later window look new, or null: a daily time feature when the fit data
   * does not cover every hour of the day, a weekly one when it does not cover every weekday, and a value
   * that moves with the clock (a counter, a sequence number, a growing id: |r| with `time` ≥ 0.95).
   */
  private driftReason(source: { kind: string; part?: string }, drift: TimeCorrelation | null): string | null {
    const spanHours = this.timeMax >= this.timeMin ? (this.timeMax - this.timeMin) / 3_600_000 : 0;
    const span = spanHours >= 48 ? `${(spanHours / 24).toFixed(1)} days` : `${spanHours.toFixed(1)} h`;
    if (source.kind === 'time') {
      const part = source.part as TimePart;
      const hours = hoursCovered(this.hoursSeen);
      if (DAILY_PARTS.has(part) && hours < 24) {
        return `time window too short: the fit data (${span}) covers ${hours} of the 24 hours of the day, so later hours would look new`;
      }
      const days = hoursCovered(this.daysSeen);
      if (WEEKLY_PARTS.has(part) && days < 7) {
        return `time window too short: the fit data (${span}) covers ${days} of the 7 days of the week, so later days would look new`;
      }
      return null;
    }
    const r = drift?.r ?? 0;
    if (Math.abs(r) >= DRIFT_CORRELATION) {
      return `moves with the clock (correlation ${r.toFixed(2)} with time): a counter or growing id, later values would fall outside the fit data`;
    }
    return null;
  }
}

/**
 * Fits a feature spec on training records (pass the training split only: means, stds and
 * vocabularies come from these records). Column choice uses the first `sampleSize` records;
 * see {@link SpecFitter} for streaming input.
 */
export function fitSpec(records: Iterable<object>, options?: SpecOptions): FittedSpec {
  const fitter = new SpecFitter(options);
  for (const r of records) fitter.add(r);
  return fitter.finish();
}
