// A small table of known OCSF attribute paths and their value kinds, and the mapping of
// already-flattened column names (`actor_user_name`) onto dotted paths (`actor.user.name`).

/** The kind of value an OCSF attribute holds: number, timestamp (epoch ms), string, boolean, object or array. */
export type OcsfKind = 'number' | 'timestamp' | 'string' | 'boolean' | 'object' | 'array';

type Tree = { [name: string]: OcsfKind | Tree };

const N = 'number' as const;
const T = 'timestamp' as const;
const S = 'string' as const;
const B = 'boolean' as const;
const A = 'array' as const;

const OS: Tree = { name: S, type: S, type_id: N, version: S, build: S };
const LOCATION: Tree = {
  city: S,
  country: S,
  continent: S,
  region: S,
  postal_code: S,
  lat: N,
  long: N,
};
const ACCOUNT: Tree = { name: S, uid: S, type: S, type_id: N };
const USER: Tree = {
  name: S,
  uid: S,
  email_addr: S,
  domain: S,
  full_name: S,
  type: S,
  type_id: N,
  credential_uid: S,
  groups: A,
  account: ACCOUNT,
  org: { name: S, uid: S, ou_name: S },
};
const FILE: Tree = {
  name: S,
  path: S,
  type: S,
  type_id: N,
  size: N,
  uid: S,
  mime_type: S,
  parent_folder: S,
  hashes: A,
  created_time: T,
  modified_time: T,
};
const PROCESS: Tree = {
  name: S,
  pid: N,
  uid: S,
  cmd_line: S,
  created_time: T,
  file: FILE,
  user: USER,
  parent_process: { name: S, pid: N, uid: S, cmd_line: S, file: FILE },
};
const SESSION: Tree = {
  uid: S,
  uuid: S,
  issuer: S,
  is_remote: B,
  credential_uid: S,
  created_time: T,
  expiration_time: T,
};
const ENDPOINT: Tree = {
  ip: S,
  port: N,
  hostname: S,
  name: S,
  uid: S,
  domain: S,
  mac: S,
  instance_uid: S,
  interface_name: S,
  svc_name: S,
  subnet_uid: S,
  vpc_uid: S,
  zone: S,
  type: S,
  type_id: N,
  intermediate_ips: A,
  location: LOCATION,
  os: OS,
};
const URL_: Tree = {
  url_string: S,
  scheme: S,
  hostname: S,
  domain: S,
  subdomain: S,
  port: N,
  path: S,
  query_string: S,
  resource_type: S,
  categories: A,
  category_ids: A,
};
const DEVICE: Tree = {
  hostname: S,
  ip: S,
  name: S,
  uid: S,
  type: S,
  type_id: N,
  domain: S,
  region: S,
  instance_uid: S,
  mac: S,
  os: OS,
  location: LOCATION,
};

