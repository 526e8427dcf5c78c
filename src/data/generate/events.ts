// Normal traffic of the simulated deployment: per-class event specs, their OCSF builders and samplers.
import { baseEvent, HTTP_ACTIVITY, type OcsfEvent, type Product } from './ocsf.ts';
import type { Rng } from './rng.ts';
import {
  COMMON_AGENTS,
  ENDPOINTS,
  type Endpoint,
  FLAGS,
  HOME_REGIONS,
  type Host,
  type IpRecord,
  MACHINE_AGENTS,
  pickEndpoint,
  pickUser,
  productId,
  regionIp,
  SEARCH_TERMS,
  type User,
  type UserKind,
  usualAgent,
  usualIp,
  type World,
} from './world.ts';

/** Products that report the generated events (`metadata.product`). */
export const PRODUCTS = {
  envoy: { name: 'Envoy', vendor_name: 'Envoy Proxy', version: '1.29.1' },
  api: { name: 'acmeshop-api', vendor_name: 'AcmeShop', version: '2.14.3' },
  admin: { name: 'acmeshop-admin-api', vendor_name: 'AcmeShop', version: '2.14.3' },
  worker: { name: 'payment-worker', vendor_name: 'AcmeShop', version: '1.8.0' },
  auth: { name: 'auth-svc', vendor_name: 'AcmeShop', version: '3.2.0' },
  zeek: { name: 'Zeek', vendor_name: 'Zeek', version: '6.0.3' },
  osquery: { name: 'osquery', vendor_name: 'osquery', version: '5.11.0' },
} as const satisfies Record<string, Product>;

/** A network endpoint as OCSF writes it. */
export interface NetPoint {
  ip: string;
  port?: number;
  hostname?: string;
  country?: string;
  city?: string;
}

/** Route timeouts of the edge proxy, per upstream service (ms). */
export const ROUTE_TIMEOUT: Readonly<Record<Endpoint['service'], number>> = {
  'orders-api': 5000,
  'auth-svc': 5000,
  'admin-api': 30000,
};

const REASON: Readonly<Record<number, string>> = {
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const round = (x: number) => Math.max(0, Math.round(x));
const userRef = (u: User) => ({ name: u.name, uid: u.uid, type: u.type, type_id: u.typeId });
const endpointObj = (p: NetPoint) => {
  const o: Record<string, unknown> = { ip: p.ip };
  if (p.port !== undefined) o.port = p.port;
  if (p.hostname !== undefined) o.hostname = p.hostname;
  if (p.country !== undefined)
    o.location = p.city !== undefined ? { country: p.country, city: p.city } : { country: p.country };
  return o;
};

/** Geo-enriched client endpoint; collectors lose the port or the location now and then. */
export function clientPoint(rng: Rng, ip: IpRecord): NetPoint {
  const p: NetPoint = { ip: ip.ip };
  if (rng.chance(0.9)) p.port = rng.int(32768, 60999);
  if (rng.chance(0.85)) {
    p.country = ip.country;
    if (rng.chance(0.8)) p.city = ip.city;
  }
  return p;
}

/** Client address of a person's request: usually one of their own, sometimes a fresh one at home. */
export function personIp(rng: Rng, user: User): IpRecord {
  return rng.chance(0.02) ? regionIp(rng, user.region) : usualIp(rng, user);
}

/** Everything that decides one HTTP Activity event. */
export interface HttpSpec {
  time: number;
  endpoint: Endpoint;
  path: string;
  query?: string;
  code: number;
  duration?: number;
  bytesIn: number;
  bytesOut: number;
  client: NetPoint;
  user?: User;
  agent?: string;
  edge: Host;
  version: string;
}

/** Builds an HTTP Activity (4002) event. */
export function buildHttp(s: HttpSpec, world: World): OcsfEvent {
  const m = s.endpoint.method;
  const severity = s.code >= 500 ? 3 : s.code >= 400 ? 2 : 1;
  const e = baseEvent(
    'http',
    HTTP_ACTIVITY[m] ?? 99,
    s.time,
    severity,
    s.code < 400 ? 1 : 2,
    PRODUCTS.envoy,
    'access',
  );
  const note = s.code === 504 ? ' upstream request timeout' : s.code === 503 ? ' no healthy upstream' : '';
  e.message = `${m} ${s.path} ${s.code}${note}`;
  if (s.duration !== undefined) e.duration = s.duration;
  if (s.user) e.actor = { user: userRef(s.user) };
  const url: Record<string, unknown> = {
    scheme: 'https',
    hostname: world.infra.publicHost,
    path: s.path,
    port: 443,
  };
  if (s.query !== undefined) url.query_string = s.query;
  const req: Record<string, unknown> = { http_method: m, url, version: s.version };
  if (s.agent !== undefined) req.user_agent = s.agent;
  e.http_request = req;
  const resp: Record<string, unknown> = { code: s.code, status: REASON[s.code] ?? 'Unknown' };
  if (s.bytesIn > 0)
    resp.content_type =
      s.code >= 400 || s.endpoint.template !== '/metrics' ? 'application/json' : 'text/plain';
  e.http_response = resp;
  e.src_endpoint = endpointObj(s.client);
  e.dst_endpoint = endpointObj({ ip: s.edge.ip, port: 443, hostname: world.infra.publicHost });
  e.traffic = { bytes_in: s.bytesIn, bytes_out: s.bytesOut };
  return e;
}

/** Fills an endpoint template with ids the way a given user would request it. */
export function fillPath(
  rng: Rng,
  world: World,
  endpoint: Endpoint,
  user?: User,
): { path: string; query?: string; id: string } {
  let id = '';
  const path = endpoint.template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    switch (name) {
      case 'product':
        id = String(productId(rng));
        break;
      case 'order':
        id = String(user?.orders.length && rng.chance(0.9) ? rng.pick(user.orders) : rng.int(100000, 999999));
        break;
      case 'user':
        id = String(user?.kind === 'customer' ? user.id : rng.pick(world.customers).id);
        break;
      case 'report':
        id = String(rng.int(1, 400));
        break;
      case 'flag':
        id = rng.pick(FLAGS);
        break;
      default:
        id = `key_${rng.int(1, 14)}`;
    }
    return id;
  });
  let query: string | undefined;
  if (endpoint.query === 'search')
    query = `q=${rng.pick(SEARCH_TERMS).replace(/ /g, '+')}&page=${pageNo(rng)}`;
  else if (endpoint.query === 'page' && rng.chance(0.6)) query = `page=${pageNo(rng)}`;
  else if (endpoint.query === 'catalog' && rng.chance(0.5))
    query = `category=${rng.pick(['audio', 'home', 'outdoor', 'office', 'kitchen', 'sports'])}&sort=${rng.pick(['price', 'rating', 'new'])}&page=${pageNo(rng)}`;
  return query === undefined ? { path, id } : { path, query, id };
}

