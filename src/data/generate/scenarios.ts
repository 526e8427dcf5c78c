// Labelled anomaly scenarios and routine jobs of the generator: their catalogue, planning into episodes, and event synthesis.
import {
  ADMIN_COMMANDS,
  buildApi,
  buildAuth,
  buildHttp,
  buildNetwork,
  buildProcess,
  clientPoint,
  failureText,
  flow,
  type NetPoint,
  processSpec,
  sampleApi,
  sampleAuth,
  sampleHttp,
  sampleWorkerApi,
} from './events.ts';
import type { OcsfEvent } from './ocsf.ts';
import { Rng } from './rng.ts';
import type { LoadCurve } from './timeline.ts';
import {
  COMMON_AGENTS,
  ENDPOINTS,
  type Endpoint,
  FOREIGN_REGIONS,
  HOME_REGIONS,
  type IpRecord,
  pickEndpoint,
  pickUser,
  RARE_AGENTS,
  type Region,
  regionIp,
  type User,
  type World,
} from './world.ts';

/** Public description of an anomaly scenario. */
export interface ScenarioInfo {
  /** Label value written to `scenario`. */
  readonly name: string;
  /** `single`: each occurrence is one event; `burst`: a cluster of related events within minutes. */
  readonly kind: 'single' | 'burst';
  readonly description: string;
  /** OCSF paths (dotted) whose values give the anomaly away; `time (burst density)` means only the cluster does. */
  readonly revealedBy: readonly string[];
}

/** What the planner needs to place and expand one scenario. */
interface ScenarioDef extends ScenarioInfo {
  /** Share of the anomaly budget (events) this scenario receives. */
  readonly weight: number;
  /** Events per burst, min and max. */
  readonly size?: readonly [number, number];
  /** Burst duration range in seconds. */
  readonly span?: readonly [number, number];
  /** How occurrence times are drawn: with the traffic load, uniformly, or at night for an admin. */
  readonly placement: 'load' | 'uniform' | 'night';
  readonly expand: (ctx: EpisodeContext) => Emitted[];
}

/** One event produced by an episode, with its time. */
export interface Emitted {
  time: number;
  event: OcsfEvent;
}

/** Inputs available while expanding an episode into events. */
export interface EpisodeContext {
  world: World;
  rng: Rng;
  curve: LoadCurve;
  start: number;
  size: number;
  span: number;
  user?: User;
}

/** One planned occurrence of a scenario (or of a routine job when `scenario` is null). */
export interface Episode {
  scenario: string | null;
  start: number;
  size: number;
  span: number;
  stream: number;
  user?: User;
  expand: (ctx: EpisodeContext) => Emitted[];
}

const DB_ENDPOINTS = ENDPOINTS.filter(
  (e) => e.service === 'orders-api' && e.db && e.audience === 'customer' && e.op && e.op.name !== 'Checkout',
);
const FAST_DB_ENDPOINTS = DB_ENDPOINTS.filter((e) => e.latency[0] < 200 && e.method === 'GET');
const LOGIN = ENDPOINTS.find((e) => e.template === '/api/auth/login')!;
const CACHED = ENDPOINTS.filter((e) => e.op?.name === 'GetProduct' || e.op?.name === 'GetOrder');
const ADMIN_ENDPOINTS = ENDPOINTS.filter((e) => e.audience === 'admin' || (e.audience === 'staff' && e.op));
const GUESSED_NAMES = [
  'admin',
  'root',
  'test',
  'support',
  'administrator',
  'info',
  'guest',
  'sales',
  'demo',
  'user1',
];

/** Times of a burst: `size` sorted offsets spread over `span` ms from `start`. */
function burstTimes(ctx: EpisodeContext, regular = false): number[] {
  const { rng, start, size, span } = ctx;
  const times: number[] = [];
  for (let i = 0; i < size; i++) {
    const f = regular ? (i + rng.range(0, 0.9)) / size : rng.float();
    times.push(ctx.curve.clamp(start + f * span));
  }
  return times.sort((a, b) => a - b);
}

function customerAt(ctx: EpisodeContext, time: number): User {
  const u = pickUser(ctx.world, ctx.rng, time);
  return u.kind === 'customer' ? u : ctx.rng.pick(ctx.world.customers);
}

