// Fuzzing the event pipeline: a seeded generator of malformed records (truncation, bad bytes, wrong types
// at every OCSF path, extreme numbers, depth and width bombs, duplicate keys, non-objects, line-ending
// variants) runs through read → fit → encode → model → score. Invariants: nothing throws, memory stays
// bounded, every line is kept or rejected with a reason, and no NaN/Infinity leaves as an input, an
// embedding or a score.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { flattenRecord } from '../../src/data/flatten.ts';
import { generate } from '../../src/data/generate/index.ts';
import { readEventBatches } from '../../src/data/readers.node.ts';
import type { Reject } from '../../src/data/records.ts';
import { encodeDataset } from '../../src/dataset/dataset.ts';
import { mulberry32, type Random } from '../../src/detect/random.ts';
import { checkRecord, MAX_SCALED_MAGNITUDE } from '../../src/features/encode.ts';
import { fitSpec } from '../../src/features/fit.ts';
import { LoadedModel } from '../../src/run/model.node.ts';
import { makeRunFixture, type RunFixture } from '../helpers/run-fixture.ts';

const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const EXTREMES = [1e307, -1.7e308, 1.7976931348623157e308, 5e-324, -0, 2 ** 53 + 1, 1e30, -1e300, 0];
const EXTREME_TOKENS = ['1e999', '-1e999', 'NaN', 'Infinity', '-Infinity', '1e-999', '0e0', '-0.0'];
const WRONG_VALUES: unknown[] = [
  'text',
  '',
  '12abc',
  true,
  false,
  null,
  [],
  [1, 'a', null],
  {},
  { nested: { x: 1 } },
  'x'.repeat(300),
  -1,
  3.5,
  ...EXTREMES,
];

/** Sets `path` (dotted, `[0]` for first elements) in a copy of `event` to `value`. */
function setPath(event: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(event);
  const segs = path.replace(/\[0\]/g, '.0').split('.');
  let o: Record<string, unknown> = copy;
  for (let i = 0; i < segs.length - 1; i++) {
    const next = o[segs[i]!];
    if (next === null || typeof next !== 'object') return copy;
    o = next as Record<string, unknown>;
  }
  o[segs.at(-1)!] = value;
  return copy;
}

/** JSON text of a value nested `depth` levels deep (built as text: JSON.stringify would overflow the stack). */
function nested(depth: number, arrays: boolean): string {
  return arrays
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"d":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** One malformed line (as bytes) made from a real event. */
function mutate(r: Random, event: Record<string, unknown>): { kind: string; bytes: Buffer } {
  const paths = Object.keys(flattenRecord(event));
  const text = (v: unknown) => Buffer.from(JSON.stringify(v));
  const kind = pick(r, [
    'truncate',
    'bad-bytes',
    'wrong-type',
    'extreme-number',
    'extreme-token',
    'deep-object',
    'deep-array',
    'wide',
    'duplicate-key',
    'not-an-object',
    'control-chars',
  ]);
  switch (kind) {
    case 'truncate': {
      const s = JSON.stringify(event);
      return { kind, bytes: Buffer.from(s.slice(0, Math.floor(r() * s.length))) };
    }
    case 'bad-bytes': {
      const b = Buffer.from(JSON.stringify(event));
      const at = Math.floor(r() * b.length);
      const junk = Buffer.from([
        pick(r, [0xff, 0xfe, 0xc3, 0x80, 0xed, 0xa0, 0x00, 0xf8]),
        0x80 + Math.floor(r() * 64),
      ]);
      return { kind, bytes: Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]) };
    }
    case 'wrong-type':
      return { kind, bytes: text(setPath(event, pick(r, paths), pick(r, WRONG_VALUES))) };
    case 'extreme-number':
      return { kind, bytes: text(setPath(event, pick(r, paths), pick(r, EXTREMES))) };
    case 'extreme-token': {
      const path = pick(r, paths.filter((p) => typeof flattenRecord(event)[p] === 'number').concat('time'));
      const marker = '"__X__"';
      const s = JSON.stringify(setPath(event, path, '__X__')).replace(marker, pick(r, EXTREME_TOKENS));
      return { kind, bytes: Buffer.from(s) };
    }
    case 'deep-object':
    case 'deep-array': {
      const depth = pick(r, [20, 40, 200, 2000, 20000]);
      const s = JSON.stringify(setPath(event, pick(r, paths), '__X__'));
      return { kind, bytes: Buffer.from(s.replace('"__X__"', nested(depth, kind === 'deep-array'))) };
    }
    case 'wide': {
      const n = pick(r, [50, 2000, 12000]);
      const wide: Record<string, number> = {};
      for (let i = 0; i < n; i++) wide[`k${i}`] = i;
      return { kind, bytes: text({ ...event, unmapped: wide, [`w${Math.floor(r() * 1e6)}`]: wide }) };
    }
    case 'duplicate-key': {
      const path = pick(r, paths);
      const top = path.split(/[.[]/)[0]!;
      const dup = `,${JSON.stringify(top)}:${JSON.stringify(pick(r, WRONG_VALUES))}}`;
      const s = JSON.stringify(event);
      return { kind, bytes: Buffer.from(s.slice(0, -1) + dup) };
    }
    case 'not-an-object':
      return { kind, bytes: text(pick(r, [[event], 'event', 42, null, true, [1, 2]])) };
    default: {
      const s = JSON.stringify(event);
      const at = Math.floor(r() * s.length);
      return { kind, bytes: Buffer.from(`${s.slice(0, at)}\u0001\u0007${s.slice(at)}`) };
    }
  }
}