function pageNo(rng: Rng): number {
  return 1 + Math.floor(rng.exp(1.2));
}

function normalCode(rng: Rng, e: Endpoint): number {
  const r = rng.float();
  if (e.template === '/api/auth/login') return r < 0.045 ? 401 : r < 0.048 ? 429 : r < 0.0495 ? 500 : 200;
  if (e.audience === 'machine') return r < 0.001 ? 503 : 200;
  if (r < 0.0015) return 500;
  if (r < 0.002) return 502;
  if (r < 0.0025) return 503;
  if (r < 0.004 && e.auth) return 401;
  if (r < 0.0055 && e.audience !== 'customer') return 403;
  if (r < 0.019 && e.template.includes('{')) return 404;
  if (r < 0.025 && e.method !== 'GET') return 400;
  if (r < 0.026) return 429;
  if (e.method === 'GET' && e.op?.name === 'GetProduct' && r < 0.1) return 304;
  return e.okCode;
}

/** Samples a normal HTTP request to `endpoint` by `user` (or an anonymous visitor). */
export function sampleHttp(rng: Rng, world: World, time: number, endpoint: Endpoint, user?: User): HttpSpec {
  const { path, query } = fillPath(rng, world, endpoint, user);
  let code = normalCode(rng, endpoint);
  let duration = rng.logNormal(endpoint.latency[0], endpoint.latency[1]);
  let bytesIn =
    round(rng.logNormal(endpoint.resp[0] || 1, endpoint.resp[1])) + round(rng.logNormal(310, 0.1));
  if (endpoint.resp[0] === 0) bytesIn = round(rng.logNormal(280, 0.1));
  const timeout = endpoint.op?.name === 'Checkout' ? 10000 : ROUTE_TIMEOUT[endpoint.service];
  if (code >= 400) {
    duration *= code === 503 ? 0.02 : code >= 500 ? 1.4 : 0.35;
    bytesIn = round(rng.logNormal(420, 0.3));
  } else if (code === 304) {
    duration *= 0.5;
    bytesIn = round(rng.logNormal(260, 0.1));
  }
  if (endpoint.op?.name === 'Checkout' && rng.chance(0.003)) duration = timeout + 1;
  if (duration > timeout) {
    code = 504;
    duration = timeout + rng.logNormal(3, 0.6);
    bytesIn = round(rng.logNormal(380, 0.1));
  }
  const bytesOut =
    round(rng.logNormal(endpoint.audience === 'machine' ? 180 : 720, 0.25)) +
    (endpoint.req[0] > 0 ? round(rng.logNormal(endpoint.req[0], endpoint.req[1])) : 0);
  let client: NetPoint;
  let agent: string | undefined;
  if (endpoint.audience === 'machine') {
    client =
      endpoint.template === '/metrics'
        ? { ip: world.infra.monitor.ip, port: rng.int(32768, 60999), hostname: world.infra.monitor.name }
        : { ip: `10.0.${rng.int(8, 9)}.${rng.int(2, 250)}`, port: rng.int(32768, 60999) };
    agent = endpoint.template === '/metrics' ? MACHINE_AGENTS.scraper : MACHINE_AGENTS.probe;
  } else if (user) {
    client = clientPoint(rng, personIp(rng, user));
    agent = rng.chance(0.97) ? usualAgent(rng, user) : undefined;
  } else {
    client = clientPoint(
      rng,
      regionIp(
        rng,
        rng.weighted(
          HOME_REGIONS,
          HOME_REGIONS.map((r) => r.weight),
        ),
      ),
    );
    agent = rng.chance(0.96)
      ? rng.weighted(
          COMMON_AGENTS.map((a) => a[0]),
          COMMON_AGENTS.map((a) => a[1]),
        )
      : undefined;
  }
  const spec: HttpSpec = {
    time,
    endpoint,
    path,
    code,
    bytesIn,
    bytesOut,
    client,
    edge: rng.pick(world.infra.edge),
    version: rng.chance(0.7) ? 'HTTP/2.0' : 'HTTP/1.1',
  };
  if (query !== undefined) spec.query = query;
  if (rng.chance(0.95)) spec.duration = Math.round(duration);
  if (user && (endpoint.auth || rng.chance(0.6))) spec.user = user;
  if (agent !== undefined) spec.agent = agent;
  return spec;
}