/** Known OCSF attributes (a practical subset of the schema's base event, objects and common classes). */
const OCSF: Tree = {
  time: T,
  time_dt: S,
  start_time: T,
  end_time: T,
  duration: N,
  count: N,
  timezone_offset: N,
  class_uid: N,
  class_name: S,
  category_uid: N,
  category_name: S,
  activity_id: N,
  activity_name: S,
  type_uid: N,
  type_name: S,
  severity_id: N,
  severity: S,
  status_id: N,
  status: S,
  status_code: S,
  status_detail: S,
  message: S,
  raw_data: S,
  confidence_id: N,
  confidence: S,
  risk_score: N,
  risk_level_id: N,
  risk_level: S,
  disposition_id: N,
  disposition: S,
  action_id: N,
  action: S,
  auth_protocol_id: N,
  auth_protocol: S,
  logon_type_id: N,
  logon_type: S,
  is_mfa: B,
  is_remote: B,
  is_cleartext: B,
  is_new_logon: B,
  rcode_id: N,
  rcode: S,
  observables: A,
  enrichments: A,
  resources: A,
  attacks: A,
  answers: A,
  unmapped: 'object',
  metadata: {
    uid: S,
    version: S,
    log_name: S,
    log_provider: S,
    log_version: S,
    correlation_uid: S,
    event_code: S,
    original_time: S,
    logged_time: T,
    processed_time: T,
    sequence: N,
    tenant_uid: S,
    profiles: A,
    labels: A,
    product: { name: S, vendor_name: S, version: S, uid: S, lang: S },
  },
  actor: {
    user: USER,
    session: SESSION,
    process: PROCESS,
    app_name: S,
    app_uid: S,
    invoked_by: S,
    authorizations: A,
    idp: { name: S, uid: S },
  },
  user: USER,
  session: SESSION,
  src_endpoint: ENDPOINT,
  dst_endpoint: ENDPOINT,
  device: DEVICE,
  file: FILE,
  process: PROCESS,
  http_request: {
    http_method: S,
    url: URL_,
    user_agent: S,
    referrer: S,
    version: S,
    length: N,
    uid: S,
    args: S,
    x_forwarded_for: A,
    http_headers: A,
  },
  http_response: { code: N, status: S, message: S, length: N, content_type: S, latency: N },
  traffic: {
    bytes: N,
    bytes_in: N,
    bytes_out: N,
    packets: N,
    packets_in: N,
    packets_out: N,
  },
  connection_info: {
    uid: S,
    protocol_name: S,
    protocol_num: N,
    protocol_ver: S,
    protocol_ver_id: N,
    direction: S,
    direction_id: N,
    boundary: S,
    boundary_id: N,
    tcp_flags: N,
  },
  api: {
    operation: S,
    version: S,
    service: { name: S, uid: S, version: S },
    request: { uid: S },
    response: { code: N, error: S, error_message: S, message: S },
  },
  cloud: { provider: S, region: S, zone: S, account: ACCOUNT, project_uid: S },
  query: { hostname: S, type: S, class: S, uid: S, opcode: S, opcode_id: N },
  tls: { version: S, cipher: S, sni: S, ja3_hash: { value: S } },
  finding_info: { title: S, uid: S, desc: S, types: A, product_uid: S },
  service: { name: S, uid: S, version: S },
};

function collect(tree: Tree, prefix: string, out: Map<string, OcsfKind>): void {
  for (const name of Object.keys(tree)) {
    const path = prefix ? `${prefix}.${name}` : name;
    const v = tree[name]!;
    if (typeof v === 'string') out.set(path, v);
    else {
      out.set(path, 'object');
      collect(v, path, out);
    }
  }
}

const KINDS = new Map<string, OcsfKind>();
collect(OCSF, '', KINDS);

const UNDERSCORED = new Map<string, string>();
{
  const ambiguous = new Set<string>();
  for (const path of KINDS.keys()) {
    if (!path.includes('.')) continue;
    const flat = path.replaceAll('.', '_');
    if (KINDS.has(flat) || ambiguous.has(flat)) continue;
    if (UNDERSCORED.has(flat)) {
      UNDERSCORED.delete(flat);
      ambiguous.add(flat);
    } else UNDERSCORED.set(flat, path);
  }
}

/** The kind of a known OCSF path (`'actor.user.name'` → `'string'`), or undefined when the table lacks it. */
export function ocsfKind(path: string): OcsfKind | undefined {
  return KINDS.get(path);
}

/** Every known OCSF path with its kind, in table order. */
export function knownOcsfPaths(): ReadonlyMap<string, OcsfKind> {
  return KINDS;
}

/**
 * The dotted OCSF path for a column name. Names with dots are already paths; a name with
 * underscores maps to the one known path it spells (`actor_user_name` → `actor.user.name`,
 * `src_endpoint_ip` → `src_endpoint.ip`); top-level attributes (`class_uid`) and names that
 * are unknown or could spell two paths stay as they are.
 */
export function columnNameToPath(name: string): string {
  if (name.includes('.') || KINDS.has(name)) return name;
  return UNDERSCORED.get(name) ?? name;
}

/**
 * The already-flattened spelling (`actor_user_name`) that {@link columnNameToPath} maps onto
 * `path`, or undefined when there is none.
 */
export function underscoredName(path: string): string | undefined {
  const flat = path.replaceAll('.', '_');
  return UNDERSCORED.get(flat) === path ? flat : undefined;
}

/** True when `name` is the underscore spelling of a known nested OCSF path (`src_endpoint_ip`). */
export function isUnderscoredPath(name: string): boolean {
  return UNDERSCORED.has(name);
}