const EOLS = ['\n', '\r\n', '\r'];

/** A file of `n` lines: mostly malformed, some clean, with a line-ending style and an optional BOM. */
function makeFile(r: Random, events: Record<string, unknown>[], n: number) {
  const style = pick(r, ['lf', 'crlf', 'cr', 'mixed']);
  const parts: Buffer[] = [];
  if (r() < 0.2) parts.push(Buffer.from('\ufeff'));
  let bad = 0;
  let lines = 0;
  const kinds = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const event = pick(r, events);
    let line: Buffer;
    if (r() < 0.1) line = Buffer.from(JSON.stringify(event));
    else {
      const m = mutate(r, event);
      line = m.bytes;
      bad++;
      kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    }
    // A line is counted when its text is not blank; blank lines are skipped by design.
    const eol = style === 'lf' ? '\n' : style === 'crlf' ? '\r\n' : style === 'cr' ? '\r' : pick(r, EOLS);
    parts.push(line, Buffer.from(i === n - 1 && r() < 0.5 ? '' : eol));
    if (line.toString('utf8').trim().length > 0) lines++;
  }
  return { bytes: Buffer.concat(parts), bad, lines, kinds, style };
}

function assertFinite(xs: ArrayLike<number>, what: string, bound = Number.POSITIVE_INFINITY): void {
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!Number.isFinite(x) || Math.abs(x) > bound) assert.fail(`${what}[${i}] = ${x}`);
  }
}

let run: RunFixture;
let model: LoadedModel;
let dir: string;
before(async () => {
  run = makeRunFixture({ prefix: 'ocsf-embed-run-', events: 600, seed: 11, batchSize: 128 });
  model = await LoadedModel.open(run.runDir, { device: 'cpu', threads: 1 });
  dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-fuzz-'));
});
after(async () => {
  await model?.release();
  if (run) rmSync(run.dir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ROUNDS = 5;
const LINES_PER_ROUND = 2300;

test(`${ROUNDS} rounds of ${LINES_PER_ROUND} malformed lines: read → fit → encode → model → score keep every invariant`, async () => {
  const events = generate({ events: 400, seed: 17 }).events as unknown as Record<string, unknown>[];
  let totalBad = 0;
  const allKinds = new Map<string, number>();
  const styles = new Set<string>();
  for (let round = 0; round < ROUNDS; round++) {
    const seed = 1000 + round;
    const r = mulberry32(seed); // every failure replays from its seed
    const file = makeFile(r, events, LINES_PER_ROUND);
    totalBad += file.bad;
    styles.add(file.style);
    for (const [k, v] of file.kinds) allKinds.set(k, (allKinds.get(k) ?? 0) + v);
    const path = join(dir, `round-${round}.jsonl`);
    writeFileSync(path, file.bytes);

    // Read: every non-blank line is kept or rejected with a reason and a detail.
    const kept: object[] = [];
    const rejects: Reject[] = [];
    for await (const b of readEventBatches([path], { onReject: (x) => rejects.push(x) }))
      kept.push(...b.records);
    for (const x of rejects) {
      assert.ok(x.reason && x.detail, `seed ${seed}: reject without a reason: ${JSON.stringify(x)}`);
    }
    assert.equal(
      kept.length + rejects.length,
      file.lines,
      `seed ${seed} (${file.style}): lines not accounted for`,
    );

    // Fit on what was kept (malformed-but-parsable records included), then check, encode, embed, score.
    const spec = fitSpec(kept);
    for (const f of spec.numerical) assert.ok(Number.isFinite(f.mean) && Number.isFinite(f.std), f.name);
    const fitting = kept.filter((e) => checkRecord(spec, e) === null);
    const ds = encodeDataset(spec, fitting);
    assertFinite(ds.numerical, `seed ${seed}: encoded input`, MAX_SCALED_MAGNITUDE);

    const scorable = kept.filter((e) => checkRecord(model.embedder.spec, e) === null);
    assert.ok(scorable.length > 0, `seed ${seed}: something to score`);
    const emb = await model.embed(scorable);
    assertFinite(emb, `seed ${seed}: embedding`);
    const scored = await model.score(scorable);
    assertFinite(scored.scores, `seed ${seed}: score`);
    assert.equal(scored.scores.length, scorable.length);

    const heap = process.memoryUsage().heapUsed;
    assert.ok(heap < 1.5 * 2 ** 30, `seed ${seed}: heap ${Math.round(heap / 2 ** 20)} MiB`);
  }
  assert.ok(totalBad >= 10_000, `only ${totalBad} bad records generated`);
  assert.equal(allKinds.size, 11, `every kind of damage was made: ${[...allKinds.keys()]}`);
  assert.ok(styles.size >= 3, `line-ending styles: ${[...styles]}`);
});
