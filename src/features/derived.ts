// Derived network and HTTP features (total bytes, bytes/s, upload ratio, default-port flag,
// user-agent presence and length) computed from the OCSF fields they need.

/** Ports that count as a service's default port for `dst_endpoint:is_default_port`. */
export const DEFAULT_PORTS: readonly number[] = [
  20, 21, 22, 23, 25, 53, 67, 68, 69, 80, 110, 123, 143, 161, 389, 443, 445, 465, 514, 587, 636, 993, 995,
  1433, 1521, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 9200, 27017,
];
const DEFAULT_PORT_SET = new Set(DEFAULT_PORTS);

/** The derived numerical features, each with the OCSF paths it reads. */
export const DERIVED = {
  'traffic:bytes_total': ['traffic.bytes_in', 'traffic.bytes_out', 'traffic.bytes'],
  'traffic:bytes_per_second': ['traffic.bytes_in', 'traffic.bytes_out', 'traffic.bytes', 'duration'],
  'traffic:upload_ratio': ['traffic.bytes_in', 'traffic.bytes_out'],
  'dst_endpoint:is_default_port': ['dst_endpoint.port'],
  'http_request:has_user_agent': ['http_request.user_agent'],
  'http_request:user_agent_length': ['http_request.user_agent'],
} as const;

/** The name of a derived feature. */
export type DerivedName = keyof typeof DERIVED;

/** Derived-feature names in their fixed order. */
export const DERIVED_NAMES = Object.keys(DERIVED) as DerivedName[];

/**
 * Paths whose presence in the fit sample turns a derived feature on: total bytes needs
 * bytes in, out or total; bytes/s also `duration`; upload ratio both directions; the port flag
 * `dst_endpoint.port`; the user-agent features any `http_request.*` field.
 */
export function derivedApplies(name: DerivedName, present: (path: string) => boolean): boolean {
  const bytes = present('traffic.bytes_in') || present('traffic.bytes_out') || present('traffic.bytes');
  switch (name) {
    case 'traffic:bytes_total':
      return bytes;
    case 'traffic:bytes_per_second':
      return bytes && present('duration');
    case 'traffic:upload_ratio':
      return present('traffic.bytes_in') && present('traffic.bytes_out');
    case 'dst_endpoint:is_default_port':
      return present('dst_endpoint.port');
    case 'http_request:has_user_agent':
    case 'http_request:user_agent_length':
      return present('http_request.*');
  }
}

function totalBytes(bytesIn: number, bytesOut: number, bytes: number): number {
  if (Number.isNaN(bytesIn) && Number.isNaN(bytesOut)) return bytes;
  return (Number.isNaN(bytesIn) ? 0 : bytesIn) + (Number.isNaN(bytesOut) ? 0 : bytesOut);
}

/**
 * Computes a derived feature from its inputs, given in the order of {@link DERIVED}
 * (numbers, NaN when missing; the user agent as a string or undefined). NaN means missing:
 * - total bytes = in + out (a missing side counts 0), or `traffic.bytes` when both are missing;
 * - bytes/s = total / (duration ms / 1000), missing unless duration > 0;
 * - upload ratio = out / (in + out), missing unless both exist and the sum is > 0;
 * - default port = 1 when `dst_endpoint.port` is in {@link DEFAULT_PORTS}, else 0;
 * - has user agent = 1 for a non-empty string, else 0 (never missing);
 * - user-agent length in UTF-16 units, missing when there is none.
 */
export function derivedValue(name: DerivedName, num: (i: number) => number, text: () => unknown): number {
  switch (name) {
    case 'traffic:bytes_total':
      return totalBytes(num(0), num(1), num(2));
    case 'traffic:bytes_per_second': {
      const d = num(3);
      const t = totalBytes(num(0), num(1), num(2));
      return d > 0 && !Number.isNaN(t) ? t / (d / 1000) : Number.NaN;
    }
    case 'traffic:upload_ratio': {
      const i = num(0);
      const o = num(1);
      const t = i + o;
      return t > 0 ? o / t : Number.NaN;
    }
    case 'dst_endpoint:is_default_port': {
      const p = num(0);
      return Number.isNaN(p) ? p : DEFAULT_PORT_SET.has(p) ? 1 : 0;
    }
    case 'http_request:has_user_agent': {
      const ua = text();
      return typeof ua === 'string' && ua.length > 0 ? 1 : 0;
    }
    case 'http_request:user_agent_length': {
      const ua = text();
      return typeof ua === 'string' && ua.length > 0 ? ua.length : Number.NaN;
    }
  }
}
