// Log templates for free text and URL-path templates: variable parts (numbers, hex ids, UUIDs,
// IPs, quoted values, ids inside paths) are masked so that similar messages share one category.

const CACHE_LIMIT = 8192;
const logCache = new Map<string, string>();
const urlCache = new Map<string, string>();

function cached(cache: Map<string, string>, s: string, f: (s: string) => string): string {
  const hit = cache.get(s);
  if (hit !== undefined) return hit;
  const t = f(s);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(s, t);
  return t;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
}

function isLetter(c: number): boolean {
  return (c | 32) >= 97 && (c | 32) <= 122;
}

/** Word delimiters of the log tokenizer: whitespace and `,;()[]{}<>="'|`. */
function isDelimiter(c: number): boolean {
  switch (c) {
    case 32:
    case 9:
    case 10:
    case 13:
    case 44:
    case 59:
    case 40:
    case 41:
    case 91:
    case 93:
    case 123:
    case 125:
    case 60:
    case 62:
    case 61:
    case 34:
    case 39:
    case 124:
      return true;
    default:
      return false;
  }
}

function isUuid(s: string, a: number, b: number): boolean {
  if (b - a !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(a + i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!isHex(c)) return false;
  }
  return true;
}

/** IPv4 with an optional `:port` or `/prefix`. */
function isIpv4(s: string, a: number, b: number): boolean {
  let i = a;
  for (let group = 0; group < 4; group++) {
    const start = i;
    while (i < b && isDigit(s.charCodeAt(i))) i++;
    if (i === start || i - start > 3) return false;
    if (group < 3) {
      if (i >= b || s.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  if (i === b) return true;
  const c = s.charCodeAt(i);
  if (c !== 58 && c !== 47) return false;
  i++;
  const start = i;
  while (i < b && isDigit(s.charCodeAt(i))) i++;
  return i === b && i > start;
}

/** IPv6: hex groups with at least two colons and either a hex letter or `::`. */
function isIpv6(s: string, a: number, b: number): boolean {
  let colons = 0;
  let letters = false;
  let double = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      colons++;
      if (i > a && s.charCodeAt(i - 1) === 58) double = true;
    } else if (!isHex(c) && c !== 46) return false;
    else if (!isDigit(c) && c !== 46) letters = true;
  }
  return colons >= 2 && (letters || double);
}

/** Hex ids: `0x…`, or at least 8 hex digits with at least one digit and one letter. */
function isHexId(s: string, a: number, b: number): boolean {
  if (b - a > 2 && s.charCodeAt(a) === 48 && (s.charCodeAt(a + 1) | 32) === 120) {
    for (let i = a + 2; i < b; i++) if (!isHex(s.charCodeAt(i))) return false;
    return true;
  }
  if (b - a < 8) return false;
  let letter = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (!isHex(c)) return false;
    if (!isDigit(c)) letter = true;
  }
  return letter;
}

/** Long tokens (16+ characters) that mix letters and digits: keys, tokens, base64 ids. */
function isLongId(s: string, a: number, b: number): boolean {
  if (b - a < 16) return false;
  let letter = false;
  for (let i = a; i < b; i++) if (isLetter(s.charCodeAt(i))) letter = true;
  return letter;
}

function maskDigits(s: string, a: number, b: number): string {
  let out = '';
  let i = a;
  let last = a;
  while (i < b) {
    if (!isDigit(s.charCodeAt(i))) {
      i++;
      continue;
    }
    out += s.slice(last, i);
    while (i < b) {
      while (i < b && isDigit(s.charCodeAt(i))) i++;
      const c = s.charCodeAt(i);
      if (i + 1 < b && (c === 46 || c === 44) && isDigit(s.charCodeAt(i + 1))) i++;
      else break;
    }
    out += '<num>';
    last = i;
  }
  return out + s.slice(last, b);
}

