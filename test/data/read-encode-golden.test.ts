// Readers and encoder give, byte for byte, the records and encoded rows that the row-wise Parquet reader
// and the closure-per-feature encoder gave before them (digests recorded from those versions).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { streamEvents } from '../../src/dataset/load.node.ts';
import { encodeRecord, extractRaw, fitSpec, numNumericalFeatures } from '../../src/features/spec.ts';

const GOLDEN = {
  jsonl: '4a66bc6047132de18504cb7e9e76cfab61dcdbfbe13525bafdcd49029821e7a6',
  parquet: '95bb37110ecfb27fb58f695769fc7805873798dec4fcb9a51bef3a1e06a9682b',
  encoded: '586c2b420e0cbc0fcbf3bc76b15ca4ac62e58bfe95c7b226f53e0b61cfcab8c3',
  raw: 'b5d32513898d2c6d59c021dff4f8dbb1d66e54caca379da57b270591636c2b30',
};

test('12,000 generated events read and encode exactly as before (JSONL, two Parquet row groups, time, templates, hashing)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-golden-'));
  try {
    const records: object[] = [];
    for (const format of ['jsonl', 'parquet'] as const) {
      const file = join(dir, `events.${format}`);
      await writeGenerated({
        events: 12_000,
        seed: 5,
        out: file,
        format,
        labels: join(dir, `labels-${format}.jsonl`),
      });
      const h = createHash('sha256');
      await streamEvents([file], { checkTypes: true }, (r, s) => {
        h.update(`${s.line ?? s.row} ${JSON.stringify(r)}\n`);
        if (format === 'jsonl') records.push(r);
        return true;
      });
      assert.equal(h.digest('hex'), GOLDEN[format], `${format} records and positions`);
    }
    const time = [
      'time:hour',
      'time:day_of_week',
      'time:hour_sin',
      'time:is_weekend',
      'time:is_business_hours',
    ];
    const spec = fitSpec(records.slice(0, 4000), {
      timeZone: 'Europe/Berlin',
      categorical: { uniqueIds: 'hash' },
      columns: Object.fromEntries(time.map((n) => [n, {}])),
    });
    assert.ok(spec.categorical.some((c) => c.source.kind === 'time'));
    assert.ok(spec.categorical.some((c) => c.hashBuckets > 0));
    assert.ok(spec.categorical.some((c) => c.source.kind === 'template'));
    const num = new Float32Array(numNumericalFeatures(spec));
    const cat = new Int32Array(spec.categorical.length);
    const encoded = createHash('sha256');
    const raw = createHash('sha256');
    for (const r of records) {
      encodeRecord(spec, r, num, 0, cat, 0);
      encoded.update(new Uint8Array(num.buffer));
      encoded.update(new Uint8Array(cat.buffer));
      raw.update(JSON.stringify(extractRaw(spec, r)));
    }
    assert.equal(encoded.digest('hex'), GOLDEN.encoded, 'encoded rows');
    assert.equal(raw.digest('hex'), GOLDEN.raw, 'stage-1 features');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
