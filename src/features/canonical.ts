// Canonical forms of raw values: one string per category (200, 200.0 and "200" agree; null,
// absent and "" are missing), numbers from mixed inputs, and the stable FNV-1a 32 hash.

/**
 * True when `s` is a plain decimal number literal without leading zeros or surrounding
 * space: `200`, `-3.5`, `1e3`, `0.25` (not `007`, `+1`, `.5`, `0x1f`, `1_000`).
 */
export function isNumericLiteral(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 32) return false;
  let i = 0;
  if (s.charCodeAt(0) === 45) i = 1;
  if (i >= n) return false;
  const first = s.charCodeAt(i);
  if (first < 48 || first > 57) return false;
  if (first === 48 && i + 1 < n) {
    const c = s.charCodeAt(i + 1);
    if (c >= 48 && c <= 57) return false;
  }
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  if (i < n && (s.charCodeAt(i) | 32) === 101) {
    i++;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const start = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === start) return false;
  }
  return i === n;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function numberKey(n: number): string {
  return n === 0 ? '0' : String(n);
}

/**
 * The canonical category string of a raw value, or null for missing.
 * Numbers use JavaScript's shortest round-trip form (`200`, `0.5`); numeric strings with at
 * most 15 significant digits are read as numbers first, so `"200"`, `"200.0"` and `200` are all
 * `"200"`; booleans are `"true"`/`"false"`; bigints their decimal digits; Dates ISO-8601 UTC.
 * null, undefined, `""`, NaN, ±Infinity and objects are missing (null). Strings longer than
 * `maxLength` are cut to `maxLength` UTF-16 code units.
 */
export function canonicalCategory(v: unknown, maxLength: number): string | null {
  switch (typeof v) {
    case 'string': {
      if (v.length === 0) return null;
      const c = v.charCodeAt(0);
      if (((c >= 48 && c <= 57) || c === 45) && v.length <= 16 && isNumericLiteral(v)) {
        const n = Number(v);
        if (Number.isFinite(n)) return numberKey(n);
      }
      return v.length > maxLength ? v.slice(0, maxLength) : v;
    }
    case 'number':
      return Number.isFinite(v) ? numberKey(v) : null;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'object':
      if (v instanceof Date) {
        const t = v.getTime();
        return Number.isFinite(t) ? v.toISOString() : null;
      }
      return null;
    default:
      return null;
  }
}

/** How a raw value reads as a number: a finite value, missing, or invalid (text, NaN, ±Infinity, objects). */
export type NumStatus = 'ok' | 'missing' | 'invalid';

/**
 * The number a raw value stands for, or NaN when it is missing or invalid. Numbers pass
 * through; numeric strings are parsed; booleans are 1/0; bigints and Dates (epoch ms) convert.
 */
export function toNumber(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : Number.NaN;
    case 'string':
      return isNumericLiteral(v) ? Number(v) : Number.NaN;
    case 'boolean':
      return v ? 1 : 0;
    case 'bigint':
      return Number(v);
    case 'object':
      return v instanceof Date ? v.getTime() : Number.NaN;
    default:
      return Number.NaN;
  }
}

/** Classifies a raw value for a numerical field (see {@link toNumber}). */
export function numberStatus(v: unknown): NumStatus {
  if (v === undefined || v === null || v === '') return 'missing';
  return Number.isFinite(toNumber(v)) ? 'ok' : 'invalid';
}

/**
 * FNV-1a 32-bit hash of the UTF-8 bytes of `s` (offset basis 2166136261, prime 16777619),
 * unsalted and identical on every runtime. Lone surrogates hash as U+FFFD.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return h >>> 0;
}

/** The bucket key of a hashed categorical value: `#` followed by `fnv1a32(value) % buckets`. */
export function hashBucketKey(value: string, buckets: number): string {
  return `#${fnv1a32(value) % buckets}`;
}
