// The simulated deployment behind the synthetic events: hosts, HTTP endpoints, regions, users and their habits, load curves.
import { pickCumulative, type Rng } from './rng.ts';

/** A geographic region users and attackers connect from. */
export interface Region {
  country: string;
  tz: number;
  cities: readonly string[];
  octets: readonly number[];
  weight: number;
}

/** A public client address with its geo-IP enrichment. */
export interface IpRecord {
  ip: string;
  country: string;
  city: string;
}

/** Role of a person using the application. */
export type UserKind = 'customer' | 'support' | 'ops' | 'admin';

/** One person using the application, with habits the normal traffic follows. */
export interface User {
  id: number;
  uid: string;
  name: string;
  email: string;
  kind: UserKind;
  typeId: number;
  type: string;
  region: Region;
  ips: IpRecord[];
  ipWeights: number[];
  uas: string[];
  uaWeights: number[];
  endpointCum: Float64Array;
  apiCum: Float64Array;
  orders: number[];
  activity: number;
}

/** An internal host or pod. */
export interface Host {
  name: string;
  ip: string;
}

/** Who calls an endpoint. */
export type Audience = 'customer' | 'staff' | 'admin' | 'machine';

/** An HTTP endpoint of the application, with its latency and size distributions. */
export interface Endpoint {
  method: string;
  template: string;
  service: 'orders-api' | 'auth-svc' | 'admin-api';
  audience: Audience;
  weight: number;
  latency: readonly [number, number];
  resp: readonly [number, number];
  req: readonly [number, number];
  auth: boolean;
  okCode: number;
  db: boolean;
  op: { name: string; activityId: number } | null;
  query?: 'search' | 'page' | 'catalog';
}

/** Regions normal users live in. */
export const HOME_REGIONS: readonly Region[] = [
  { country: 'US', tz: -5, cities: ['New York', 'Atlanta', 'Boston'], octets: [24, 67, 73], weight: 0.2 },
  {
    country: 'US',
    tz: -8,
    cities: ['Seattle', 'San Francisco', 'Los Angeles'],
    octets: [76, 98, 174],
    weight: 0.15,
  },
  { country: 'CA', tz: -5, cities: ['Toronto', 'Montreal'], octets: [99, 142], weight: 0.06 },
  { country: 'GB', tz: 0, cities: ['London', 'Manchester', 'Leeds'], octets: [81, 86, 109], weight: 0.12 },
  { country: 'DE', tz: 1, cities: ['Berlin', 'Munich', 'Hamburg'], octets: [46, 79, 84], weight: 0.1 },
  { country: 'FR', tz: 1, cities: ['Paris', 'Lyon'], octets: [2, 88], weight: 0.06 },
  { country: 'IN', tz: 5, cities: ['Bengaluru', 'Mumbai', 'Delhi'], octets: [49, 117, 122], weight: 0.09 },
  { country: 'BR', tz: -3, cities: ['Sao Paulo', 'Rio de Janeiro'], octets: [177, 179, 189], weight: 0.07 },
  { country: 'JP', tz: 9, cities: ['Tokyo', 'Osaka'], octets: [60, 126, 153], weight: 0.06 },
  { country: 'AU', tz: 10, cities: ['Sydney', 'Melbourne'], octets: [1, 101, 124], weight: 0.07 },
];

/** Regions no normal user connects from; attacks come from here (and from home regions). */
export const FOREIGN_REGIONS: readonly Region[] = [
  { country: 'RU', tz: 3, cities: ['Moscow', 'Saint Petersburg'], octets: [5, 95, 188], weight: 1 },
  { country: 'CN', tz: 8, cities: ['Shanghai', 'Shenzhen'], octets: [36, 58, 113], weight: 1 },
  { country: 'NG', tz: 1, cities: ['Lagos'], octets: [41, 102, 105], weight: 0.6 },
  { country: 'VN', tz: 7, cities: ['Hanoi', 'Ho Chi Minh City'], octets: [14, 27, 171], weight: 0.8 },
  { country: 'NL', tz: 1, cities: ['Amsterdam'], octets: [45, 185], weight: 1 },
  { country: 'RO', tz: 2, cities: ['Bucharest'], octets: [31, 89], weight: 0.6 },
];

