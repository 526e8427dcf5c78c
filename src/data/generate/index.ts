// Synthetic OCSF event generator (portable): a small multi-service application with labelled anomaly scenarios.
import { apiServiceEvents } from './api-service.ts';
import { sampleNormal } from './events.ts';
import type { OcsfEvent } from './ocsf.ts';
import { hashInts, Rng, splitmix32 } from './rng.ts';
import { AnomalyPlanner, type Episode, expandEpisode, planRoutine } from './scenarios.ts';
import { LoadCurve, TimeQueue } from './timeline.ts';
import { buildWorld, slotOf } from './world.ts';

export { API_SCENARIOS } from './api-service.ts';
export type { OcsfEvent } from './ocsf.ts';
export { CLASSES, OCSF_VERSION } from './ocsf.ts';
export { SCENARIOS, type ScenarioInfo } from './scenarios.ts';

/**
 * Shapes of generated data: `ocsf` (the default) is a multi-service application with many OCSF classes
 * and fields; `api` is a plain API-service log with few fields (endpoint, status, latency, level,
 * message, a handful of users) and latency and error episodes as anomalies.
 */
export const PROFILES = ['ocsf', 'api'] as const;

/** A generator profile. */
export type Profile = (typeof PROFILES)[number];

/** Default start of the generated window, so that output is reproducible without options. */
export const DEFAULT_START = '2026-01-05T00:00:00Z';
/** Default window length in hours. */
export const DEFAULT_HOURS = 24;
/** Default fraction of anomalous events. */
export const DEFAULT_ANOMALY_RATE = 0.02;
/** Largest accepted anomaly rate. */
export const MAX_ANOMALY_RATE = 0.5;
/** Longest accepted window in hours (one leap year). */
export const MAX_HOURS = 8784;

/** Options of {@link generateEvents} and {@link generate}. */
export interface GenerateOptions {
  /** Number of events to produce (positive integer). */
  events: number;
  /** Seed of every random choice; the same seed and options give the same events. */
  seed: number;
  /**
   * Seed of the organisation the events come from (its users, hosts, services and their habits); default
   * `seed`. Windows that share it and differ in `seed` and `start` are later windows of one organisation,
   * as a deployment sees them. The `api` profile's service is the same for every seed.
   */
  worldSeed?: number;
  /** Start of the window: ISO 8601 date-time or epoch milliseconds. Default {@link DEFAULT_START}. */
  start?: string | number;
  /** Window length in hours. Default 24. */
  hours?: number;
  /** Fraction of events that are anomalous, 0 to 0.5. Default 0.02. */
  anomalyRate?: number;
  /** Shape of the data (default `ocsf`). */
  profile?: Profile;
}

/** Options after defaults and validation. */
export interface ResolvedOptions {
  events: number;
  seed: number;
  worldSeed: number;
  start: number;
  hours: number;
  anomalyRate: number;
  profile: Profile;
}

/** Ground truth for one event, joined to it by `uid` (= the event's `metadata.uid`). */
export interface Label {
  uid: string;
  is_anomaly: boolean;
  /** Scenario name for anomalies; `null` for normal events. */
  scenario: string | null;
}

/** One generated event with its label. */
export interface LabelledEvent {
  event: OcsfEvent;
  label: Label;
}

/** Applies defaults and checks options; throws a RangeError naming the bad option. */
export function resolveOptions(opts: GenerateOptions): ResolvedOptions {
  const { events, seed } = opts;
  if (!Number.isSafeInteger(events) || events <= 0)
    throw new RangeError(`events must be a positive integer, got ${events}`);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const worldSeed = opts.worldSeed ?? seed;
  if (!Number.isSafeInteger(worldSeed) || worldSeed < 0)
    throw new RangeError(`worldSeed must be a non-negative integer, got ${worldSeed}`);
  const startIn = opts.start ?? DEFAULT_START;
  const start = typeof startIn === 'number' ? startIn : Date.parse(startIn);
  if (!Number.isFinite(start) || (typeof startIn === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(startIn.trim())))
    throw new RangeError(`start must be an ISO 8601 date-time or epoch milliseconds, got ${String(startIn)}`);
  const hours = opts.hours ?? DEFAULT_HOURS;
  if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS)
    throw new RangeError(`hours must be a number above 0 and at most ${MAX_HOURS}, got ${hours}`);
  const anomalyRate = opts.anomalyRate ?? DEFAULT_ANOMALY_RATE;
  if (!Number.isFinite(anomalyRate) || anomalyRate < 0 || anomalyRate > MAX_ANOMALY_RATE)
    throw new RangeError(`anomalyRate must be between 0 and ${MAX_ANOMALY_RATE}, got ${anomalyRate}`);
  const profile = opts.profile ?? 'ocsf';
  if (!PROFILES.includes(profile))
    throw new RangeError(`profile must be one of ${PROFILES.join(', ')}, got ${String(profile)}`);
  return { events, seed, worldSeed, start: Math.floor(start), hours, anomalyRate, profile };
}