function attackerIp(rng: Rng, foreignShare: number): IpRecord {
  const regions: readonly Region[] = rng.chance(foreignShare) ? FOREIGN_REGIONS : HOME_REGIONS;
  return regionIp(
    rng,
    rng.weighted(
      regions,
      regions.map((r) => r.weight),
    ),
  );
}

function located(rng: Rng, ip: IpRecord): NetPoint {
  return { ip: ip.ip, port: rng.int(32768, 60999), country: ip.country, city: ip.city };
}

function dbTimeout(ctx: EpisodeContext): Emitted[] {
  const { rng, world } = ctx;
  return burstTimes(ctx).map((time) => {
    const user = customerAt(ctx, time);
    const ep = rng.pick(DB_ENDPOINTS);
    if (rng.chance(0.7)) {
      const s = sampleHttp(rng, world, time, ep, user);
      s.code = 504;
      s.duration = 5000 + Math.round(rng.logNormal(3, 0.6));
      s.bytesIn = Math.round(rng.logNormal(380, 0.1));
      return { time, event: buildHttp(s, world) };
    }
    const s = sampleApi(rng, world, time, user, ep);
    const wait = 5000 + Math.round(rng.logNormal(4, 0.6));
    s.code = 500;
    s.severityId = 4;
    s.error = 'DB_TIMEOUT';
    s.errorMessage = 'canceling statement due to statement timeout';
    s.message = `Database query timeout after ${wait}ms (${world.infra.pgPrimary.name}:5432, ${s.operation})`;
    s.duration = wait;
    return { time, event: buildApi(s) };
  });
}

function slowQuery(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  const user = customerAt(ctx, time);
  const ep = rng.pick(FAST_DB_ENDPOINTS);
  let s = sampleHttp(rng, world, time, ep, user);
  for (let i = 0; i < 8 && s.code >= 300; i++) s = sampleHttp(rng, world, time, ep, user);
  if (s.code >= 300) s.code = ep.okCode;
  s.duration = rng.int(2000, 4999);
  return [{ time, event: buildHttp(s, world) }];
}

function memorySpike(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  if (rng.chance(0.7)) {
    const s = sampleWorkerApi(rng, world, time, rng.int(3100, 3950), rng.range(3, 8));
    const ms = Number(s.message.match(/in (\d+)ms/)?.[1] ?? 0);
    s.duration = ms;
    return [{ time, event: buildApi(s) }];
  }
  const host = rng.pick(world.infra.worker);
  const command = {
    path: '/usr/local/bin/node',
    args: () => '/app/dist/worker.js --queue payments',
    runtime: [3600000, 1.5] as const,
  };
  let s = processSpec(rng, time, host, command, 'app', undefined, 'containerd-shim');
  while (s.activityId !== 2) s = processSpec(rng, time, host, command, 'app', undefined, 'containerd-shim');
  const runtime = s.duration ?? Math.round(rng.logNormal(3600000, 1.5));
  s.exitCode = 137;
  s.severityId = 2;
  s.message = `Process ${s.name} (pid ${s.pid}) exited with code 137 after ${(runtime / 1000).toFixed(1)}s`;
  return [{ time, event: buildProcess(s) }];
}

function cacheMissStorm(ctx: EpisodeContext): Emitted[] {
  const { rng, world } = ctx;
  const w = world.infra;
  return burstTimes(ctx).map((time) => {
    if (rng.chance(0.15)) {
      const api = rng.pick(w.api);
      const s = flow(
        rng,
        time,
        { ip: api.ip, port: rng.int(32768, 60999), hostname: api.name },
        { ip: w.pgPrimary.ip, port: 5432, hostname: w.pgPrimary.name },
        3,
        rng.logNormal(2400, 0.9),
        rng.logNormal(18000, 1.1),
        rng.logNormal(160, 0.8),
      );
      return { time, event: buildNetwork(s) };
    }
    const ep: Endpoint = rng.pick(CACHED);
    const s = sampleApi(rng, world, time, customerAt(ctx, time), ep);
    const kind = ep.op?.name === 'GetProduct' ? 'product' : 'order';
    const id = s.resource?.uid ?? '0';
    const db = Math.round(rng.logNormal(190, 0.5));
    s.message = `Cache miss for ${kind}:${id}; loaded from postgres in ${db}ms`;
    s.duration = Math.round(rng.logNormal(ep.latency[0] * 0.8, ep.latency[1])) + db;
    return { time, event: buildApi(s) };
  });
}