/** Everything that decides one API Activity event. */
export interface ApiSpec {
  time: number;
  activityId: number;
  operation: string;
  service: string;
  product: Product;
  user?: User;
  serviceAccount?: string;
  src: NetPoint;
  dst: Host;
  requestUid: string;
  resource?: { type: string; uid: string };
  code: number;
  error?: string;
  errorMessage?: string;
  severityId: number;
  message: string;
  duration?: number;
  httpMethod?: string;
  path?: string;
}

/** Builds an API Activity (6003) event. */
export function buildApi(s: ApiSpec): OcsfEvent {
  const e = baseEvent(
    'api',
    s.activityId,
    s.time,
    s.severityId,
    s.code < 400 ? 1 : 2,
    s.product,
    'application',
  );
  e.message = s.message;
  if (s.duration !== undefined) e.duration = s.duration;
  e.actor = s.user
    ? { user: userRef(s.user) }
    : { user: { name: s.serviceAccount ?? 'svc-unknown', type: 'System', type_id: 3 }, app_name: s.service };
  const response: Record<string, unknown> = { code: s.code };
  if (s.error !== undefined) response.error = s.error;
  if (s.errorMessage !== undefined) response.error_message = s.errorMessage;
  e.api = {
    operation: s.operation,
    service: { name: s.service, version: s.product.version },
    request: { uid: s.requestUid },
    response,
  };
  e.src_endpoint = endpointObj(s.src);
  e.dst_endpoint = endpointObj({ ip: s.dst.ip, port: 8080, hostname: s.dst.name });
  if (s.resource) e.resources = [s.resource];
  if (s.httpMethod !== undefined && s.path !== undefined)
    e.http_request = { http_method: s.httpMethod, url: { path: s.path } };
  return e;
}

const money = (rng: Rng) => (Math.round(rng.logNormal(48, 0.8) * 100) / 100).toFixed(2);

