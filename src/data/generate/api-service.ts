// The `api` generator profile: a plain API-service log with few fields (endpoint, method, status,
// latency, level, message, a handful of users) as OCSF API Activity events, with anomalies as latency
// and error episodes. A different shape from the multi-service profile, so detection defaults are
// measured on more than one kind of data.
import type { OcsfEvent } from './ocsf.ts';
import { OCSF_VERSION } from './ocsf.ts';
import { Rng } from './rng.ts';

/** The scenarios of the `api` profile and what each plants. */
export const API_SCENARIOS = {
  latency_spike: 'one endpoint answers 15–40× slower than usual for a few minutes, otherwise normal',
  error_burst: 'one endpoint times out upstream: 503/504 after about 5 s, error level, timeout messages',
  auth_failures: 'one user fails authentication again and again (401, invalid token)',
  endpoint_scan: 'an unknown client probes paths that do not exist (404 on admin and backup paths)',
} as const;

type ApiScenario = keyof typeof API_SCENARIOS;

interface Endpoint {
  method: string;
  path: string;
  /** Share of traffic. */
  weight: number;
  /** Median latency in ms and log-normal sigma. */
  latency: [number, number];
  /** Path with an id segment. */
  withId?: boolean;
}

const ENDPOINTS: readonly Endpoint[] = [
  { method: 'GET', path: '/api/v1/items', weight: 30, latency: [45, 0.45] },
  { method: 'GET', path: '/api/v1/items/{id}', weight: 18, latency: [25, 0.4], withId: true },
  { method: 'POST', path: '/api/v1/orders', weight: 10, latency: [120, 0.5] },
  { method: 'GET', path: '/api/v1/orders/{id}', weight: 12, latency: [35, 0.4], withId: true },
  { method: 'PUT', path: '/api/v1/cart', weight: 9, latency: [60, 0.45] },
  { method: 'DELETE', path: '/api/v1/cart/{id}', weight: 4, latency: [30, 0.4], withId: true },
  { method: 'POST', path: '/api/v1/login', weight: 8, latency: [180, 0.35] },
  { method: 'GET', path: '/api/v1/search', weight: 8, latency: [220, 0.6] },
  { method: 'GET', path: '/health', weight: 0.6, latency: [2, 0.3] },
  // Rare but normal: a nightly-style export, slow by nature.
  { method: 'POST', path: '/api/v1/reports/export', weight: 0.4, latency: [3200, 0.35] },
];

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'svc-batch'];
const USER_WEIGHTS = [30, 25, 20, 12, 8, 5];

const ACTIVITY: Record<string, [number, string]> = {
  POST: [1, 'Create'],
  GET: [2, 'Read'],
  PUT: [3, 'Update'],
  DELETE: [4, 'Delete'],
};

const LEVELS: Record<string, [number, string]> = {
  info: [1, 'Informational'],
  warn: [3, 'Medium'],
  error: [4, 'High'],
};

interface Draft {
  time: number;
  endpoint: Endpoint;
  user: string;
  code: number;
  duration: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  path?: string;
  scenario: string | null;
}

function concretePath(rng: Rng, e: Endpoint): string {
  return e.withId ? e.path.replace('{id}', String(rng.int(1000, 99999))) : e.path;
}

function normalDraft(rng: Rng, time: number): Draft {
  const endpoint = rng.weighted(
    ENDPOINTS,
    ENDPOINTS.map((e) => e.weight),
  );
  const user = rng.weighted(USERS, USER_WEIGHTS);
  let duration = rng.logNormal(endpoint.latency[0], endpoint.latency[1]);
  let code = endpoint.method === 'POST' && endpoint.path !== '/api/v1/login' ? 201 : 200;
  let level: Draft['level'] = 'info';
  let message = `${endpoint.method} ${endpoint.path} completed`;
  const r = rng.float();
  if (r < 0.008) {
    code = 404;
    level = 'warn';
    message = `${endpoint.method} ${endpoint.path} not found`;
    duration *= 0.4;
  } else if (r < 0.012) {
    code = 400;
    level = 'warn';
    message = `${endpoint.method} ${endpoint.path} rejected: invalid request body`;
    duration *= 0.3;
  } else if (r < 0.0135) {
    // Rare but normal: the odd internal error.
    code = 500;
    level = 'error';
    message = `${endpoint.method} ${endpoint.path} failed: internal error`;
  }
  return { time, endpoint, user, code, duration, level, message, scenario: null };
}