function bruteForce(ctx: EpisodeContext): Emitted[] {
  const { rng, world } = ctx;
  const ip = attackerIp(rng, 0.7);
  const r = rng.float();
  const agent = r < 0.5 ? 'python-requests/2.31.0' : r < 0.8 ? COMMON_AGENTS[rng.int(0, 4)]![0] : undefined;
  const targets: { name: string; user?: User; attempt: number }[] = [];
  const nTargets = rng.int(1, 3);
  for (let i = 0; i < nTargets; i++) {
    if (rng.chance(0.6)) {
      const user = rng.pick(world.customers);
      targets.push({ name: user.name, user, attempt: 0 });
    } else targets.push({ name: rng.pick(GUESSED_NAMES), attempt: 0 });
  }
  const times = burstTimes(ctx);
  const breach = rng.chance(0.2);
  return times.map((time, i) => {
    const target = rng.pick(targets);
    const client = located(rng, ip);
    if (rng.chance(0.25)) {
      const s = sampleHttp(rng, world, time, LOGIN);
      s.code = 401;
      s.client = client;
      s.bytesIn = Math.round(rng.logNormal(420, 0.3));
      s.duration = Math.round(rng.logNormal(LOGIN.latency[0] * 0.9, 0.3));
      delete s.user;
      if (agent === undefined) delete s.agent;
      else s.agent = agent;
      return { time, event: buildHttp(s, world) };
    }
    target.attempt++;
    const base = target.user ?? world.customers[0]!;
    const s = sampleAuth(rng, world, time, base);
    s.activityId = 1;
    s.client = client;
    s.mfa = false;
    s.userName = target.name;
    if (target.user) s.user = target.user;
    else delete s.user;
    if (agent === undefined) delete s.agent;
    else s.agent = agent;
    const last = i === times.length - 1;
    if (last && breach && target.user) {
      s.success = true;
      s.severityId = 1;
      delete s.statusDetail;
      s.message = `User ${target.name} logged in (mfa=false); session expires in 3600s`;
    } else {
      s.success = false;
      s.severityId = 2;
      const f = failureText(target.name, target.attempt, target.user !== undefined);
      s.message = f.message;
      s.statusDetail = f.detail;
    }
    return { time, event: buildAuth(s, world) };
  });
}

function newCountryLogin(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  const user = pickUser(world, rng, time);
  const own = new Set(user.ips.map((i) => i.country));
  const pool = rng.chance(0.5) ? FOREIGN_REGIONS : HOME_REGIONS.filter((r) => !own.has(r.country));
  const ip = regionIp(rng, rng.pick(pool.length ? pool : FOREIGN_REGIONS));
  let s = sampleAuth(rng, world, time, user);
  for (let i = 0; i < 20 && !(s.activityId === 1 && s.success); i++) s = sampleAuth(rng, world, time, user);
  s.activityId = 1;
  s.success = true;
  s.severityId = 1;
  s.attempt = 1;
  delete s.statusDetail;
  if (!s.message.includes('logged in ('))
    s.message = `User ${user.name} logged in (mfa=${s.mfa}); session expires in 3600s`;
  s.client = { ...clientPoint(rng, ip), country: ip.country, city: ip.city };
  return [{ time, event: buildAuth(s, world) }];
}

function offHoursAdmin(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  const user = ctx.user ?? rng.pick(world.admins);
  if (rng.chance(0.6)) {
    const ep = rng.weighted(
      ADMIN_ENDPOINTS,
      ADMIN_ENDPOINTS.map((e) => e.weight),
    );
    return [{ time, event: buildApi(sampleApi(rng, world, time, user, ep)) }];
  }
  const s = processSpec(rng, time, world.infra.bastion, rng.pick(ADMIN_COMMANDS), user.name, user, 'bash');
  return [{ time, event: buildProcess(s) }];
}