/** Samples a normal application log line for an operation a user performed. */
export function sampleApi(rng: Rng, world: World, time: number, user: User, endpoint?: Endpoint): ApiSpec {
  const ep = endpoint ?? pickEndpoint(rng, user.apiCum);
  const op = ep.op ?? { name: 'Unknown', activityId: 99 };
  const { path, id } = fillPath(rng, world, ep, user);
  const ms = Math.max(1, Math.round(rng.logNormal(ep.latency[0] * 0.8, ep.latency[1])));
  let message: string;
  let resource: ApiSpec['resource'];
  let severityId = 1;
  let duration = ms;
  switch (op.name) {
    case 'GetProduct':
    case 'GetOrder': {
      const kind = op.name === 'GetProduct' ? 'product' : 'order';
      resource = { type: kind, uid: id };
      if (rng.chance(0.1)) {
        const db = Math.round(rng.logNormal(14, 0.5));
        duration = ms + db;
        message = `Cache miss for ${kind}:${id}; loaded from postgres in ${db}ms`;
      } else {
        duration = Math.max(1, Math.round(ms * 0.4));
        message = `${kind === 'product' ? 'Product' : 'Order'} ${id} served from cache`;
      }
      break;
    }
    case 'ListProducts':
      message = `Listed ${rng.int(12, 48)} products (page ${pageNo(rng)})`;
      break;
    case 'SearchProducts':
      message = `Search "${rng.pick(SEARCH_TERMS)}" returned ${round(rng.logNormal(60, 1.1))} results in ${ms}ms`;
      break;
    case 'GetCart':
      message = `Cart ${user.id}-${rng.int(1, 9)} loaded with ${rng.int(0, 9)} items`;
      break;
    case 'AddCartItem':
      message = `Added product ${productId(rng)} x${rng.int(1, 3)} to cart ${user.id}-${rng.int(1, 9)}`;
      break;
    case 'RemoveCartItem':
      resource = { type: 'product', uid: id };
      message = `Removed product ${id} from cart ${user.id}-${rng.int(1, 9)}`;
      break;
    case 'ListOrders':
      message = `Listed ${Math.min(user.orders.length || rng.int(1, 30), 20)} orders for customer ${user.id}`;
      break;
    case 'CreateOrder': {
      const order = rng.int(100000, 999999);
      resource = { type: 'order', uid: String(order) };
      message = `Order ${order} created with ${rng.int(1, 6)} items, total ${money(rng)} USD`;
      break;
    }
    case 'Checkout': {
      const order = user.orders.length ? rng.pick(user.orders) : rng.int(100000, 999999);
      resource = { type: 'order', uid: String(order) };
      if (ms > 1500) {
        severityId = 2;
        message = `Slow checkout processing: ${ms}ms`;
      } else message = `Checkout completed for order ${order} in ${ms}ms`;
      break;
    }
    case 'GetProfile':
      message = `Profile read for user ${id}`;
      break;
    case 'UpdateProfile':
      resource = { type: 'user', uid: id };
      message = `Profile updated for user ${id} (${rng.int(1, 4)} fields changed)`;
      break;
    case 'RenderInvoice':
      resource = { type: 'order', uid: id };
      message = `Invoice for order ${id} rendered: ${rng.int(1, 4)} pages, ${round(rng.logNormal(110, 0.4))} KB`;
      break;
    case 'ListCustomers':
      message = `Listed 50 customers (page ${pageNo(rng)})`;
      break;
    case 'GetCustomer':
      resource = { type: 'user', uid: id };
      message = `Customer ${id} viewed by ${user.name}`;
      break;
    case 'GetOrderAdmin':
      resource = { type: 'order', uid: id };
      message = `Order ${id} viewed by ${user.name}`;
      break;
    case 'IssueRefund': {
      const order = rng.int(100000, 999999);
      resource = { type: 'order', uid: String(order) };
      message = `Refund R-${rng.int(10000, 99999)} issued for order ${order}: ${money(rng)} USD`;
      break;
    }
    case 'ExportReport':
      resource = { type: 'report', uid: id };
      message = `Report ${id} exported: ${round(rng.logNormal(12000, 1))} rows in ${ms}ms`;
      break;
    case 'UpdateUserRole':
      resource = { type: 'user', uid: id };
      message = `Role of customer ${id} changed to ${rng.pick(['wholesale', 'vip', 'standard', 'suspended'])}`;
      break;
    case 'UpdateFeatureFlag':
      resource = { type: 'feature_flag', uid: id };
      message = `Feature flag ${id} set to ${rng.chance(0.5)} for ${rng.int(1, 100)}% of users`;
      break;
    case 'ExportCustomers':
      message = `Exported ${round(rng.logNormal(18000, 0.5))} customer records to CSV`;
      break;
    case 'RotateApiKey':
      resource = { type: 'api_key', uid: id };
      message = `API key ${id} rotated for partner P-${rng.int(100, 140)}`;
      break;
    default:
      message = `${op.name} completed in ${ms}ms`;
  }
  let code = ep.okCode;
  let error: string | undefined;
  let errorMessage: string | undefined;
  if (rng.chance(0.004)) {
    code = 500;
    severityId = 3;
    error = rng.pick(['ECONNRESET', 'INTERNAL', 'UPSTREAM_UNAVAILABLE']);
    errorMessage = `${op.name} failed: ${error === 'ECONNRESET' ? 'connection reset by peer' : 'unexpected error'}`;
    message = `${op.name} failed after ${ms}ms: ${errorMessage.split(': ')[1]}`;
  }
  const spec: ApiSpec = {
    time,
    activityId: op.activityId,
    operation: op.name,
    service: ep.service,
    product: ep.service === 'admin-api' ? PRODUCTS.admin : PRODUCTS.api,
    user,
    src: rng.chance(0.8)
      ? { ip: personIp(rng, user).ip }
      : { ip: personIp(rng, user).ip, port: rng.int(32768, 60999) },
    dst: rng.pick(ep.service === 'admin-api' ? world.infra.admin : world.infra.api),
    requestUid: rng.hex(16),
    code,
    severityId,
    message,
  };
  if (resource) spec.resource = resource;
  if (error !== undefined) spec.error = error;
  if (errorMessage !== undefined) spec.errorMessage = errorMessage;
  if (rng.chance(0.85)) spec.duration = duration;
  if (rng.chance(0.3)) {
    spec.httpMethod = ep.method;
    spec.path = path;
  }
  return spec;
}

/** Samples a payment-worker job log line; `heapMb` and `scale` let faults distort it. */
export function sampleWorkerApi(rng: Rng, world: World, time: number, heapMb?: number, scale = 1): ApiSpec {
  const worker = rng.pick(world.infra.worker);
  const ms = Math.round(rng.logNormal(320, 0.4) * scale);
  const heap = heapMb ?? Math.round(rng.logNormal(520, 0.25));
  const order = rng.int(100000, 999999);
  const spec: ApiSpec = {
    time,
    activityId: 3,
    operation: 'CapturePayment',
    service: 'payment-worker',
    product: PRODUCTS.worker,
    serviceAccount: 'svc-payment-worker',
    src: { ip: worker.ip, hostname: worker.name },
    dst: worker,
    requestUid: rng.hex(16),
    resource: { type: 'payment', uid: `pay_${rng.hex(12)}` },
    code: 200,
    severityId: 1,
    message: `Payment captured for order ${order}: ${money(rng)} USD in ${ms}ms (heap ${heap}MB)`,
  };
  if (rng.chance(0.9)) spec.duration = ms;
  return spec;
}

function sampleSystemApi(rng: Rng, world: World, time: number): ApiSpec {
  if (rng.chance(0.65)) return sampleWorkerApi(rng, world, time);
  const host = rng.pick(world.infra.api);
  const ms = Math.round(rng.logNormal(900, 0.5));
  const spec: ApiSpec = {
    time,
    activityId: 3,
    operation: 'SyncInventory',
    service: 'orders-api',
    product: PRODUCTS.api,
    serviceAccount: 'svc-inventory-sync',
    src: { ip: host.ip, hostname: host.name },
    dst: host,
    requestUid: rng.hex(16),
    code: 200,
    severityId: 1,
    message: `Inventory sync: ${round(rng.logNormal(140, 0.7))} SKUs updated in ${ms}ms`,
  };
  if (rng.chance(0.9)) spec.duration = ms;
  return spec;
}