const FIRST = [
  'alice',
  'bob',
  'carlos',
  'dana',
  'elena',
  'farid',
  'grace',
  'hiro',
  'isabel',
  'jamal',
  'kate',
  'liam',
  'maria',
  'nikhil',
  'olga',
  'pedro',
  'quinn',
  'rosa',
  'sam',
  'tara',
  'umar',
  'vera',
  'wei',
  'xavier',
  'yuki',
  'zoe',
  'amir',
  'bea',
  'chen',
  'diego',
  'emma',
  'felix',
  'gita',
  'hana',
  'ivan',
  'julia',
  'kofi',
  'lena',
  'mei',
  'noah',
  'omar',
  'priya',
  'ravi',
  'sofia',
  'tom',
  'uma',
  'victor',
  'wanda',
  'yara',
  'zane',
];
const LAST = [
  'smith',
  'chen',
  'garcia',
  'muller',
  'tanaka',
  'patel',
  'silva',
  'dubois',
  'kowalski',
  'okafor',
  'nguyen',
  'brown',
  'rossi',
  'kim',
  'jones',
  'novak',
  'haddad',
  'sato',
  'lopez',
  'schmidt',
  'ivanova',
  'wilson',
  'singh',
  'costa',
  'martin',
  'ali',
  'park',
  'fischer',
  'moreau',
  'yamamoto',
  'taylor',
  'khan',
  'santos',
  'weber',
  'lee',
  'walker',
  'hansen',
  'cohen',
  'rao',
  'mendes',
];
const MAIL = [
  'gmail.com',
  'outlook.com',
  'yahoo.com',
  'icloud.com',
  'proton.me',
  'gmx.de',
  'orange.fr',
  'web.de',
];

const CHROME = (v: number, os: string) =>
  `Mozilla/5.0 (${os}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36`;
const OS_WIN = 'Windows NT 10.0; Win64; x64';
const OS_MAC = 'Macintosh; Intel Mac OS X 10_15_7';

/** User agents real clients of the application send, with their relative popularity. */
export const COMMON_AGENTS: readonly (readonly [string, number])[] = [
  [CHROME(120, OS_WIN), 14],
  [CHROME(121, OS_WIN), 9],
  [CHROME(119, OS_WIN), 3],
  [CHROME(120, OS_MAC), 7],
  [CHROME(121, OS_MAC), 4],
  [`${CHROME(120, OS_WIN)} Edg/120.0.0.0`, 4],
  [`Mozilla/5.0 (${OS_MAC}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15`, 7],
  [`Mozilla/5.0 (${OS_MAC}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15`, 2],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0', 4],
  ['Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 1.5],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
    8,
  ],
  [
    'Mozilla/5.0 (iPhone; CPU iPhone OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
    2,
  ],
  [
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
    4,
  ],
  [
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36',
    4,
  ],
  ['AcmeShop/4.12.0 (iPhone; iOS 17.2; Scale/3.00)', 8],
  ['AcmeShop/4.11.3 (iPhone; iOS 16.7; Scale/3.00)', 2],
  ['AcmeShop/4.12.1 (Android 14; Pixel 7)', 5],
  ['AcmeShop/4.12.1 (Android 13; SM-A536B)', 3],
];

/** Agents of internal callers (probes, scrapers, service clients). */
export const MACHINE_AGENTS = {
  probe: 'kube-probe/1.29',
  scraper: 'Prometheus/2.48.1',
  worker: 'acmeshop-payment-worker/1.8.0 (+node 20.11.0)',
} as const;

/** User agents no normal client sends; used by the rare-user-agent and brute-force scenarios. */
export const RARE_AGENTS: readonly string[] = [
  'curl/8.5.0',
  'python-requests/2.31.0',
  'sqlmap/1.7.12#stable (https://sqlmap.org)',
  'Wget/1.21.4',
  'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
  'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)',
  'PostmanRuntime/7.36.0',
  'Java/17.0.9',
  'Scrapy/2.11.0 (+https://scrapy.org)',
  'Apache-HttpClient/4.5.14 (Java/11.0.21)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.71 Safari/537.36',
  `${CHROME(96, OS_WIN)}`,
  'AcmeShop/3.2.0 (Android 9; SM-G960F)',
];