function exfiltration(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  const w = world.infra;
  const src = rng.weighted([w.pgReplica, w.bastion, rng.pick(w.api)], [0.4, 0.3, 0.3]);
  const ip = attackerIp(rng, 0.5);
  const port = rng.weighted([443, 22, 8443], [0.7, 0.15, 0.15]);
  const dst: NetPoint = { ip: ip.ip, port, country: ip.country };
  if (rng.chance(0.7)) dst.city = ip.city;
  const s = flow(
    rng,
    time,
    { ip: src.ip, port: rng.int(32768, 60999), hostname: src.name },
    dst,
    2,
    rng.logNormal(1.2e9, 0.7),
    rng.logNormal(40000, 0.8),
    rng.logNormal(1.2e6, 0.6),
  );
  s.duration = Math.round(rng.logNormal(1.2e6, 0.6));
  return [{ time, event: buildNetwork(s) }];
}

const TOP_PORTS = [
  21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 443, 445, 993, 995, 1433, 1723, 3306, 3389, 5432, 5900, 6379,
  8080, 8443, 9200, 27017,
];

function portScan(ctx: EpisodeContext): Emitted[] {
  const { rng, world } = ctx;
  const w = world.infra;
  const internal = rng.chance(0.25);
  const srcHost = rng.pick(w.api);
  const src: IpRecord = internal ? { ip: srcHost.ip, country: '', city: '' } : attackerIp(rng, 0.7);
  const target = internal ? rng.pick([w.pgPrimary, w.redis, w.bastion, ...w.auth]) : rng.pick(w.edge);
  const sequential = rng.chance(0.6);
  let next = rng.int(1, 1000);
  const seen = new Set<number>();
  return burstTimes(ctx, true).map((time, i) => {
    let port: number;
    if (i < TOP_PORTS.length && !sequential) port = TOP_PORTS[i]!;
    else if (sequential) port = next++;
    else {
      do port = rng.int(1, 65535);
      while (seen.has(port));
    }
    seen.add(port);
    const open = port === 443 || port === 22 || port === 5432 || port === 6379;
    const activity = open ? rng.pick([1, 2]) : rng.weighted([5, 3], [0.85, 0.15]);
    const from: NetPoint = internal
      ? { ip: src.ip, port: rng.int(32768, 60999), hostname: srcHost.name }
      : rng.chance(0.85)
        ? located(rng, src)
        : { ip: src.ip, port: rng.int(32768, 60999) };
    const to: NetPoint = { ip: target.ip, port, hostname: target.name };
    const s = flow(
      rng,
      time,
      from,
      to,
      internal ? 3 : 1,
      rng.int(40, 80),
      open ? rng.int(40, 120) : rng.chance(0.5) ? 0 : rng.int(40, 60),
      rng.logNormal(1.5, 0.5),
      activity,
    );
    return { time, event: buildNetwork(s) };
  });
}

function rareAgent(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start: time } = ctx;
  const user = pickUser(world, rng, time);
  const ep = pickEndpoint(rng, user.endpointCum);
  const s = sampleHttp(rng, world, time, ep, user);
  s.agent = rng.pick(RARE_AGENTS);
  return [{ time, event: buildHttp(s, world) }];
}

