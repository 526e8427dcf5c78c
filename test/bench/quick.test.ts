// The benchmark's quick mode end to end (one child process, tiny sizes), plus its option parsing and profile maths.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { gemmFlops, type ProfileEvent, summarizeProfile } from '../../scripts/bench/profile.ts';
import type { BenchResults } from '../../scripts/bench/results.ts';
import { SECTIONS } from '../../scripts/bench/results.ts';
import { parseOptions, REPO_ROOT } from '../../scripts/bench/run.ts';

const DOCS_REPORT = join(REPO_ROOT, 'docs', 'benchmarks.md');

describe('npm run bench -- --quick', () => {
  test('runs every section and writes the JSON and the report outside docs/', { timeout: 60_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'ocsf-bench-test-'));
    const before = existsSync(DOCS_REPORT) ? statSync(DOCS_REPORT).mtimeMs : null;
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'scripts/bench/run.ts', '--quick', '--out', out],
        {
          cwd: REPO_ROOT,
          encoding: 'utf8',
          timeout: 55_000,
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
      assert.deepEqual(r.ingest.map((i) => i.format).sort(), ['jsonl', 'parquet']);
      assert.ok(r.memory && r.memory.rssAtStep.length === 2 && r.memory.peakRssMiB > 0);
      assert.equal(r.targets.length, 2);
      const md = readFileSync(join(out, 'benchmarks.md'), 'utf8');
      for (const h of [
        '## Training throughput',
        '## Matmul ceiling',
        '## Inference',
        '## Ingest',
        '## Memory',
      ]) {
        assert.ok(md.includes(h), h);
      }
      assert.equal(existsSync(DOCS_REPORT) ? statSync(DOCS_REPORT).mtimeMs : null, before);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('bench options', () => {
  test('quick and --only never default to docs/', () => {
    assert.notEqual(parseOptions(['--quick']).outDir, resolve(REPO_ROOT, 'docs'));
    assert.notEqual(parseOptions(['--only', 'train,matmul']).outDir, resolve(REPO_ROOT, 'docs'));
    assert.equal(parseOptions([]).outDir, resolve(REPO_ROOT, 'docs'));
    assert.deepEqual(parseOptions(['--only', 'train,infer']).only, ['train', 'inference']);
    assert.throws(() => parseOptions(['--only', 'nope']), /unknown section 'nope'/);
  });
});

describe('profile summary', () => {
  const node = (name: string, op: string, ts: number, dur: number, a: number[], b: number[], y: number[]) =>
    ({
      cat: 'Node',
      name: `${name}_kernel_time`,
      ts,
      dur,
      args: {
        op_name: op,
        input_type_shape: [{ float: a }, { float: b }],
        output_type_shape: [{ float: y }],
      },
    }) as ProfileEvent;

  test('counts GEMM FLOPs from shapes', () => {
    assert.equal(
      gemmFlops(node('x/MatMul_1', 'MatMul', 0, 1, [512, 256], [256, 128], [512, 128])),
      2 * 512 * 256 * 128,
    );
    assert.equal(
      gemmFlops(node('x/Gemm_1', 'Gemm', 0, 1, [256, 512], [256, 64], [256, 64])),
      2 * 256 * 64 * 512,
    );
    assert.equal(gemmFlops(node('x/Add_1', 'Add', 0, 1, [4], [4], [4])), 0);
  });

  test('drops warm-up runs and splits kernel time by op type and phase', () => {
    const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur }) as ProfileEvent;
    const events = [
      run(0, 100),
      node('blocks.0/Gemm_1', 'Gemm', 10, 50, [8, 4], [4, 4], [8, 4]),
      run(200, 100),
      node('blocks.0/Gemm_1', 'Gemm', 210, 40, [8, 4], [4, 4], [8, 4]),
      node('backward/grad/Relu_2/Where_3', 'Where', 260, 20, [8], [8], [8]),
    ];
    const s = summarizeProfile(events, 1, [0.2, 0.15]);
    assert.equal(s.steps, 1);
    assert.equal(s.kernelMsPerStep, 0.06);
    assert.ok(Math.abs(s.overheadMsPerStep - 0.04) < 1e-12);
    assert.ok(Math.abs(s.outsideRunMsPerStep - 0.05) < 1e-12);
    assert.deepEqual(
      s.byOpType.map((o) => [o.name, o.nodesPerStep]),
      [
        ['Gemm', 1],
        ['Where', 1],
      ],
    );
    assert.deepEqual(s.byPhase.map((o) => o.name).sort(), ['backward', 'forward']);
  });
});