const ep = (
  method: string,
  template: string,
  service: Endpoint['service'],
  audience: Audience,
  weight: number,
  latency: readonly [number, number],
  resp: readonly [number, number],
  extra: Partial<Endpoint> = {},
): Endpoint => ({
  method,
  template,
  service,
  audience,
  weight,
  latency,
  resp,
  req: method === 'GET' || method === 'DELETE' ? [0, 0] : [420, 0.5],
  auth: true,
  okCode: method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200,
  db: true,
  op: null,
  ...extra,
});

const op = (name: string, activityId: number) => ({ name, activityId });

/** The application's HTTP endpoints. */
export const ENDPOINTS: readonly Endpoint[] = [
  ep('GET', '/api/products', 'orders-api', 'customer', 14, [38, 0.45], [9000, 0.5], {
    auth: false,
    op: op('ListProducts', 2),
    query: 'catalog',
  }),
  ep('GET', '/api/products/{product}', 'orders-api', 'customer', 20, [16, 0.4], [2200, 0.35], {
    auth: false,
    op: op('GetProduct', 2),
  }),
  ep('GET', '/api/search', 'orders-api', 'customer', 10, [85, 0.6], [6000, 0.6], {
    auth: false,
    op: op('SearchProducts', 2),
    query: 'search',
  }),
  ep('GET', '/api/cart', 'orders-api', 'customer', 8, [12, 0.35], [1500, 0.4], {
    db: false,
    op: op('GetCart', 2),
  }),
  ep('POST', '/api/cart/items', 'orders-api', 'customer', 6, [24, 0.4], [600, 0.3], {
    db: false,
    req: [180, 0.3],
    op: op('AddCartItem', 1),
  }),
  ep('DELETE', '/api/cart/items/{product}', 'orders-api', 'customer', 2, [20, 0.4], [0, 0], {
    db: false,
    op: op('RemoveCartItem', 4),
  }),
  ep('GET', '/api/orders', 'orders-api', 'customer', 5, [62, 0.5], [4800, 0.6], {
    op: op('ListOrders', 2),
    query: 'page',
  }),
  ep('GET', '/api/orders/{order}', 'orders-api', 'customer', 7, [22, 0.45], [2600, 0.4], {
    op: op('GetOrder', 2),
  }),
  ep('POST', '/api/orders', 'orders-api', 'customer', 2.5, [130, 0.4], [1100, 0.3], {
    req: [900, 0.4],
    op: op('CreateOrder', 1),
  }),
  ep('POST', '/api/checkout', 'orders-api', 'customer', 2, [480, 0.45], [700, 0.3], {
    okCode: 200,
    req: [650, 0.3],
    op: op('Checkout', 1),
  }),
  ep('GET', '/api/users/{user}/profile', 'orders-api', 'customer', 3, [18, 0.35], [900, 0.3], {
    op: op('GetProfile', 2),
  }),
  ep('PUT', '/api/users/{user}/profile', 'orders-api', 'customer', 0.8, [45, 0.4], [900, 0.3], {
    op: op('UpdateProfile', 3),
  }),
  ep('GET', '/api/invoices/{order}/pdf', 'orders-api', 'customer', 0.7, [900, 0.5], [120000, 0.4], {
    op: op('RenderInvoice', 2),
  }),
  ep('POST', '/api/auth/login', 'auth-svc', 'customer', 3, [160, 0.3], [1400, 0.15], {
    auth: false,
    okCode: 200,
    db: true,
    req: [260, 0.2],
  }),
  ep('POST', '/api/auth/refresh', 'auth-svc', 'customer', 4, [9, 0.3], [1200, 0.15], {
    okCode: 200,
    db: false,
    req: [900, 0.1],
  }),
  ep('GET', '/api/admin/customers', 'admin-api', 'staff', 3, [140, 0.5], [14000, 0.5], {
    op: op('ListCustomers', 2),
    query: 'page',
  }),
  ep('GET', '/api/admin/customers/{user}', 'admin-api', 'staff', 4, [35, 0.4], [3200, 0.4], {
    op: op('GetCustomer', 2),
  }),
  ep('GET', '/api/admin/orders/{order}', 'admin-api', 'staff', 4, [40, 0.4], [4100, 0.4], {
    op: op('GetOrderAdmin', 2),
  }),
  ep('POST', '/api/admin/refunds', 'admin-api', 'staff', 1, [350, 0.4], [500, 0.2], {
    req: [300, 0.2],
    op: op('IssueRefund', 1),
  }),
  ep('GET', '/api/admin/reports/{report}/export', 'admin-api', 'staff', 0.6, [2400, 0.55], [1500000, 0.8], {
    op: op('ExportReport', 2),
  }),
  ep('PUT', '/api/admin/customers/{user}/role', 'admin-api', 'admin', 0.5, [60, 0.4], [400, 0.2], {
    req: [120, 0.2],
    op: op('UpdateUserRole', 3),
  }),
  ep('PUT', '/api/admin/feature-flags/{flag}', 'admin-api', 'admin', 0.5, [30, 0.4], [300, 0.2], {
    req: [90, 0.2],
    op: op('UpdateFeatureFlag', 3),
  }),
  ep('POST', '/api/admin/exports/customers', 'admin-api', 'admin', 0.3, [2600, 0.5], [2400000, 0.6], {
    req: [150, 0.2],
    okCode: 200,
    op: op('ExportCustomers', 1),
  }),
  ep('POST', '/api/admin/api-keys/{key}/rotate', 'admin-api', 'admin', 0.15, [80, 0.3], [350, 0.1], {
    req: [60, 0.1],
    okCode: 200,
    op: op('RotateApiKey', 3),
  }),
  ep('GET', '/healthz', 'orders-api', 'machine', 1, [1.5, 0.4], [18, 0.05], { auth: false, db: false }),
  ep('GET', '/metrics', 'orders-api', 'machine', 0.4, [6, 0.4], [42000, 0.15], { auth: false, db: false }),
];