function episodeDrafts(rng: Rng, scenario: ApiScenario, start: number, size: number): Draft[] {
  const span = rng.range(2, 10) * 60_000;
  const endpoint = rng.weighted(
    ENDPOINTS.slice(0, 8),
    ENDPOINTS.slice(0, 8).map((e) => e.weight),
  );
  const user = rng.weighted(USERS, USER_WEIGHTS);
  const slowdown = rng.range(15, 40);
  const out: Draft[] = [];
  for (let i = 0; i < size; i++) {
    const time = start + Math.floor(rng.float() * span);
    const base = normalDraft(rng, time);
    switch (scenario) {
      case 'latency_spike':
        out.push({
          ...base,
          endpoint,
          code: 200,
          level: 'info',
          message: `${endpoint.method} ${endpoint.path} completed`,
          duration: base.duration * slowdown,
          scenario,
        });
        break;
      case 'error_burst': {
        const code = rng.chance(0.7) ? 504 : 503;
        const duration = rng.range(4990, 5060);
        const message = `${endpoint.method} ${endpoint.path} failed: upstream timeout after ${Math.round(duration)}ms`;
        out.push({ ...base, endpoint, code, level: 'error', message, duration, scenario });
        break;
      }
      case 'auth_failures': {
        const login = ENDPOINTS.find((e) => e.path === '/api/v1/login')!;
        out.push({
          ...base,
          endpoint: login,
          user,
          code: 401,
          level: 'warn',
          message: `authentication failed for ${user}: invalid token`,
          duration: rng.logNormal(15, 0.3),
          scenario,
        });
        break;
      }
      case 'endpoint_scan': {
        const target = rng.pick([
          '/admin',
          '/.env',
          '/backup.zip',
          '/wp-login.php',
          '/api/v1/admin/users',
          '/server-status',
        ]);
        out.push({
          ...base,
          endpoint: { method: 'GET', path: target, weight: 0, latency: [3, 0.3] },
          user: 'anonymous',
          code: 404,
          level: 'warn',
          message: `GET ${target} not found`,
          duration: rng.logNormal(3, 0.3),
          path: target,
          scenario,
        });
        break;
      }
    }
  }
  return out;
}

function toEvent(rng: Rng, d: Draft): OcsfEvent {
  const [activityId, activityName] = ACTIVITY[d.endpoint.method] ?? [99, 'Other'];
  const [severityId, severity] = LEVELS[d.level]!;
  const ok = d.code < 400;
  return {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: 6,
    category_name: 'Application Activity',
    class_uid: 6003,
    class_name: 'API Activity',
    type_uid: 600300 + activityId,
    type_name: `API Activity: ${activityName}`,
    severity_id: severityId,
    severity,
    status_id: ok ? 1 : 2,
    status: ok ? 'Success' : 'Failure',
    time: d.time,
    metadata: {
      product: { name: 'shop-api', vendor_name: 'Example', version: '2.4.1' },
      version: OCSF_VERSION,
      uid: '',
    },
    message: d.message,
    duration: Math.max(1, Math.round(d.duration)),
    actor: { user: { name: d.user } },
    http_request: { http_method: d.endpoint.method, url: { path: d.path ?? concretePath(rng, d.endpoint) } },
    http_response: { code: d.code },
  };
}

/**
 * The `api` profile's events in time order with their scenario (null for normal events): `events` in
 * `hours` from `start`, `anomalies` of them in episodes of 20–120 events. Held in memory (the profile is
 * for studies and tests, not for millions of events).
 */
export function apiServiceEvents(
  seed: number,
  events: number,
  start: number,
  hours: number,
  anomalies: number,
): { event: OcsfEvent; scenario: string | null }[] {
  const rng = new Rng(seed, 11);
  const span = hours * 3_600_000;
  const drafts: Draft[] = [];
  const scenarios = Object.keys(API_SCENARIOS) as ApiScenario[];
  let left = anomalies;
  let k = 0;
  while (left > 0) {
    const size = Math.min(left, rng.int(20, 120));
    const at = start + Math.floor(rng.float() * Math.max(1, span - 10 * 60_000));
    drafts.push(...episodeDrafts(rng, scenarios[k++ % scenarios.length]!, at, size));
    left -= size;
  }
  for (let i = drafts.length; i < events; i++) {
    // Load follows the time of day: busiest mid-afternoon, a third of that at night.
    let t: number;
    do t = start + rng.float() * span;
    while (rng.float() > 0.65 + 0.35 * Math.sin((2 * Math.PI * (((t / 3_600_000) % 24) - 9)) / 24));
    drafts.push(normalDraft(rng, Math.floor(t)));
  }
  drafts.sort((a, b) => a.time - b.time);
  return drafts.map((d) => ({ event: toEvent(rng, d), scenario: d.scenario }));
}
