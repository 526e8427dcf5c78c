// Where the train step's non-GEMM time goes, site by site: profiles a few steps of one config with ONNX
// Runtime's profiler and prints kernel time per site (node scope with block numbers folded, and op type),
// each node counted at its median over the profiled steps, so that a busy machine's stalls weigh less.
//
//   npx tsx scripts/bench/profile-sites.ts [--config base] [--threads 1] [--steps 15] [--top 40]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Tensor } from 'onnxruntime-common';
import { CONFIG_NAMES, type ConfigName, modelSize } from './configs.ts';
import type { ProfileEvent } from './profile.ts';
import { median } from './stats.ts';
import { batchPool, buildFor, openSession, StepState } from './train.ts';

const WARMUP = 3;

/** `blocks.3/bn1/Mul_812_kernel_time` → `blocks.N/bn1`: the site a node belongs to. */
function siteOf(nodeName: string): string {
  const scope = nodeName.replace(/_kernel_time$/, '').replace(/blocks\.\d+/g, 'blocks.N');
  const cut = scope.lastIndexOf('/');
  return cut < 0 ? '(top)' : scope.slice(0, cut).replace(/_\d+/g, '');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'base' },
      threads: { type: 'string', default: '1' },
      steps: { type: 'string', default: '15' },
      top: { type: 'string', default: '40' },
    },
  });
  const config = values.config as ConfigName;
  const [threads, steps, top] = [values.threads, values.steps, values.top].map(Number) as [
    number,
    number,
    number,
  ];
  if (!CONFIG_NAMES.includes(config) || ![threads, steps, top].every((n) => Number.isInteger(n) && n >= 1)) {
    console.error(
      `usage: profile-sites.ts [--config ${CONFIG_NAMES.join('|')}] [--threads N] [--steps N] [--top N]`,
    );
    process.exit(2);
  }
  const size = modelSize(config, false);
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-profile-sites-'));
  try {
    const { artifacts } = buildFor(size);
    const { session } = await openSession(artifacts.trainStep, { runtime: 'node', threads }, join(dir, 'p'));
    const state = new StepState(artifacts);
    const pool = batchPool(size.batch);
    for (let i = 0; i < WARMUP + steps; i++) {
      state.advance((await session.run(state.prepare(pool[i % pool.length]!))) as Record<string, Tensor>);
    }
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const from = runs[WARMUP]!.ts;
    const perNode = new Map<string, { op: string; us: number[] }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
      const n = perNode.get(e.name) ?? { op: e.args?.op_name ?? '?', us: [] };
      n.us.push(e.dur);
      perNode.set(e.name, n);
    }
    const sites = new Map<string, { ms: number; nodes: number }>();
    let total = 0;
    for (const [name, n] of perNode) {
      const key = `${siteOf(name)} ${n.op}`;
      const s = sites.get(key) ?? { ms: 0, nodes: 0 };
      const ms = median(n.us) / 1000;
      s.ms += ms;
      s.nodes += 1;
      total += ms;
      sites.set(key, s);
    }
    const runMs = median(runs.slice(WARMUP).map((r) => r.dur)) / 1000;
    console.log(
      `${config}, ${threads} thread(s), ${steps} profiled steps: model_run ${runMs.toFixed(1)} ms (median), ` +
        `kernels ${total.toFixed(1)} ms over ${perNode.size} nodes (each at its median)`,
    );
    console.log('   ms/step  nodes  site and op');
    for (const [key, s] of [...sites].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
      console.log(`${s.ms.toFixed(3).padStart(10)}  ${String(s.nodes).padStart(5)}  ${key}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