function maskWord(s: string, a: number, b: number): string {
  if (a >= b) return '';
  let end = b;
  while (end > a) {
    const c = s.charCodeAt(end - 1);
    if (c === 46 || c === 58 || c === 33 || c === 63) end--;
    else break;
  }
  let digit = false;
  for (let i = a; i < end; i++) {
    if (isDigit(s.charCodeAt(i))) {
      digit = true;
      break;
    }
  }
  if (!digit) return s.slice(a, b);
  let cut = -1;
  for (let i = a; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 47 || c === 63 || c === 38) {
      cut = i;
      break;
    }
  }
  if (cut >= 0) {
    return `${maskWord(s, a, cut)}${s[cut]}${cut + 1 < end ? maskWord(s, cut + 1, end) : ''}${s.slice(end, b)}`;
  }
  let masked: string;
  if (isUuid(s, a, end)) masked = '<uuid>';
  else if (isIpv4(s, a, end) || isIpv6(s, a, end)) masked = '<ip>';
  else if (isHexId(s, a, end)) masked = '<hex>';
  else if (isLongId(s, a, end)) masked = '<id>';
  else masked = maskDigits(s, a, end);
  return end === b ? masked : masked + s.slice(end, b);
}

function hasDigit(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (isDigit(s.charCodeAt(i))) return true;
  return false;
}

/** The template, built from the unchanged runs of `s` and the masked parts between them. */
function buildLogTemplate(s: string): string {
  let out = '';
  let kept = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 39) {
      const prev = i === 0 ? 32 : s.charCodeAt(i - 1);
      if (isDelimiter(prev) || prev === 58) {
        const j = s.indexOf(c === 34 ? '"' : "'", i + 1);
        if (j > i && (j + 1 === n || isDelimiter(s.charCodeAt(j + 1)) || !isLetter(s.charCodeAt(j + 1)))) {
          out += s.slice(kept, i) + (c === 34 ? '"<*>"' : "'<*>'");
          i = j + 1;
          kept = i;
          continue;
        }
      }
      i++;
      continue;
    }
    if (isDelimiter(c)) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && !isDelimiter(s.charCodeAt(i))) i++;
    // A word without digits is kept as it is (maskWord would return it unchanged).
    if (hasDigit(s, start, i)) {
      out += s.slice(kept, start) + maskWord(s, start, i);
      kept = i;
    }
  }
  return kept === 0 ? s : out + s.slice(kept);
}

/**
 * The log template of a free-text message. Words are split at whitespace and `,;()[]{}<>="'|`;
 * a word is masked as `<uuid>`, `<ip>` (IPv4 with optional port or prefix, IPv6), `<hex>`
 * (`0x…` or 8+ hex digits with a letter) or `<id>` (16+ characters with letters and digits);
 * otherwise each number in it becomes `<num>` (`3456ms` → `<num>ms`, `v1.2` → `v<num>`).
 * Quoted values become `"<*>"` / `'<*>'`. Words without digits are kept as they are.
 * `"Slow checkout processing: 3456ms"` → `"Slow checkout processing: <num>ms"`.
 */
export function logTemplate(s: string): string {
  return cached(logCache, s, buildLogTemplate);
}

function isIdSegment(s: string, a: number, b: number): boolean {
  const len = b - a;
  if (len === 0) return false;
  let digits = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 64) return true;
  }
  if (digits === 0) return false;
  if (digits === len) return true;
  return isUuid(s, a, b) || isHexId(s, a, b) || len >= 10 || isIpv4(s, a, b);
}

function buildUrlTemplate(s: string): string {
  let end = s.length;
  const q = s.indexOf('?');
  if (q >= 0) end = q;
  const h = s.indexOf('#');
  if (h >= 0 && h < end) end = h;
  let start = 0;
  let out = '';
  const scheme = s.indexOf('://');
  if (scheme > 0 && scheme < end) {
    const slash = s.indexOf('/', scheme + 3);
    const hostEnd = slash < 0 || slash > end ? end : slash;
    out = s.slice(0, hostEnd);
    start = hostEnd;
  }
  let i = start;
  while (i < end) {
    let j = s.indexOf('/', i);
    if (j < 0 || j > end) j = end;
    out += isIdSegment(s, i, j) ? '{id}' : s.slice(i, j);
    if (j < end) out += '/';
    i = j + 1;
  }
  return out;
}

/**
 * The template of a URL or URL path: the query string and fragment are dropped, scheme and host
 * are kept, and each path segment that looks like an id becomes `{id}`: all digits, a UUID, a
 * hex id, an IPv4 address, anything with `@`, or 10+ characters holding a digit.
 * `/api/orders/83421?x=1` → `/api/orders/{id}`; `/api/v1/users` stays as it is.
 */
export function urlTemplate(s: string): string {
  return cached(urlCache, s, buildUrlTemplate);
}