/** Everything that decides one Authentication event. */
export interface AuthSpec {
  time: number;
  activityId: number;
  userName: string;
  user?: User;
  success: boolean;
  statusDetail?: string;
  client: NetPoint;
  agent?: string;
  mfa: boolean;
  staff: boolean;
  attempt: number;
  duration?: number;
  dst: Host;
  severityId: number;
  message: string;
}

/** Builds an Authentication (3002) event. */
export function buildAuth(s: AuthSpec, world: World): OcsfEvent {
  const e = baseEvent('auth', s.activityId, s.time, s.severityId, s.success ? 1 : 2, PRODUCTS.auth, 'auth');
  e.message = s.message;
  if (s.duration !== undefined) e.duration = s.duration;
  const u: Record<string, unknown> = s.user
    ? { ...userRef(s.user), email_addr: s.user.email }
    : { name: s.userName, type: 'Unknown', type_id: 0 };
  e.user = u;
  e.actor = { user: s.user ? userRef(s.user) : { name: s.userName, type: 'Unknown', type_id: 0 } };
  e.auth_protocol_id = s.staff ? 5 : 6;
  e.auth_protocol = s.staff ? 'SAML' : 'OAUTH 2.0';
  e.is_mfa = s.mfa;
  e.is_remote = true;
  e.logon_type_id = 3;
  e.logon_type = 'Network';
  if (s.statusDetail !== undefined) e.status_detail = s.statusDetail;
  e.service = { name: 'auth-svc' };
  e.src_endpoint = endpointObj(s.client);
  e.dst_endpoint = endpointObj({ ip: s.dst.ip, port: 443, hostname: world.infra.authHost });
  if (s.agent !== undefined)
    e.http_request = {
      http_method: 'POST',
      url: { scheme: 'https', hostname: world.infra.authHost, path: s.staff ? '/saml/acs' : '/oauth/token' },
      user_agent: s.agent,
    };
  return e;
}

/** Message and status detail of a failed logon attempt. */
export function failureText(
  name: string,
  attempt: number,
  known: boolean,
): { message: string; detail: string } {
  if (!known)
    return { message: `Login failed for ${name}: user does not exist`, detail: 'USER_DOES_NOT_EXIST' };
  if (attempt >= 10)
    return {
      message: `Login failed for ${name}: account locked after ${attempt} attempts`,
      detail: 'ACCOUNT_LOCKED_OUT',
    };
  return {
    message: `Login failed for ${name}: invalid credentials (attempt ${attempt})`,
    detail: 'INVALID_CREDENTIALS',
  };
}

/** Samples a normal logon, logoff or mistyped password of a user. */
export function sampleAuth(rng: Rng, world: World, time: number, user: User): AuthSpec {
  const staff = user.kind !== 'customer';
  const r = rng.float();
  const activityId = r < 0.12 ? 2 : 1;
  const success = activityId === 2 || r > 0.2;
  const mfa = staff ? rng.chance(0.96) : rng.chance(0.18);
  const spec: AuthSpec = {
    time,
    activityId,
    userName: user.name,
    user,
    success,
    client: clientPoint(rng, personIp(rng, user)),
    mfa,
    staff,
    attempt: 1,
    dst: rng.pick(world.infra.auth),
    severityId: 1,
    message: '',
  };
  if (activityId === 2) {
    spec.message = `User ${user.name} logged out after ${round(rng.logNormal(35, 1.1)) + 1} min`;
    spec.statusDetail = rng.chance(0.7) ? 'LOGOFF_USER_INITIATED' : 'LOGOFF_OTHER';
  } else if (success) {
    spec.message = `User ${user.name} logged in (mfa=${mfa}); session expires in ${rng.pick([3600, 7200, 28800, 86400])}s`;
  } else {
    spec.attempt = rng.chance(0.8) ? 1 : rng.int(2, 4);
    const f = failureText(user.name, spec.attempt, true);
    spec.message = f.message;
    spec.statusDetail = f.detail;
    spec.severityId = 2;
  }
  if (rng.chance(0.75)) spec.duration = Math.round(rng.logNormal(success ? 170 : 140, 0.3));
  if (activityId === 1 && rng.chance(0.85) && rng.chance(0.97)) spec.agent = usualAgent(rng, user);
  return spec;
}

/** Everything that decides one Network Activity event. */
export interface NetSpec {
  time: number;
  activityId: number;
  src: NetPoint;
  dst: NetPoint;
  directionId: number;
  bytesIn: number;
  bytesOut: number;
  packetsIn?: number;
  packetsOut?: number;
  duration?: number;
  withMessage: boolean;
}

const DIRECTION: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Inbound',
  2: 'Outbound',
  3: 'Lateral',
};