const DEFS: readonly ScenarioDef[] = [
  {
    name: 'db_timeout',
    kind: 'burst',
    description:
      'Postgres stops answering: requests to database-backed endpoints fail with HTTP 504 after the 5 s route timeout, and the API logs "Database query timeout after ~5000ms" errors, for one to three minutes.',
    revealedBy: [
      'http_response.code',
      'duration',
      'status_id',
      'severity_id',
      'api.response.error',
      'message',
    ],
    weight: 0.12,
    size: [12, 40],
    span: [60, 180],
    placement: 'load',
    expand: dbTimeout,
  },
  {
    name: 'slow_query',
    kind: 'single',
    description:
      'One request to a normally fast, database-backed endpoint succeeds but takes 2-5 s. Everything else (user, path, status, sizes) is normal; durations this long are normal only for export and invoice endpoints.',
    revealedBy: ['duration'],
    weight: 0.12,
    placement: 'load',
    expand: slowQuery,
  },
  {
    name: 'memory_spike',
    kind: 'single',
    description:
      'The payment worker runs out of memory: a job log reports a heap of 3.1-3.9 GB (normally ~0.5 GB) and runs 3-8x slower from GC pauses; or (30%) the worker process terminates with exit code 137.',
    revealedBy: ['message', 'duration', 'exit_code'],
    weight: 0.08,
    placement: 'load',
    expand: memorySpike,
  },
  {
    name: 'cache_miss_storm',
    kind: 'burst',
    description:
      'Redis loses its keys: for a few minutes most product/order reads log "Cache miss ... loaded from postgres in N ms" with N around 190 ms (normal misses ~14 ms), plus extra API-to-Postgres flows that are individually normal.',
    revealedBy: ['message', 'duration', 'time (burst density)'],
    weight: 0.12,
    size: [25, 80],
    span: [60, 240],
    placement: 'load',
    expand: cacheMissStorm,
  },
  {
    name: 'brute_force',
    kind: 'burst',
    description:
      'Password guessing from one address: tens of failed logons (3002, status Failure) and 401 responses to POST /api/auth/login within minutes, against one to three user names (real or guessed), with rising attempt counts; sometimes the last attempt succeeds.',
    revealedBy: [
      'src_endpoint.ip',
      'src_endpoint.location.country',
      'status_id',
      'status_detail',
      'message',
      'user.name',
      'time (burst density)',
    ],
    weight: 0.12,
    size: [15, 60],
    span: [120, 600],
    placement: 'uniform',
    expand: bruteForce,
  },
  {
    name: 'new_country_login',
    kind: 'single',
    description:
      'A successful logon of a real user, at a time they are usually active and with their usual user agent, but from an address in a country they have never used (half the time a country no user connects from, half a country other users live in).',
    revealedBy: ['src_endpoint.ip', 'src_endpoint.location.country'],
    weight: 0.08,
    placement: 'load',
    expand: newCountryLogin,
  },
  {
    name: 'off_hours_admin',
    kind: 'single',
    description:
      'An administrator performs an ordinary admin operation (API Activity) or bastion command (Process Activity) from their usual address, but between 01:00 and 05:00 in their own time zone, when they almost never work.',
    revealedBy: ['time'],
    weight: 0.08,
    placement: 'night',
    expand: offHoursAdmin,
  },
  {
    name: 'data_exfiltration',
    kind: 'single',
    description:
      'A database replica, the bastion or an API pod uploads 0.3-5 GB to an unknown external address over 443/22/8443 in a long connection. The nightly backup to the object store moves similar volumes, so bytes alone do not decide it.',
    revealedBy: ['traffic.bytes_out', 'dst_endpoint.ip', 'dst_endpoint.location.country', 'duration'],
    weight: 0.06,
    placement: 'uniform',
    expand: exfiltration,
  },
  {
    name: 'port_scan',
    kind: 'burst',
    description:
      'One address (external, or a compromised API pod) probes one host on tens to hundreds of ports within seconds: refused or reset connections with a few bytes each. Single refused probes from the internet also occur in normal traffic.',
    revealedBy: [
      'dst_endpoint.port',
      'activity_id',
      'src_endpoint.ip',
      'traffic.bytes_in',
      'time (burst density)',
    ],
    weight: 0.12,
    size: [30, 120],
    span: [10, 90],
    placement: 'uniform',
    expand: portScan,
  },
  {
    name: 'rare_user_agent',
    kind: 'single',
    description:
      'A normal request by a normal user from their usual address, but with a user agent no client of the application sends (curl, python-requests, sqlmap, a headless or years-old browser, an outdated app build).',
    revealedBy: ['http_request.user_agent'],
    weight: 0.1,
    placement: 'load',
    expand: rareAgent,
  },
];

/** The anomaly scenarios the generator injects, with how each one shows. */
export const SCENARIOS: readonly ScenarioInfo[] = DEFS.map(({ name, kind, description, revealedBy }) => ({
  name,
  kind,
  description,
  revealedBy,
}));

/** Splits `total` anomalous events between scenarios by weight; every scenario gets one when the budget allows. */
export function allocate(total: number): number[] {
  const raw = DEFS.map((d) => d.weight * total);
  const counts = raw.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length]![1]]!++;
  if (total >= DEFS.length) {
    for (let i = 0; i < counts.length; i++) {
      if (counts[i]! > 0) continue;
      let big = 0;
      counts.forEach((c, j) => {
        if (c > counts[big]!) big = j;
      });
      counts[big]!--;
      counts[i] = 1;
    }
  }
  return counts;
}

