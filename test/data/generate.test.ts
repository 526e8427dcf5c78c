// Tests of the synthetic OCSF generator: determinism, schema, labels, anomaly rate, writers and CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { type GenerateArgs, validateGenerateArgs } from '../../src/cli/commands/generate.ts';
import { UserError } from '../../src/core/errors.ts';
import {
  CLASSES,
  DEFAULT_START,
  generate,
  generateEvents,
  type Label,
  type OcsfEvent,
  SCENARIOS,
} from '../../src/data/generate/index.ts';
import { EVENT_COLUMNS, writeGenerated } from '../../src/data/generate-writer.ts';

const run = promisify(execFile);
let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ocsf-gen-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

const sample = generate({ events: 20000, seed: 7 });

describe('determinism', () => {
  test('same seed and options give byte-identical files; another seed differs', async () => {
    const paths = ['a', 'b', 'c'].map(
      (n) => [join(dir, `${n}.jsonl`), join(dir, `${n}.labels.jsonl`)] as const,
    );
    await writeGenerated({ events: 3000, seed: 3, out: paths[0]![0], labels: paths[0]![1] });
    await writeGenerated({ events: 3000, seed: 3, out: paths[1]![0], labels: paths[1]![1] });
    await writeGenerated({ events: 3000, seed: 4, out: paths[2]![0], labels: paths[2]![1] });
    const read = (p: string) => readFileSync(p);
    assert.ok(read(paths[0]![0]).equals(read(paths[1]![0])), 'events differ between identical runs');
    assert.ok(read(paths[0]![1]).equals(read(paths[1]![1])), 'labels differ between identical runs');
    assert.ok(!read(paths[0]![0]).equals(read(paths[2]![0])), 'a different seed gave the same events');
  });

  test('Parquet output is byte-identical too', async () => {
    const a = join(dir, 'd1.parquet');
    const b = join(dir, 'd2.parquet');
    await writeGenerated({ events: 1500, seed: 5, out: a });
    await writeGenerated({ events: 1500, seed: 5, out: b });
    assert.ok(readFileSync(a).equals(readFileSync(b)));
  });

  test('a later window of the same world shares its users and hosts; another world does not', () => {
    const names = (o: { seed: number; worldSeed?: number; start?: string }) =>
      new Set(
        generate({ events: 3000, ...o })
          .events.map((e) => {
            const x = e as { actor?: { user?: { name?: string } }; device?: { hostname?: string } };
            return x.actor?.user?.name ?? x.device?.hostname;
          })
          .filter((n) => n !== undefined),
      );
    const first = names({ seed: 1 });
    const nextDay = '2026-01-06T00:00:00Z';
    const share = (s: Set<string>) => [...s].filter((n) => first.has(n)).length / s.size;
    const sameWorld = share(names({ seed: 2, worldSeed: 1, start: nextDay }));
    const otherWorld = share(names({ seed: 2, start: nextDay }));
    assert.ok(sameWorld > 0.7, `only ${sameWorld} of the next day's names were seen on the first`);
    assert.ok(otherWorld < 0.4, `${otherWorld} of another world's names were seen on the first`);
    assert.throws(() => generate({ events: 10, seed: 1, worldSeed: -1 }), /worldSeed must be/);
  });

  test('streams lazily', () => {
    const it = generateEvents({ events: 1_000_000_000, seed: 1 });
    const first = it.next();
    assert.equal(first.done, false);
    it.return(undefined);
  });
});