/** Builds a Network Activity (4001) event. */
export function buildNetwork(s: NetSpec): OcsfEvent {
  const ok = s.activityId === 6 || s.activityId === 2 || s.activityId === 1;
  const e = baseEvent('network', s.activityId, s.time, 1, ok ? 1 : 2, PRODUCTS.zeek, 'conn');
  if (s.withMessage)
    e.message = `${e.activity_name} ${s.src.ip}:${s.src.port ?? 0} -> ${s.dst.ip}:${s.dst.port ?? 0} tcp, ${s.bytesOut} bytes out, ${s.bytesIn} bytes in`;
  if (s.duration !== undefined) e.duration = s.duration;
  e.src_endpoint = endpointObj(s.src);
  e.dst_endpoint = endpointObj(s.dst);
  e.connection_info = {
    protocol_name: 'tcp',
    protocol_num: 6,
    direction: DIRECTION[s.directionId],
    direction_id: s.directionId,
  };
  const traffic: Record<string, unknown> = { bytes_in: s.bytesIn, bytes_out: s.bytesOut };
  if (s.packetsIn !== undefined) traffic.packets_in = s.packetsIn;
  if (s.packetsOut !== undefined) traffic.packets_out = s.packetsOut;
  e.traffic = traffic;
  return e;
}

/** Turns byte counts into a flow spec with plausible packets, duration and collector gaps. */
export function flow(
  rng: Rng,
  time: number,
  src: NetPoint,
  dst: NetPoint,
  directionId: number,
  bytesOut: number,
  bytesIn: number,
  durationMs: number,
  activityId = rng.chance(0.6) ? 6 : 2,
): NetSpec {
  const spec: NetSpec = {
    time,
    activityId,
    src,
    dst,
    directionId,
    bytesIn: round(bytesIn),
    bytesOut: round(bytesOut),
    withMessage: rng.chance(0.5),
  };
  if (rng.chance(0.9)) {
    spec.packetsOut = Math.max(1, Math.ceil(bytesOut / rng.range(900, 1400)));
    spec.packetsIn = Math.max(bytesIn > 0 ? 1 : 0, Math.ceil(bytesIn / rng.range(900, 1400)));
  }
  if (rng.chance(0.9)) spec.duration = Math.round(durationMs);
  return spec;
}

const hostPoint = (rng: Rng, h: Host, port?: number): NetPoint => ({
  ip: h.ip,
  port: port ?? rng.int(32768, 60999),
  hostname: h.name,
});

/** Samples a flow between the application's services, from the internet, or out to partners. */
export function sampleNetwork(rng: Rng, world: World, time: number): NetSpec {
  const w = world.infra;
  const r = rng.float();
  const api = rng.pick(w.api);
  if (r < 0.3)
    return flow(
      rng,
      time,
      hostPoint(rng, api),
      hostPoint(rng, w.pgPrimary, 5432),
      3,
      rng.logNormal(2400, 0.9),
      rng.logNormal(18000, 1.1),
      rng.logNormal(40, 1),
    );
  if (r < 0.4)
    return flow(
      rng,
      time,
      hostPoint(rng, api),
      hostPoint(rng, w.pgReplica, 5432),
      3,
      rng.logNormal(2000, 0.8),
      rng.logNormal(26000, 1.2),
      rng.logNormal(60, 1),
    );
  if (r < 0.58)
    return flow(
      rng,
      time,
      hostPoint(rng, rng.chance(0.7) ? api : rng.pick(w.auth)),
      hostPoint(rng, w.redis, 6379),
      3,
      rng.logNormal(300, 0.6),
      rng.logNormal(1500, 1),
      rng.logNormal(2, 0.6),
    );
  if (r < 0.65) {
    const gw = rng.pick(w.paymentGateway);
    return flow(
      rng,
      time,
      hostPoint(rng, rng.pick(w.worker)),
      { ip: gw.ip, port: 443, hostname: gw.name, country: 'US' },
      2,
      rng.logNormal(1800, 0.3),
      rng.logNormal(2200, 0.3),
      rng.logNormal(380, 0.4),
    );
  }
  if (r < 0.75) {
    const targets = [...w.api, ...w.worker, w.pgPrimary, w.pgReplica, w.redis, ...w.edge];
    const t = rng.pick(targets);
    const port =
      t === w.pgPrimary || t === w.pgReplica
        ? 9187
        : t === w.redis
          ? 9121
          : rng.pick([9100, 9100, 8080, 9901]);
    return flow(
      rng,
      time,
      hostPoint(rng, w.monitor),
      hostPoint(rng, t, port),
      3,
      rng.logNormal(250, 0.2),
      rng.logNormal(40000, 0.5),
      rng.logNormal(12, 0.5),
    );
  }
  if (r < 0.79)
    return flow(
      rng,
      time,
      hostPoint(rng, w.pgPrimary),
      hostPoint(rng, w.pgReplica, 5432),
      3,
      rng.logNormal(200000, 1.2),
      rng.logNormal(4000, 0.5),
      rng.logNormal(1000, 0.8),
    );
  const visitor = rng.chance(0.7)
    ? personIp(rng, rng.pick(world.customers))
    : regionIp(rng, rng.pick(HOME_REGIONS));
  const src = clientPoint(rng, visitor);
  const edge = rng.pick(w.edge);
  if (r < 0.985) {
    const act = rng.weighted([1, 2, 6, 3], [0.25, 0.45, 0.25, 0.05]);
    const dur = act === 1 ? rng.logNormal(40, 0.6) : rng.logNormal(20000, 1.3);
    const factor = act === 1 ? 0.05 : act === 3 ? 0.2 : 1;
    return flow(
      rng,
      time,
      src,
      hostPoint(rng, edge, 443),
      1,
      rng.logNormal(3000, 0.8) * factor,
      rng.logNormal(15000, 1.2) * factor,
      dur,
      act,
    );
  }
  const port = rng.pick([22, 23, 80, 3389, 8080, 8443, 5900, 6379, 9200, 445, 3306, 25]);
  const noise = flow(
    rng,
    time,
    src,
    hostPoint(rng, edge, port),
    1,
    rng.int(40, 80),
    rng.chance(0.5) ? 0 : rng.int(40, 60),
    rng.logNormal(1.5, 0.5),
    rng.chance(0.7) ? 5 : 3,
  );
  return noise;
}