/** Words users search for. */
export const SEARCH_TERMS: readonly string[] = [
  'headphones',
  'usb c cable',
  'coffee grinder',
  'running shoes',
  'desk lamp',
  'backpack',
  'phone case',
  'yoga mat',
  'water bottle',
  'keyboard',
  'monitor arm',
  'air fryer',
  'wool socks',
  'tent',
  'gift card',
  'charger',
  'sunglasses',
  'notebook',
  'kettle',
  'webcam',
  'blender',
  'rain jacket',
  'board game',
  'mouse',
];

/** Feature flags admins toggle. */
export const FLAGS: readonly string[] = [
  'new-checkout',
  'one-click-buy',
  'search-v2',
  'recommendations',
  'dark-mode',
  'gift-wrap',
  'paypal',
  'express-shipping',
];

/** The application's infrastructure. */
export interface Infra {
  edge: Host[];
  api: Host[];
  admin: Host[];
  auth: Host[];
  worker: Host[];
  pgPrimary: Host;
  pgReplica: Host;
  redis: Host;
  monitor: Host;
  bastion: Host;
  paymentGateway: Host[];
  backupStore: Host;
  publicHost: string;
  authHost: string;
}

/** Everything normal traffic is drawn from, built once per seed. */
export interface World {
  infra: Infra;
  users: User[];
  customers: User[];
  staff: User[];
  admins: User[];
  ops: User[];
  /** Per UTC hour-of-week slot (Monday 00:00 UTC = 0), the cumulative activity of all users. */
  slotCum: Float64Array;
  /** Per slot, total user load. */
  userLoad: Float64Array;
  /** Per slot, share of events that come from machines rather than people. */
  machineShare: Float64Array;
  /** Per slot, relative event intensity. */
  intensity: Float64Array;
  nextOrderId: number;
}

const POD_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const pod = (rng: Rng, name: string) => {
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += POD_CHARS[rng.int(0, POD_CHARS.length - 1)];
  return `${name}-${suffix}`;
};

