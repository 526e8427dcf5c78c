// OCSF flattening: nested events to one level of dotted paths, and compiled getters that read
// one path from a nested, dotted-key or underscore-flattened record without flattening it.
import { columnNameToPath, isUnderscoredPath, underscoredName } from './ocsf-paths.ts';

/** A leaf value of a flattened record. */
export type FlatValue = string | number | boolean;

/**
 * Flattens an event into dotted OCSF paths.
 *
 * - Nested objects: `{actor: {user: {name: 'a'}}}` → `actor.user.name`.
 * - Arrays: `<path>.count` holds the length and the first element is flattened under
 *   `<path>[0]` (`observables[0].name`, `categories[0]`); other elements are not kept.
 *   An empty array gives only `<path>.count = 0`.
 * - Keys that already hold dots (`'actor.user.name'`) are taken as paths; top-level keys in
 *   underscore form map through the OCSF table (`actor_user_name` → `actor.user.name`).
 *   When a record holds one path in both forms, the nested form wins.
 * - null and undefined are left out (absent and null are the same); Dates become epoch ms;
 *   bigints become numbers when exact, else decimal strings; binary values are left out.
 */
export function flattenRecord(record: object): Record<string, FlatValue> {
  const out: Record<string, FlatValue> = {};
  const rec = record as Record<string, unknown>;
  for (const key in rec) {
    const path = columnNameToPath(key);
    put(rec[key], path, out, path !== key || key.includes('.'));
  }
  return out;
}

function setLeaf(out: Record<string, FlatValue>, path: string, v: FlatValue, flatForm: boolean): void {
  if (flatForm && out[path] !== undefined) return;
  out[path] = v;
}

function put(v: unknown, path: string, out: Record<string, FlatValue>, flatForm: boolean): void {
  if (v === null || v === undefined) return;
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      setLeaf(out, path, v, flatForm);
      return;
    case 'bigint':
      setLeaf(out, path, bigintValue(v), flatForm);
      return;
    case 'object':
      break;
    default:
      return;
  }
  if (Array.isArray(v)) {
    setLeaf(out, `${path}.count`, v.length, flatForm);
    if (v.length > 0) put(v[0], `${path}[0]`, out, flatForm);
    return;
  }
  if (v instanceof Date) {
    setLeaf(out, path, v.getTime(), flatForm);
    return;
  }
  if (ArrayBuffer.isView(v)) return;
  const o = v as Record<string, unknown>;
  for (const key in o) put(o[key], `${path}.${key}`, out, flatForm || key.includes('.'));
}

/** A bigint as a number when it is exact, else as its decimal string. */
export function bigintValue(v: bigint): number | string {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
}

/** Splits a flattened path into segments: `observables[0].name` → `['observables', '[0]', 'name']`. */
export function pathSegments(path: string): string[] {
  const segs: string[] = [];
  for (const part of path.split('.')) {
    let p = part;
    const tail: string[] = [];
    while (p.endsWith('[0]') && p.length > 3) {
      tail.push('[0]');
      p = p.slice(0, -3);
    }
    segs.push(p, ...tail);
  }
  return segs;
}

function joinSegments(segs: string[], from: number, to: number): string {
  let s = segs[from]!;
  for (let k = from + 1; k <= to; k++) s += segs[k] === '[0]' ? '[0]' : `.${segs[k]}`;
  return s;
}

/** Reads one flattened path from a record; undefined when absent or null. */
export type PathGetter = (record: object) => unknown;

/**
 * True when a record holds keys in flattened form at its top level: keys with dots
 * (`'actor.user.name'`) or underscore spellings of known OCSF paths (`actor_user_name`).
 * Records without them are read by a plain nested walk.
 */
export function hasFlatKeys(record: object): boolean {
  for (const k in record) {
    if (k.includes('.') || isUnderscoredPath(k)) return true;
  }
  return false;
}

/**
 * Compiles getters for one flattened path. `nested` walks nested objects only; `any` returns
 * what {@link flattenRecord} would hold at that path (before Date/bigint conversion), also
 * reading dotted keys at any level and the underscore spelling at the top level. For records
 * without flat keys at the top level ({@link hasFlatKeys}) the two agree except for dotted keys
 * nested below the top level.
 */
export function compilePathGetters(path: string): { nested: PathGetter; any: PathGetter } {
  const segs = pathSegments(path);
  const n = segs.length;
  const joined: string[][] = segs.map((_, i) => segs.map((_, j) => (j > i ? joinSegments(segs, i, j) : '')));
  const alias = underscoredName(path);

  const walk = (obj: unknown, i: number): unknown => {
    if (i === n) return obj;
    if (obj === null || typeof obj !== 'object') return undefined;
    const s = segs[i]!;
    let v: unknown;
    if (Array.isArray(obj)) {
      if (s === '[0]') v = obj[0];
      else return s === 'count' && i === n - 1 ? obj.length : undefined;
    } else v = (obj as Record<string, unknown>)[s];
    if (v !== undefined && v !== null) {
      const r = walk(v, i + 1);
      if (r !== undefined) return r;
    }
    const row = joined[i]!;
    for (let j = i + 1; j < n; j++) {
      const w = (obj as Record<string, unknown>)[row[j]!];
      if (w !== undefined && w !== null) {
        const r = walk(w, j + 1);
        if (r !== undefined) return r;
      }
    }
    return undefined;
  };

  const nested: PathGetter =
    n === 1
      ? (record) => {
          const v = (record as Record<string, unknown>)[path];
          return v === null ? undefined : v;
        }
      : (record) => {
          let o: unknown = record;
          for (let i = 0; i < n; i++) {
            if (o === null || typeof o !== 'object') return undefined;
            const s = segs[i]!;
            if (Array.isArray(o)) {
              if (s === '[0]') o = o[0];
              else return s === 'count' && i === n - 1 ? o.length : undefined;
            } else o = (o as Record<string, unknown>)[s];
          }
          return o === null ? undefined : o;
        };
  const any: PathGetter =
    n === 1 && alias === undefined
      ? nested
      : (record) => {
          const r = walk(record, 0);
          if (r !== undefined || alias === undefined) return r;
          const w = (record as Record<string, unknown>)[alias];
          return w === null ? undefined : walk(w, n);
        };
  return { nested, any };
}