const DAY = 86400000;
const HOUR = 3600000;

/** The admin's local 01:00-05:00 intervals that overlap [a, b), in UTC epoch ms. */
function nightIntervals(user: User, a: number, b: number): [number, number][] {
  const tz = user.region.tz * HOUR;
  const out: [number, number][] = [];
  for (let d = Math.floor((a + tz) / DAY) - 1; d <= Math.floor((b + tz) / DAY) + 1; d++) {
    const lo = Math.max(a, d * DAY + HOUR - tz);
    const hi = Math.min(b, d * DAY + 5 * HOUR - tz);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

function nightMeasure(world: World, a: number, b: number): number {
  let m = 0;
  for (const u of world.admins) for (const [lo, hi] of nightIntervals(u, a, b)) m += hi - lo;
  return m;
}

/** Target number of anomalous events per planning segment; bounds the memory the plan takes. */
export const SEGMENT_ANOMALIES = 4000;

/**
 * Plans anomaly occurrences segment by segment, so memory stays bounded however many events are generated.
 * The window is cut into segments of equal expected load; each scenario's exact event count is spread over
 * the segments in proportion to how its occurrences are placed (with the load, uniformly, or in admins'
 * nights), then each segment's share is cut into bursts and placed in time when that segment is reached.
 */
export class AnomalyPlanner {
  /** Number of segments. */
  readonly segments: number;
  private readonly bounds: number[];
  private readonly counts: number[][];
  private readonly world: World;
  private readonly curve: LoadCurve;
  private readonly seed: number;
  private readonly nightByDay: boolean;

  /** Plans `total` anomalous events over the curve's window. */
  constructor(world: World, curve: LoadCurve, seed: number, total: number) {
    this.world = world;
    this.curve = curve;
    this.seed = seed;
    const k = Math.max(1, Math.ceil(total / SEGMENT_ANOMALIES));
    this.segments = k;
    this.bounds = [curve.start];
    for (let i = 1; i < k; i++) this.bounds.push(Math.max(this.bounds[i - 1]!, curve.timeAt(i / k)));
    this.bounds.push(curve.end);
    const span = curve.end - curve.start;
    const nightTotal = nightMeasure(world, curve.start, curve.end);
    this.nightByDay = nightTotal > 0;
    const perScenario = allocate(total);
    this.counts = DEFS.map((def, d) => {
      const c = perScenario[d]!;
      const row: number[] = [];
      let cumWeight = 0;
      let given = 0;
      for (let i = 0; i < k; i++) {
        const [a, b] = [this.bounds[i]!, this.bounds[i + 1]!];
        if (def.placement === 'uniform') cumWeight += (b - a) / span;
        else if (def.placement === 'night' && this.nightByDay)
          cumWeight += nightMeasure(world, a, b) / nightTotal;
        else cumWeight += 1 / k;
        const upTo = i === k - 1 ? c : Math.min(c, Math.round(c * cumWeight));
        row.push(upTo - given);
        given = upTo;
      }
      return row;
    });
  }

  /** Earliest start of any episode of segment `k`. */
  segmentStart(k: number): number {
    return this.bounds[k]!;
  }

  /** The episodes of segment `k`, sorted by start; `stream` numbers are left for the caller to assign. */
  plan(k: number): Episode[] {
    const rng = new Rng(this.seed, 0x10000000 + k);
    const { world, curve } = this;
    const a = this.bounds[k]!;
    const b = this.bounds[k + 1]!;
    const episodes: Episode[] = [];
    DEFS.forEach((def, d) => {
      let left = this.counts[d]![k]!;
      while (left > 0) {
        let size = 1;
        let span = 0;
        if (def.kind === 'burst') {
          const [lo, hi] = def.size!;
          size = left <= hi ? left : Math.min(rng.int(lo, hi), left - lo);
          const [s0, s1] = def.span!;
          span = Math.round(rng.range(s0, s1) * 1000 * Math.min(1, Math.max(0.25, size / hi)));
          span = Math.min(span, Math.max(1, curve.end - curve.start - 1));
        }
        left -= size;
        let user: User | undefined;
        let start: number;
        if (def.placement === 'night' && this.nightByDay) {
          const options = world.admins
            .map((u) => [u, nightIntervals(u, a, b)] as const)
            .filter(([, iv]) => iv.length > 0);
          if (options.length > 0) {
            const [u, iv] = rng.pick(options);
            user = u;
            const lens = iv.map(([lo, hi]) => hi - lo);
            const [lo, hi] = rng.weighted(iv, lens);
            start = Math.floor(lo + rng.float() * (hi - lo));
          } else start = a + Math.floor(rng.float() * (b - a));
        } else if (def.placement === 'uniform') start = a + Math.floor(rng.float() * (b - a));
        else {
          const u = (k + rng.float()) / this.segments;
          start = curve.timeAt(u) - Math.floor((span * rng.float()) / 2);
        }
        if (def.placement === 'night' && !user) user = rng.pick(world.admins);
        start = Math.max(a, Math.min(start, curve.end - 1 - span, b - 1));
        const ep: Episode = { scenario: def.name, start, size, span, stream: 0, expand: def.expand };
        if (user) ep.user = user;
        episodes.push(ep);
      }
    });
    return episodes.sort((x, y) => x.start - y.start);
  }
}

function nightlyBackup(ctx: EpisodeContext): Emitted[] {
  const { rng, world, start } = ctx;
  const w = world.infra;
  const script = {
    path: '/usr/local/bin/pg_backup.sh',
    args: () => '--full --target s3://acmeshop-backups/pg',
    runtime: [900000, 0.2] as const,
  };
  let launch = processSpec(rng, start, w.pgPrimary, script, 'postgres', undefined, 'cron');
  while (launch.activityId !== 1)
    launch = processSpec(rng, start, w.pgPrimary, script, 'postgres', undefined, 'cron');
  const took = Math.round(rng.logNormal(900000, 0.2));
  const end = ctx.curve.clamp(start + took);
  const s = flow(
    rng,
    end,
    { ip: w.pgPrimary.ip, port: rng.int(32768, 60999), hostname: w.pgPrimary.name },
    { ip: w.backupStore.ip, port: 443, hostname: w.backupStore.name, country: 'US' },
    2,
    rng.logNormal(4.2e9, 0.15),
    rng.logNormal(90000, 0.3),
    took,
    2,
  );
  let stop = processSpec(rng, end, w.pgPrimary, script, 'postgres', undefined, 'cron');
  while (stop.activityId !== 2 || stop.exitCode !== 0)
    stop = processSpec(rng, end, w.pgPrimary, script, 'postgres', undefined, 'cron');
  stop.pid = launch.pid;
  stop.duration = took;
  stop.message = `Process ${stop.name} (pid ${stop.pid}) exited with code 0 after ${(took / 1000).toFixed(1)}s`;
  return [
    { time: start, event: buildProcess(launch) },
    { time: end, event: buildNetwork(s) },
    { time: end, event: buildProcess(stop) },
  ];
}

/** Plans routine jobs (the nightly database backup at 02:00 UTC), labelled normal; at most `budget` events. */
export function planRoutine(curve: LoadCurve, budget: number): Episode[] {
  const episodes: Episode[] = [];
  const day = 86400000;
  for (let t = Math.floor(curve.start / day) * day + 2 * 3600000; t < curve.end; t += day) {
    if (t < curve.start || t + 1800000 >= curve.end || (episodes.length + 1) * 3 > budget) continue;
    episodes.push({
      scenario: null,
      start: t + 17000,
      size: 3,
      span: 1800000,
      stream: 0,
      expand: nightlyBackup,
    });
  }
  return episodes;
}

/** Expands an episode into its events, with its own random stream so the result does not depend on emission order. */
export function expandEpisode(world: World, curve: LoadCurve, seed: number, ep: Episode): Emitted[] {
  const ctx: EpisodeContext = {
    world,
    rng: new Rng(seed, 1000 + ep.stream),
    curve,
    start: ep.start,
    size: ep.size,
    span: ep.span,
  };
  if (ep.user) ctx.user = ep.user;
  const out = ep.expand(ctx);
  for (const e of out) e.time = Math.max(ep.start, Math.min(curve.end - 1, e.time));
  for (const e of out) e.event.time = e.time;
  return out;
}