/** A random public IP inside one of the region's address blocks. */
export function regionIp(rng: Rng, region: Region): IpRecord {
  const ip = `${rng.pick(region.octets)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  return { ip, country: region.country, city: rng.pick(region.cities) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function gauss(x: number, mu: number, sd: number): number {
  const z = (x - mu) / sd;
  return Math.exp(-0.5 * z * z);
}

/** Relative activity of a user kind at a local hour (0–24) and local day of week (0 = Monday). */
export function activityProfile(kind: UserKind, hour: number, dow: number): number {
  const weekend = dow >= 5;
  if (kind === 'customer') {
    const day = sigmoid((hour - 7.5) * 1.6) * sigmoid((23.5 - hour) * 1.6);
    const v = 0.03 + 0.35 * day + 0.45 * gauss(hour, 12.8, 1.4) + 0.8 * gauss(hour, 20.5, 2);
    return weekend ? v * 1.25 : v;
  }
  const work =
    sigmoid((hour - 8.6) * 2.4) * sigmoid((17.8 - hour) * 2.4) * (1 - 0.15 * gauss(hour, 12.6, 0.7));
  const night = kind === 'ops' ? 0.03 : kind === 'admin' ? 0.008 : 0.01;
  const v = night + work;
  return weekend ? v * (kind === 'ops' ? 0.2 : 0.06) : v;
}

function endpointPrefs(rng: Rng, kind: UserKind, apiOnly: boolean): Float64Array {
  const cum = new Float64Array(ENDPOINTS.length);
  let t = 0;
  ENDPOINTS.forEach((e, i) => {
    let w = 0;
    if (e.audience === 'customer') w = kind === 'customer' ? 1 : kind === 'ops' ? 0.15 : 0.3;
    else if (e.audience === 'staff') w = kind === 'customer' ? 0 : kind === 'ops' ? 0.3 : 1;
    else if (e.audience === 'admin') w = kind === 'admin' ? 1 : 0;
    if (apiOnly && e.op === null) w = 0;
    if (w > 0) w *= e.weight * rng.logNormal(1, 0.8);
    cum[i] = t += w;
  });
  return cum;
}

function makeUser(rng: Rng, id: number, kind: UserKind, region: Region, used: Set<string>): User {
  let name = '';
  do {
    name = `${rng.pick(FIRST)}.${rng.pick(LAST)}`;
    if (used.has(name)) name = `${name}${rng.int(2, 99)}`;
  } while (used.has(name));
  used.add(name);
  const staff = kind !== 'customer';
  const ips: IpRecord[] = [regionIp(rng, region)];
  const ipWeights = [staff ? 0.35 : 0.7];
  if (staff || rng.chance(0.3)) {
    ips.push(regionIp(rng, region));
    ipWeights.push(staff ? 0.55 : 0.2);
  }
  if (rng.chance(0.45)) {
    ips.push(regionIp(rng, region));
    ipWeights.push(0.15);
  }
  if (rng.chance(0.08)) {
    ips.push(regionIp(rng, rng.pick(HOME_REGIONS)));
    ipWeights.push(0.1);
  }
  const agents = COMMON_AGENTS.map((a) => a[0]);
  const agentW = COMMON_AGENTS.map((a) => a[1]);
  const uas = [rng.weighted(agents, agentW)];
  const uaWeights = [0.8];
  if (rng.chance(0.5)) {
    const second = rng.weighted(agents, agentW);
    if (second !== uas[0]) {
      uas.push(second);
      uaWeights.push(0.35);
    }
  }
  const orders: number[] = [];
  const nOrders = kind === 'customer' ? rng.int(2, 24) : 0;
  for (let i = 0; i < nOrders; i++) orders.push(rng.int(100000, 999999));
  const activity = staff ? rng.logNormal(kind === 'ops' ? 3 : 5, 0.4) : rng.logNormal(1, 0.9);
  return {
    id,
    uid: `usr-${id}`,
    name,
    email: `${name}@${staff ? 'acmeshop.example' : rng.pick(MAIL)}`,
    kind,
    typeId: kind === 'admin' ? 2 : 1,
    type: kind === 'admin' ? 'Admin' : 'User',
    region,
    ips,
    ipWeights,
    uas,
    uaWeights,
    endpointCum: endpointPrefs(rng, kind, false),
    apiCum: endpointPrefs(rng, kind, true),
    orders,
    activity,
  };
}

/** Number of customers in the simulated user base. */
export const CUSTOMER_COUNT = 640;

/** Builds the deployment, user base and load curves for one seed. */
export function buildWorld(rng: Rng): World {
  const h = (name: string, ip: string): Host => ({ name, ip });
  const infra: Infra = {
    edge: [h('edge-1', '10.0.1.10'), h('edge-2', '10.0.1.11')],
    api: [0, 1, 2].map((i) => h(pod(rng, 'orders-api-7c9f6d8b5'), `10.0.2.${21 + i}`)),
    admin: [h(pod(rng, 'admin-api-5d8f9c7b6'), '10.0.2.30')],
    auth: [0, 1].map((i) => h(pod(rng, 'auth-svc-6b7d9f5c8'), `10.0.3.${31 + i}`)),
    worker: [0, 1].map((i) => h(`payment-worker-${i}`, `10.0.4.${41 + i}`)),
    pgPrimary: h('pg-primary', '10.0.5.10'),
    pgReplica: h('pg-replica', '10.0.5.11'),
    redis: h('redis-0', '10.0.6.10'),
    monitor: h('prometheus-0', '10.0.7.10'),
    bastion: h('bastion-1', '10.0.0.5'),
    paymentGateway: [
      h('api.payments-gw.example', '203.0.113.10'),
      h('api.payments-gw.example', '203.0.113.11'),
    ],
    backupStore: h('backup.objectstore.example', '198.51.100.20'),
    publicHost: 'api.acmeshop.example',
    authHost: 'auth.acmeshop.example',
  };
  const used = new Set<string>();
  const users: User[] = [];
  const regionW = HOME_REGIONS.map((r) => r.weight);
  let id = 10231;
  for (let i = 0; i < CUSTOMER_COUNT; i++) {
    users.push(makeUser(rng, id, 'customer', rng.weighted(HOME_REGIONS, regionW), used));
    id += rng.int(1, 40);
  }
  const offices = [HOME_REGIONS[0]!, HOME_REGIONS[3]!, HOME_REGIONS[4]!];
  const staffKinds: [UserKind, number][] = [
    ['support', 10],
    ['ops', 6],
    ['admin', 5],
  ];
  for (const [kind, count] of staffKinds) {
    for (let i = 0; i < count; i++)
      users.push(makeUser(rng, 900 + users.length, kind, offices[i % 3]!, used));
  }
  const slotCum = new Float64Array(168 * users.length);
  const userLoad = new Float64Array(168);
  for (let s = 0; s < 168; s++) {
    let t = 0;
    users.forEach((u, i) => {
      const local = (((s + u.region.tz) % 168) + 168) % 168;
      t += u.activity * activityProfile(u.kind, (local % 24) + 0.5, Math.floor(local / 24));
      slotCum[s * users.length + i] = t;
    });
    userLoad[s] = t;
  }
  let mean = 0;
  for (const v of userLoad) mean += v / 168;
  const machineShare = new Float64Array(168);
  const intensity = new Float64Array(168);
  for (let s = 0; s < 168; s++) {
    const machine = 0.22 * mean + 0.3 * userLoad[s]!;
    intensity[s] = machine + userLoad[s]!;
    machineShare[s] = machine / intensity[s]!;
  }
  return {
    infra,
    users,
    customers: users.filter((u) => u.kind === 'customer'),
    staff: users.filter((u) => u.kind !== 'customer'),
    admins: users.filter((u) => u.kind === 'admin'),
    ops: users.filter((u) => u.kind === 'ops'),
    slotCum,
    userLoad,
    machineShare,
    intensity,
    nextOrderId: 0,
  };
}

/** UTC hour-of-week slot of an epoch-millisecond time (Monday 00:00 UTC = 0). */
export function slotOf(time: number): number {
  return (Math.floor(time / 3600000) + 72) % 168;
}

/** Local hour (fractional) and day of week (0 = Monday) of a time in a user's zone. */
export function localTime(time: number, tz: number): { hour: number; dow: number } {
  const hours = time / 3600000 + tz + 72;
  const h = ((hours % 168) + 168) % 168;
  return { hour: h % 24, dow: Math.floor(h / 24) };
}

/** Draws the user behind a person-driven event at `time`, weighted by who is active then. */
export function pickUser(world: World, rng: Rng, time: number): User {
  const n = world.users.length;
  return world.users[pickCumulative(world.slotCum, slotOf(time) * n, n, rng.float())]!;
}

/** Draws an endpoint from a user's habits (a cumulative weight table over ENDPOINTS). */
export function pickEndpoint(rng: Rng, cum: Float64Array): Endpoint {
  return ENDPOINTS[pickCumulative(cum, 0, cum.length, rng.float())]!;
}

/** Draws one of a user's usual client IPs. */
export function usualIp(rng: Rng, user: User): IpRecord {
  return rng.weighted(user.ips, user.ipWeights);
}

/** Draws one of a user's usual user agents. */
export function usualAgent(rng: Rng, user: User): string {
  return rng.weighted(user.uas, user.uaWeights);
}

/** Draws a product id: popular products are requested far more often (power law). */
export function productId(rng: Rng): number {
  return 1 + Math.floor(4999 * rng.float() ** 2.4);
}
