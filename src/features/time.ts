// Time features from an OCSF `time` (epoch ms, or epoch seconds) in UTC or an IANA time zone: hour, day
// of week, weekend and business-hours flags, and cyclic sin/cos encodings; out-of-range instants have none.
import { UserError } from '../core/errors.ts';

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
const BUCKET_MS = 900_000;
const OFFSET_CACHE_LIMIT = 65_536;

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCaches = new Map<string, Map<number, number>>();

/** True for `UTC` and its spellings (`utc`, `Etc/UTC`, `Z`, `GMT`). */
export function isUtc(timeZone: string): boolean {
  const t = timeZone.toUpperCase();
  return t === 'UTC' || t === 'ETC/UTC' || t === 'Z' || t === 'GMT' || t === 'ETC/GMT';
}

/** Throws an {@link UserError} unless `timeZone` is UTC or an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string): void {
  if (isUtc(timeZone)) return;
  try {
    formatter(timeZone);
  } catch {
    throw new UserError(
      `Unknown time zone "${timeZone}": use UTC or an IANA zone name such as "Europe/Berlin" or "America/New_York".`,
    );
  }
}

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * The zone's UTC offset in ms at instant `ms`. Offsets change only on quarter-hour boundaries,
 * so they are looked up once per 15-minute bucket and cached.
 */
function zoneOffset(timeZone: string, ms: number): number {
  let cache = offsetCaches.get(timeZone);
  if (!cache) {
    cache = new Map();
    offsetCaches.set(timeZone, cache);
  }
  const bucket = Math.floor(ms / BUCKET_MS);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const at = bucket * BUCKET_MS;
  const parts = formatter(timeZone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const local = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  const offset = local - at;
  if (cache.size >= OFFSET_CACHE_LIMIT) cache.clear();
  cache.set(bucket, offset);
  return offset;
}

/** Local wall-clock ms since the epoch for instant `ms` in `timeZone`. */
function localMs(ms: number, timeZone: string): number {
  return isUtc(timeZone) ? ms : ms + zoneOffset(timeZone, ms);
}

/** Epoch values below this in magnitude are seconds: 1e11 ms is March 1973, 1e11 s the year 5138. */
const SECONDS_BELOW = 1e11;
/** Instants after this (1970-01-01T00:00Z, exclusive) and before {@link TIME_END_MS} have time features. */
const TIME_START_MS = 0;
/** 2100-01-01T00:00Z: later instants are corrupt values, not times of day. */
const TIME_END_MS = Date.UTC(2100, 0, 1);

/**
 * The epoch-ms instant a numeric OCSF `time` stands for: a value below 1e11 in magnitude is epoch seconds
 * (collectors that write seconds), anything larger epoch ms. NaN when it is not finite or the instant is
 * not after 1970-01-01 and before 2100-01-01 (0 and negative placeholders, overflowed or corrupted values):
 * such an event's time features are missing, never a made-up hour.
 */
export function instantMs(t: number): number {
  const ms = Math.abs(t) < SECONDS_BELOW ? t * 1000 : t;
  return ms > TIME_START_MS && ms < TIME_END_MS ? ms : Number.NaN;
}

/** Hour of day 0–23 of the `time` value `t` (see {@link instantMs}) in `timeZone`, or NaN when it has none. */
export function hourOfDay(t: number, timeZone: string): number {
  const ms = instantMs(t);
  if (Number.isNaN(ms)) return Number.NaN;
  const l = localMs(ms, timeZone);
  return Math.floor((l - Math.floor(l / MS_PER_DAY) * MS_PER_DAY) / MS_PER_HOUR);
}

/** Day of week 0–6 with Monday = 0 (as pandas' `dayofweek`) of the `time` value `t`, or NaN when it has none. */
export function dayOfWeek(t: number, timeZone: string): number {
  const ms = instantMs(t);
  if (Number.isNaN(ms)) return Number.NaN;
  const days = Math.floor(localMs(ms, timeZone) / MS_PER_DAY);
  return (((days + 3) % 7) + 7) % 7;
}

/** The time features derived from `time`, by name. */
export const TIME_PARTS = {
  hour: 'categorical',
  day_of_week: 'categorical',
  hour_sin: 'numerical',
  hour_cos: 'numerical',
  dow_sin: 'numerical',
  dow_cos: 'numerical',
  is_weekend: 'numerical',
  is_business_hours: 'numerical',
} as const;

/** One derived time feature. */
export type TimePart = keyof typeof TIME_PARTS;

/**
 * The value of one time feature for the `time` value `ms` (epoch ms or s, see {@link instantMs}; NaN when
 * it has no usable instant):
 * `hour` 0–23, `day_of_week` 0–6 (Monday 0), `is_weekend` (Saturday/Sunday) and
 * `is_business_hours` (9 ≤ hour < 17) as 0/1, and `sin/cos(2π·h/24)`, `sin/cos(2π·d/7)`.
 */
export function timePart(ms: number, part: TimePart, timeZone: string): number {
  switch (part) {
    case 'hour':
      return hourOfDay(ms, timeZone);
    case 'day_of_week':
      return dayOfWeek(ms, timeZone);
    case 'hour_sin':
      return Math.sin((2 * Math.PI * hourOfDay(ms, timeZone)) / 24);
    case 'hour_cos':
      return Math.cos((2 * Math.PI * hourOfDay(ms, timeZone)) / 24);
    case 'dow_sin':
      return Math.sin((2 * Math.PI * dayOfWeek(ms, timeZone)) / 7);
    case 'dow_cos':
      return Math.cos((2 * Math.PI * dayOfWeek(ms, timeZone)) / 7);
    case 'is_weekend': {
      const d = dayOfWeek(ms, timeZone);
      return Number.isNaN(d) ? d : d >= 5 ? 1 : 0;
    }
    case 'is_business_hours': {
      const h = hourOfDay(ms, timeZone);
      return Number.isNaN(h) ? h : h >= 9 && h < 17 ? 1 : 0;
    }
  }
}