describe('OCSF schema', () => {
  const byClass = new Map<number, OcsfEvent[]>();
  for (const e of sample.events) {
    const list = byClass.get(e.class_uid) ?? [];
    list.push(e);
    byClass.set(e.class_uid, list);
  }

  test('every class is produced', () => {
    for (const c of Object.values(CLASSES))
      assert.ok((byClass.get(c.class_uid)?.length ?? 0) > 100, c.class_name);
  });

  test('base fields are present and consistent', () => {
    const start = Date.parse(DEFAULT_START);
    const uids = new Set<string>();
    let previous = 0;
    for (const e of sample.events) {
      const c = Object.values(CLASSES).find((k) => k.class_uid === e.class_uid);
      assert.ok(c, `unknown class ${e.class_uid}`);
      assert.equal(e.category_uid, c.category_uid);
      assert.equal(e.category_name, c.category_name);
      assert.equal(e.class_name, c.class_name);
      assert.equal(e.type_uid, e.class_uid * 100 + e.activity_id);
      assert.equal(e.activity_name, (c.activities as Record<number, string>)[e.activity_id]);
      assert.equal(e.type_name, `${e.class_name}: ${e.activity_name}`);
      assert.ok([1, 2, 3, 4, 5, 6].includes(e.severity_id));
      assert.ok([1, 2].includes(e.status_id));
      assert.equal(typeof e.severity, 'string');
      assert.equal(typeof e.status, 'string');
      assert.ok(Number.isInteger(e.time) && e.time >= start && e.time < start + 24 * 3600000);
      assert.ok(e.time >= previous, 'events are not sorted by time');
      previous = e.time;
      assert.match(e.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(!uids.has(e.metadata.uid), 'duplicate uid');
      uids.add(e.metadata.uid);
      assert.equal(e.metadata.version, '1.3.0');
      for (const k of ['name', 'vendor_name', 'version'] as const)
        assert.equal(typeof e.metadata.product[k], 'string');
      if (e.duration !== undefined) assert.ok(Number.isInteger(e.duration) && e.duration >= 0);
      if (e.message !== undefined) assert.equal(typeof e.message, 'string');
    }
  });

  const required: Record<number, string[]> = {
    4002: [
      'http_request.http_method',
      'http_request.url.path',
      'http_request.url.hostname',
      'http_response.code',
      'src_endpoint.ip',
      'dst_endpoint.ip',
      'dst_endpoint.port',
      'traffic.bytes_in',
      'traffic.bytes_out',
      'message',
    ],
    6003: [
      'actor.user.name',
      'api.operation',
      'api.service.name',
      'api.request.uid',
      'src_endpoint.ip',
      'message',
    ],
    3002: [
      'user.name',
      'actor.user.name',
      'src_endpoint.ip',
      'dst_endpoint.hostname',
      'service.name',
      'auth_protocol_id',
    ],
    4001: [
      'src_endpoint.ip',
      'dst_endpoint.ip',
      'dst_endpoint.port',
      'connection_info.protocol_name',
      'traffic.bytes_out',
    ],
    1007: [
      'device.hostname',
      'actor.user.name',
      'process.pid',
      'process.name',
      'process.cmd_line',
      'message',
    ],
  };
  for (const [cls, paths] of Object.entries(required)) {
    test(`class ${cls} carries its fields`, () => {
      for (const e of byClass.get(Number(cls)) ?? []) {
        for (const p of paths) assert.notEqual(get(e, p), undefined, `${p} missing in ${JSON.stringify(e)}`);
      }
    });
  }

  test('HTTP activity ids follow the method', () => {
    const ids: Record<string, number> = { GET: 3, POST: 6, PUT: 7, DELETE: 2 };
    for (const e of byClass.get(4002) ?? [])
      assert.equal(e.activity_id, ids[get(e, 'http_request.http_method') as string]);
  });

  test('optional fields are sometimes missing, as collectors leave them', () => {
    const http = byClass.get(4002) ?? [];
    const noAgent = http.filter((e) => get(e, 'http_request.user_agent') === undefined).length;
    const noDuration = http.filter((e) => e.duration === undefined).length;
    assert.ok(noAgent > 0 && noAgent < http.length * 0.2);
    assert.ok(noDuration > 0 && noDuration < http.length * 0.2);
    assert.ok(
      http.some((e) => /\/\d{3,}/.test(get(e, 'http_request.url.path') as string)),
      'no ids inside paths',
    );
    assert.ok(
      sample.events.some((e) => /\d+ms/.test(e.message ?? '')),
      'no numbers inside messages',
    );
  });
});

describe('labels', () => {
  test('one label per event, joined by uid', () => {
    assert.equal(sample.labels.length, sample.events.length);
    for (const [i, l] of sample.labels.entries()) {
      assert.equal(l.uid, sample.events[i]!.metadata.uid);
      assert.deepEqual(Object.keys(l), ['uid', 'is_anomaly', 'scenario']);
      assert.equal(l.is_anomaly, l.scenario !== null);
    }
  });

  test('anomaly rate matches the option', () => {
    for (const rate of [0, 0.005, 0.02, 0.1]) {
      const { labels } = generate({ events: 8000, seed: 11, anomalyRate: rate });
      const share = labels.filter((l) => l.is_anomaly).length / labels.length;
      assert.ok(Math.abs(share - rate) <= 0.0005, `rate ${rate} gave ${share}`);
    }
    const share = sample.labels.filter((l) => l.is_anomaly).length / sample.labels.length;
    assert.ok(Math.abs(share - 0.02) <= 0.0005);
  });

  test('every scenario appears, bursts cluster in time', () => {
    const names = new Set(SCENARIOS.map((s) => s.name));
    assert.equal(names.size, SCENARIOS.length);
    for (const s of SCENARIOS) {
      const times = sample.events.filter((_, i) => sample.labels[i]!.scenario === s.name).map((e) => e.time);
      assert.ok(times.length > 0, `${s.name} missing`);
      assert.ok(s.revealedBy.length > 0 && s.description.length > 40);
      if (s.kind === 'burst') {
        const close = times.filter((t, i) => i > 0 && t - times[i - 1]! < 60000).length;
        assert.ok(close >= times.length / 2, `${s.name} events are not clustered`);
      }
    }
    for (const l of sample.labels) if (l.scenario !== null) assert.ok(names.has(l.scenario), l.scenario);
  });

  test('labels never appear inside events', () => {
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          assert.ok(k !== 'is_anomaly' && k !== 'scenario' && k !== 'label', `label key ${k} in an event`);
          walk(x);
        }
      }
    };
    sample.events.forEach(walk);
    const text = JSON.stringify(sample.events);
    for (const s of SCENARIOS) assert.ok(!text.includes(s.name), `scenario name ${s.name} leaks into events`);
  });

  test('docs/generator.md documents every scenario', () => {
    const doc = readFileSync(new URL('../../docs/generator.md', import.meta.url), 'utf8');
    for (const s of SCENARIOS) assert.ok(doc.includes(`\`${s.name}\``), `${s.name} not documented`);
  });
});