/** Everything that decides one Process Activity event. */
export interface ProcSpec {
  time: number;
  activityId: number;
  device: Host;
  userName: string;
  user?: User;
  pid: number;
  name: string;
  cmdLine: string;
  path: string;
  parent: { pid: number; name: string };
  exitCode?: number;
  duration?: number;
  severityId: number;
  message: string;
}

/** Builds a Process Activity (1007) event. */
export function buildProcess(s: ProcSpec): OcsfEvent {
  const e = baseEvent(
    'process',
    s.activityId,
    s.time,
    s.severityId,
    s.exitCode ? 2 : 1,
    PRODUCTS.osquery,
    'process_events',
  );
  e.message = s.message;
  if (s.duration !== undefined) e.duration = s.duration;
  e.device = {
    hostname: s.device.name,
    ip: s.device.ip,
    type: 'Server',
    type_id: 1,
    os: { name: 'Ubuntu 22.04.3 LTS', type: 'Linux', type_id: 200 },
  };
  e.actor = {
    user: s.user ? userRef(s.user) : { name: s.userName, type: 'System', type_id: 3 },
    process: { pid: s.parent.pid, name: s.parent.name },
  };
  e.process = {
    pid: s.pid,
    name: s.name,
    cmd_line: s.cmdLine,
    file: { name: s.path.slice(s.path.lastIndexOf('/') + 1), path: s.path, type_id: 1, type: 'Regular File' },
    user: { name: s.userName },
  };
  if (s.exitCode !== undefined) e.exit_code = s.exitCode;
  return e;
}

/** A command a person or a scheduler runs: executable path and a function that draws its arguments. */
export interface Command {
  path: string;
  args: (rng: Rng) => string;
  runtime: readonly [number, number];
}

const cmd = (path: string, args: (rng: Rng) => string, runtime: readonly [number, number]): Command => ({
  path,
  args,
  runtime,
});

/** Commands operators run on the bastion host. */
export const OPS_COMMANDS: readonly Command[] = [
  cmd(
    '/usr/bin/kubectl',
    (r) => `get pods -n shop -l app=${r.pick(['orders-api', 'auth-svc', 'payment-worker'])}`,
    [900, 0.4],
  ),
  cmd(
    '/usr/bin/kubectl',
    (r) => `logs deploy/${r.pick(['orders-api', 'auth-svc', 'payment-worker'])} --since=${r.int(5, 120)}m`,
    [2500, 0.6],
  ),
  cmd(
    '/usr/bin/kubectl',
    (r) => `describe pod ${r.pick(['orders-api', 'auth-svc'])}-${r.hex(5)}`,
    [1100, 0.3],
  ),
  cmd('/usr/bin/psql', () => '-h pg-replica -U readonly shop', [600000, 1]),
  cmd(
    '/usr/bin/ssh',
    (r) => r.pick(['pg-primary', 'pg-replica', 'redis-0', 'edge-1', 'edge-2']),
    [900000, 1.1],
  ),
  cmd('/usr/bin/less', (r) => `/var/log/${r.pick(['syslog', 'auth.log', 'envoy/access.log'])}`, [120000, 1]),
  cmd('/usr/bin/htop', () => '', [200000, 0.9]),
  cmd('/usr/bin/redis-cli', () => '-h redis-0 info memory', [40, 0.3]),
];

/** Commands only administrators run. */
export const ADMIN_COMMANDS: readonly Command[] = [
  cmd('/usr/bin/psql', () => '-h pg-primary -U admin shop', [900000, 1]),
  cmd(
    '/usr/bin/kubectl',
    (r) => `rollout restart deploy/${r.pick(['orders-api', 'auth-svc', 'payment-worker'])} -n shop`,
    [1500, 0.3],
  ),
  cmd('/usr/bin/kubectl', (r) => `scale deploy/orders-api --replicas=${r.int(3, 6)} -n shop`, [1200, 0.3]),
  cmd(
    '/usr/bin/pg_dump',
    (r) => `--schema-only -h pg-replica shop -f /tmp/schema-${r.int(1, 31)}.sql`,
    [8000, 0.5],
  ),
  cmd('/usr/bin/vault', () => 'kv get secret/shop/payments', [700, 0.3]),
  ...OPS_COMMANDS.slice(0, 4),
];

