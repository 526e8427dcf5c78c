// Fitting a feature spec in one streaming pass: a bounded sample chooses the columns, then every
// record updates vocabulary counts (bounded) and Welford mean/variance; nothing else is held.
import { UserError } from '../core/errors.ts';
import { extractScratch } from './encode.ts';
import { collectStats, type Draft, draftSpec } from './infer.ts';
import { type ResolvedOptions, resolveOptions, type SpecOptions } from './options.ts';
import { checkTimeZone } from './time.ts';
import type { FittedSpec } from './types.ts';

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
    this.sample = [];
    for (const r of sample) this.count(r);
  }

  private count(record: object): void {
    this.rows++;
    const raw = extractScratch(this.draft!.spec, record);
    const cats = this.cats;
    for (let j = 0; j < cats.length; j++) cats[j]!.add(raw.cat[j]!);
    const nums = this.nums;
    for (let j = 0; j < nums.length; j++) {
      const a = nums[j]!;
      const x = raw.num[j]!;
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