describe('writers', () => {
  test('JSONL (plain and gzipped) round-trips', async () => {
    const out = join(dir, 'w.jsonl.gz');
    const summary = await writeGenerated({ events: 2000, seed: 9, out });
    assert.equal(summary.labels, join(dir, 'w.labels.jsonl'));
    const lines = gunzipSync(readFileSync(out)).toString('utf8').trimEnd().split('\n');
    const expected = generate({ events: 2000, seed: 9 });
    assert.equal(lines.length, 2000);
    assert.deepEqual(JSON.parse(lines[123]!), expected.events[123]);
    const labels = readFileSync(summary.labels, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Label);
    assert.deepEqual(labels, expected.labels);
    assert.equal(summary.anomalies, expected.labels.filter((l) => l.is_anomaly).length);
  });

  test('Parquet is readable with hyparquet and holds the same events', async () => {
    const out = join(dir, 'p.parquet');
    const labelsPath = join(dir, 'p.labels.parquet');
    await writeGenerated({ events: 2500, seed: 2, out, labels: labelsPath });
    const file = (p: string) => {
      const b = readFileSync(p);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    };
    const rows = (await parquetReadObjects({ file: file(out) })) as Record<string, unknown>[];
    const expected = generate({ events: 2500, seed: 2 });
    assert.equal(rows.length, 2500);
    const json = new Set(EVENT_COLUMNS.filter((c) => c[1] === 'JSON').map((c) => c[0]));
    rows.forEach((row, i) => {
      const event: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) {
        if (v === null || v === undefined) continue;
        event[k] = typeof v === 'bigint' ? Number(v) : json.has(k) ? JSON.parse(v as string) : v;
      }
      assert.deepEqual(event, expected.events[i]);
    });
    const labels = (await parquetReadObjects({ file: file(labelsPath) })) as Label[];
    assert.deepEqual(
      labels.map((l) => ({ uid: l.uid, is_anomaly: l.is_anomaly, scenario: l.scenario ?? null })),
      expected.labels,
    );
  });

  test('72k events generate in a few seconds', (t) => {
    const t0 = performance.now();
    let n = 0;
    for (const _ of generateEvents({ events: 72000, seed: 1 })) n++;
    const s = (performance.now() - t0) / 1000;
    t.diagnostic(`generated ${n} events in ${s.toFixed(2)} s`);
  });
});

describe('CLI', () => {
  const args = (over: Partial<GenerateArgs>): GenerateArgs => ({
    events: 1000,
    seed: 1,
    out: join(dir, 'cli.jsonl'),
    start: DEFAULT_START,
    hours: 24,
    anomalyRate: 0.02,
    quiet: false,
    ...over,
  });

  test('bad values give fix-it messages', () => {
    const bad: [Partial<GenerateArgs>, RegExp][] = [
      [{ events: -5 }, /^--events must be a positive whole number, e\.g\. --events 72000$/],
      [{ events: 1.5 }, /--events must be a positive whole number/],
      [{ seed: -1 }, /--seed must be a whole number/],
      [{ worldSeed: 1.5 }, /--world-seed must be a whole number/],
      [{ hours: 0 }, /--hours must be/],
      [{ anomalyRate: 2 }, /--anomaly-rate 0\.02/],
      [{ start: 'yesterday' }, /--start must be an ISO 8601/],
      [{ out: join(dir, 'x.txt') }, /unknown file type/],
      [{ format: 'parquet' }, /does not match/],
      [{ out: join(dir, 'nope', 'x.jsonl') }, /does not exist/],
      [{ labels: join(dir, 'cli.jsonl') }, /--labels must differ/],
    ];
    for (const [over, message] of bad) {
      assert.throws(
        () => validateGenerateArgs(args(over)),
        (e: unknown) => e instanceof UserError && message.test(e.message),
      );
    }
    assert.deepEqual(validateGenerateArgs(args({})).labels, join(dir, 'cli.labels.jsonl'));
  });

  test('ocsf-embed generate writes files and a summary', async () => {
    const out = join(dir, 'x.jsonl');
    const labels = join(dir, 'l.jsonl');
    const { stdout } = await run(
      process.execPath,
      ['bin/ocsf-embed.js', 'generate', '--events', '1000', '--out', out, '--labels', labels],
      {
        cwd: new URL('../..', import.meta.url),
      },
    );
    assert.match(
      stdout,
      /^Wrote 1,000 events \(20 anomalous: db_timeout \d+, .*\) to .*x\.jsonl \[jsonl\], labels to .*l\.jsonl, in [\d.]+ s\n$/,
    );
    assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 1000);
    assert.equal(readFileSync(labels, 'utf8').trimEnd().split('\n').length, 1000);
  });
});