const SYSTEM_COMMANDS: readonly (readonly [Command, string, 'api' | 'worker' | 'pg' | 'edge' | 'redis'])[] = [
  [cmd('/usr/bin/pg_isready', () => '-h localhost -p 5432', [40, 0.3]), 'postgres', 'pg'],
  [cmd('/usr/bin/redis-cli', () => 'ping', [8, 0.3]), 'redis', 'redis'],
  [cmd('/usr/local/bin/node', () => '/app/dist/worker.js --queue payments', [3600000, 1.5]), 'app', 'worker'],
  [cmd('/usr/local/bin/node', () => '/app/dist/server.js', [7200000, 1.5]), 'app', 'api'],
  [cmd('/bin/sh', (r) => `-c /app/scripts/warm-cache.sh ${r.int(100, 900)}`, [2500, 0.5]), 'app', 'api'],
  [cmd('/usr/sbin/logrotate', () => '/etc/logrotate.conf', [300, 0.4]), 'root', 'edge'],
  [cmd('/usr/bin/curl', () => '-fsS http://localhost:9901/ready', [15, 0.4]), 'envoy', 'edge'],
];

/** Builds a launch or terminate event of a command run by `userName` on `device`. */
export function processSpec(
  rng: Rng,
  time: number,
  device: Host,
  command: Command,
  userName: string,
  user: User | undefined,
  parent: string,
): ProcSpec {
  const name = command.path.slice(command.path.lastIndexOf('/') + 1);
  const args = command.args(rng);
  const cmdLine = args ? `${name} ${args}` : name;
  const pid = rng.int(1200, 4194000);
  const launch = rng.chance(0.55);
  const spec: ProcSpec = {
    time,
    activityId: launch ? 1 : 2,
    device,
    userName,
    pid,
    name,
    cmdLine,
    path: command.path,
    parent: { pid: rng.int(1, 4194000), name: parent },
    severityId: 1,
    message: '',
  };
  if (user) spec.user = user;
  if (launch) spec.message = `Process ${name} (pid ${pid}) started by ${userName}`;
  else {
    const exit = rng.chance(0.96) ? 0 : rng.pick([1, 2, 130]);
    const runtime = Math.round(rng.logNormal(command.runtime[0], command.runtime[1]));
    spec.exitCode = exit;
    if (rng.chance(0.9)) spec.duration = runtime;
    spec.message = `Process ${name} (pid ${pid}) exited with code ${exit} after ${(runtime / 1000).toFixed(1)}s`;
    if (exit !== 0) spec.severityId = 2;
  }
  return spec;
}

/** Samples a process event: a person on the bastion host, or a service on its own host. */
export function sampleProcess(rng: Rng, world: World, time: number, user?: User): ProcSpec {
  const w = world.infra;
  if (user) {
    const commands = user.kind === 'admin' ? ADMIN_COMMANDS : OPS_COMMANDS;
    return processSpec(rng, time, w.bastion, rng.pick(commands), user.name, user, 'bash');
  }
  const [command, account, role] = rng.pick(SYSTEM_COMMANDS);
  const device =
    role === 'pg'
      ? rng.chance(0.5)
        ? w.pgPrimary
        : w.pgReplica
      : role === 'redis'
        ? w.redis
        : role === 'worker'
          ? rng.pick(w.worker)
          : role === 'edge'
            ? rng.pick(w.edge)
            : rng.pick(w.api);
  return processSpec(
    rng,
    time,
    device,
    command,
    account,
    undefined,
    role === 'edge' ? 'cron' : 'containerd-shim',
  );
}

const USER_MIX: Readonly<Record<UserKind, readonly number[]>> = {
  customer: [0.62, 0.25, 0.13, 0],
  support: [0.5, 0.42, 0.08, 0],
  ops: [0.25, 0.15, 0.08, 0.52],
  admin: [0.35, 0.35, 0.08, 0.22],
};
const USER_CLASSES = ['http', 'api', 'auth', 'process'] as const;
const MACHINE_ENDPOINTS = ENDPOINTS.filter((e) => e.audience === 'machine');
const PUBLIC_ENDPOINTS = ENDPOINTS.filter((e) => e.audience === 'customer' && !e.auth);

/** Draws one normal event at `time`: a person's request, login or command, or machine traffic. */
export function sampleNormal(rng: Rng, world: World, time: number, slot: number): OcsfEvent {
  if (rng.float() < world.machineShare[slot]!) {
    const r = rng.float();
    if (r < 0.5) return buildNetwork(sampleNetwork(rng, world, time));
    if (r < 0.64) {
      const ep = rng.weighted(
        PUBLIC_ENDPOINTS,
        PUBLIC_ENDPOINTS.map((e) => e.weight),
      );
      return buildHttp(sampleHttp(rng, world, time, ep), world);
    }
    if (r < 0.72) {
      const ep = rng.weighted(
        MACHINE_ENDPOINTS,
        MACHINE_ENDPOINTS.map((e) => e.weight),
      );
      return buildHttp(sampleHttp(rng, world, time, ep), world);
    }
    if (r < 0.85) return buildApi(sampleSystemApi(rng, world, time));
    return buildProcess(sampleProcess(rng, world, time));
  }
  const user = pickUser(world, rng, time);
  const kind = rng.weighted(USER_CLASSES, USER_MIX[user.kind]);
  if (kind === 'http')
    return buildHttp(sampleHttp(rng, world, time, pickEndpoint(rng, user.endpointCum), user), world);
  if (kind === 'api') return buildApi(sampleApi(rng, world, time, user));
  if (kind === 'auth') return buildAuth(sampleAuth(rng, world, time, user), world);
  return buildProcess(sampleProcess(rng, world, time, user));
}