/** Number of anomalous events a run with these options produces (exact). */
export function anomalyCount(opts: GenerateOptions): number {
  const o = resolveOptions(opts);
  return Math.min(o.events, Math.round(o.events * o.anomalyRate));
}

/** A random-looking, unique-per-index UUID (version 4 layout) derived from the seed and the output position. */
export function eventUid(seed: number, index: number): string {
  const key = hashInts(seed, 0x5eed);
  const a = splitmix32((index ^ key) >>> 0);
  const b = hashInts(seed, index, 1);
  const c = hashInts(seed, index, 2);
  const d = hashInts(seed, index, 3);
  const h = (x: number, n: number) =>
    x
      .toString(16)
      .padStart(8, '0')
      .slice(8 - n);
  return `${h(a, 8)}-${h(b >>> 16, 4)}-4${h(b & 0xfff, 3)}-${((8 | (c >>> 30)) >>> 0).toString(16)}${h(c & 0xfff, 3)}-${h(c >>> 16, 4)}${h(d, 8)}`;
}

interface Pending {
  event: OcsfEvent;
  scenario: string | null;
}

/**
 * Streams `events` OCSF events in time order, each with its label. Memory stays bounded: normal events are
 * drawn one at a time, anomalies are planned one segment (a few thousand anomalous events) at a time, and
 * only the events of episodes in progress are held.
 */
export function* generateEvents(opts: GenerateOptions): Generator<LabelledEvent> {
  const o = resolveOptions(opts);
  if (o.profile === 'api') {
    const nAnomalies = Math.min(o.events, Math.round(o.events * o.anomalyRate));
    let index = 0;
    for (const { event, scenario } of apiServiceEvents(o.seed, o.events, o.start, o.hours, nAnomalies)) {
      const uid = eventUid(o.seed, index++);
      event.metadata.uid = uid;
      yield { event, label: { uid, is_anomaly: scenario !== null, scenario } };
    }
    return;
  }
  const world = buildWorld(new Rng(o.worldSeed, 1));
  const curve = new LoadCurve(world, new Rng(o.seed, 2), o.start, o.hours);
  const nAnomalies = Math.min(o.events, Math.round(o.events * o.anomalyRate));
  const planner = new AnomalyPlanner(world, curve, o.seed, nAnomalies);
  const routine = planRoutine(curve, Math.floor((o.events - nAnomalies) * 0.02));
  const episodes = new TimeQueue<Episode>();
  let streams = 0;
  let nNormal = o.events - nAnomalies;
  for (const ep of routine) {
    ep.stream = streams++;
    nNormal -= ep.size;
    episodes.push(ep.start, ep);
  }
  const arrivals = curve.arrivals(new Rng(o.seed, 4), nNormal);
  const rng = new Rng(o.seed, 5);
  const queue = new TimeQueue<Pending>();
  let nextSegment = 0;
  let nextNormal = arrivals.next();
  for (let index = 0; index < o.events; index++) {
    const normalTime = nextNormal.done ? Number.POSITIVE_INFINITY : nextNormal.value;
    for (;;) {
      const due = Math.min(normalTime, queue.peek()?.time ?? Number.POSITIVE_INFINITY);
      if (nextSegment < planner.segments && planner.segmentStart(nextSegment) <= due) {
        for (const ep of planner.plan(nextSegment++)) {
          ep.stream = streams++;
          episodes.push(ep.start, ep);
        }
        continue;
      }
      const next = episodes.peek();
      if (next && next.time <= due) {
        const ep = episodes.pop()!.item;
        for (const e of expandEpisode(world, curve, o.seed, ep))
          queue.push(e.time, { event: e.event, scenario: ep.scenario });
        continue;
      }
      break;
    }
    let pending: Pending;
    const head = queue.peek();
    if (head && head.time < normalTime) pending = queue.pop()!.item;
    else {
      pending = { event: sampleNormal(rng, world, normalTime, slotOf(normalTime)), scenario: null };
      nextNormal = arrivals.next();
    }
    const uid = eventUid(o.seed, index);
    pending.event.metadata.uid = uid;
    yield {
      event: pending.event,
      label: { uid, is_anomaly: pending.scenario !== null, scenario: pending.scenario },
    };
  }
}

/** Generates all events and labels into memory (see {@link generateEvents} for streaming). */
export function generate(opts: GenerateOptions): { events: OcsfEvent[]; labels: Label[] } {
  const events: OcsfEvent[] = [];
  const labels: Label[] = [];
  for (const { event, label } of generateEvents(opts)) {
    events.push(event);
    labels.push(label);
  }
  return { events, labels };
}