/** A getter for one flattened path that handles nested, dotted-key and underscore forms (see {@link compilePathGetters}). */
export function compilePathGetter(path: string): PathGetter {
  const { nested, any } = compilePathGetters(path);
  return (record) => (hasFlatKeys(record) ? any(record) : nested(record));
}

interface TrieNode {
  /** The segment this node reads from its parent (`[0]` and `count` included). */
  key: string;
  /** Slots of the paths that end here. */
  slots: number[];
  /** Children, in the order the paths first named them. */
  kids: TrieNode[];
  /** The `count` and `[0]` children, which are what an array gives. */
  count: TrieNode | null;
  first: TrieNode | null;
  /** The key names a property that objects inherit (`constructor`, `toString`): read it only when own. */
  inherited: boolean;
}

/** Property names a plain object or a Date inherits, which a direct read would find on a record that lacks them. */
const INHERITED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Date.prototype),
]);

const ownEnumerable = Object.prototype.propertyIsEnumerable;

/** Most distinct top-level keys {@link compileNestedReader} remembers (records with random keys stay bounded). */
const TOP_KEY_MEMO = 4096;

/**
 * Compiles a reader of many paths at once. `read(record, out)` returns false, having read nothing
 * useful, when the record holds flat keys at its top level ({@link hasFlatKeys}: read those with
 * {@link compilePathGetters}' `any`); otherwise it sets `out[i]` to what
 * `compilePathGetters(paths[i]).nested` returns for each path that is an own property chain of the
 * record (undefined for the others) and returns true. The top level is walked once, key by key, which
 * both finds flat keys and the paths' first segments; below it each object is read only at the keys
 * the paths name, so absent fields and fields no path reads cost nothing.
 */
export function compileNestedReader(paths: readonly string[]): (record: object, out: unknown[]) => boolean {
  const node = (key: string): TrieNode => ({
    key,
    slots: [],
    kids: [],
    count: null,
    first: null,
    inherited: INHERITED.has(key),
  });
  const root = node('');
  paths.forEach((path, slot) => {
    let at = root;
    for (const seg of pathSegments(path)) {
      let child = at.kids.find((k) => k.key === seg);
      if (!child) {
        child = node(seg);
        at.kids.push(child);
        if (seg === 'count') at.count = child;
        else if (seg === '[0]') at.first = child;
      }
      at = child;
    }
    at.slots.push(slot);
  });
  const put = (v: unknown, at: TrieNode, out: unknown[]): void => {
    if (v === null || v === undefined) return;
    const slots = at.slots;
    for (let k = 0; k < slots.length; k++) out[slots[k]!] = v;
    if (at.kids.length > 0 && typeof v === 'object') walk(v as object, at, out);
  };
  const walk = (obj: object, at: TrieNode, out: unknown[]): void => {
    if (Array.isArray(obj)) {
      if (at.count !== null) {
        const slots = at.count.slots;
        for (let k = 0; k < slots.length; k++) out[slots[k]!] = obj.length;
      }
      if (at.first !== null && obj.length > 0) put(obj[0], at.first, out);
      return;
    }
    const o = obj as Record<string, unknown>;
    const kids = at.kids;
    for (let i = 0; i < kids.length; i++) {
      const kid = kids[i]!;
      const key = kid.key;
      if (kid.inherited && !ownEnumerable.call(o, key)) continue;
      put(o[key], kid, out);
    }
  };
  /** Per top-level key seen: its trie node (or null) and whether it makes the record flat. */
  const top = new Map<string, { node: TrieNode | null; flat: boolean }>();
  const heads = new Map(root.kids.map((k) => [k.key, k]));
  const topEntry = (key: string) => {
    let e = top.get(key);
    if (e === undefined) {
      e = { node: heads.get(key) ?? null, flat: key.includes('.') || isUnderscoredPath(key) };
      if (top.size < TOP_KEY_MEMO) top.set(key, e);
    }
    return e;
  };
  const n = paths.length;
  return (record, out) => {
    for (let i = 0; i < n; i++) out[i] = undefined;
    const r = record as Record<string, unknown>;
    for (const key in r) {
      const e = topEntry(key);
      if (e.flat) return false;
      if (e.node !== null) put(r[key], e.node, out);
    }
    return true;
  };
}
