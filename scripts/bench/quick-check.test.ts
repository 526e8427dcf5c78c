// `npm run bench:check`: the benchmark's quick mode end to end (one child process, tiny sizes) writes every
// section's results and the report outside docs/. Kept out of `npm test`: it is a benchmark run, not a unit test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BenchResults } from './results.ts';
import { SECTIONS } from './results.ts';
import { blasEnvironment, REPO_ROOT } from './run.ts';

const DOCS_REPORT = join(REPO_ROOT, 'docs', 'benchmarks.md');

describe('npm run bench -- --quick', () => {
  test('runs every section and writes the JSON and the report outside docs/', { timeout: 160_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'ocsf-bench-test-'));
    const before = existsSync(DOCS_REPORT) ? statSync(DOCS_REPORT).mtimeMs : null;
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/bench/run.ts', '--quick', '--out', out],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          timeout: 150_000,
        },
      );
      assert.equal(run.status, 0, run.stderr);
      const r = JSON.parse(readFileSync(join(out, 'bench-results.json'), 'utf8')) as BenchResults;
      for (const s of SECTIONS) assert.ok(r.status[s], `status of ${s}`);
      for (const s of SECTIONS.filter((x) => x !== 'reference')) {
        assert.equal(r.status[s].status, 'ok', `${s}: ${JSON.stringify(r.status[s])}`);
      }
      assert.equal(r.status.reference.status, 'skipped');
      assert.match(r.status.reference.reason ?? '', /^skipped: /);
      assert.equal(r.meta.quick, true);
      assert.equal(r.train.length, 9);
      for (const t of r.train)
        assert.ok(t.stepMsMedian > 0 && Number.isFinite(t.lastLoss), JSON.stringify(t));
      assert.deepEqual([...new Set(r.matmul.results.map((m) => m.threads))].sort(), [1, 2]);
      assert.equal(r.profile.length, 2);
      assert.ok(r.profile[0]!.summary.byOpType.some((o) => o.name === 'Gemm' || o.name === 'MatMul'));
      assert.ok(r.inference.results.some((x) => x.runtime === 'wasm'));
      assert.ok(r.inference.results.every((x) => x.embeddingsPerSecond > 0));
      for (const c of ['model.onnx', 'model.onnx raw']) {
        const rows = r.inference.results.filter((x) => x.case === c);
        assert.deepEqual(
          [...new Set(rows.map((x) => `${x.runtime}×${x.threads}`))].sort(),
          ['node×1', 'node×2', 'wasm×1'],
          c,
        );
        assert.ok(
          rows.every((x) => x.embeddingDim > 0 && x.note),
          c,
        );
      }
      assert.deepEqual(r.trainer.map((t) => t.threads).sort(), [1, 2]);
      for (const t of r.trainer) {
        assert.ok(t.trainerSamplesPerSecond > 0 && t.rawSamplesPerSecond > 0, JSON.stringify(t));
        assert.ok(Math.abs(t.ratio - t.trainerSamplesPerSecond / t.rawSamplesPerSecond) < 1e-9);
        assert.ok(t.trainerSteps >= 1 && Number.isFinite(t.lastLoss));
      }
      assert.ok(r.serve, 'serve result');
      assert.equal(r.serve.route, '/score');
      assert.equal(r.serve.concurrency, 100);
      assert.equal(r.serve.errors, 0);
      assert.ok(r.serve.latencyMs.p99 >= r.serve.latencyMs.p50 && r.serve.requestsPerSecond > 0);
      assert.ok(r.stream, 'stream result');
      assert.deepEqual(
        r.stream.throughput.map((t) => t.workers),
        [1, 2],
      );
      assert.ok(r.stream.throughput.every((t) => t.eventsPerSecond > 0));
      assert.ok(r.stream.latency.samples > 0 && r.stream.latency.p99Ms >= r.stream.latency.p50Ms);
      assert.ok(r.start, 'start result');
      assert.equal(r.start.eventsOverride, 3000);
      assert.equal(r.start.trainingEvents, 3000);
      assert.ok(r.start.wallSeconds > 0 && (r.start.samplesPerSecond ?? 0) > 0);
      assert.ok(r.start.rocAuc !== null && r.start.rocAuc >= 0 && r.start.rocAuc <= 1);
      assert.ok(r.start.prAuc !== null && r.start.prAuc >= 0 && r.start.prAuc <= 1);
      assert.ok(!r.start.summaryLines.join('\n').includes(tmpdir()), 'no temporary paths in the report');
      assert.deepEqual(r.ingest.map((i) => i.format).sort(), ['jsonl', 'parquet']);
      assert.ok(r.memory && r.memory.rssAtStep.length === 2 && r.memory.peakRssMiB > 0);
      assert.equal(r.targets.length, 7);
      assert.ok(r.targets.every((t) => t.met !== null || t.name.includes('PyTorch')));
      assert.deepEqual(r.meta.env, blasEnvironment());
      const md = readFileSync(join(out, 'benchmarks.md'), 'utf8');
      for (const h of [
        '## Training throughput',
        '## Matmul ceiling',
        '## Inference',
        '## Ingest',
        '## Memory',
        '## Trainer against the raw step',
        '## Service (/score)',
        '## Stream (NATS JetStream consume)',
        '## npm start end to end',
        '| BLAS environment |',
      ]) {
        assert.ok(md.includes(h), h);
      }
      assert.equal(existsSync(DOCS_REPORT) ? statSync(DOCS_REPORT).mtimeMs : null, before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
