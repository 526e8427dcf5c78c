// Compares the fused train step built by several git revisions of graphs/ on onnxruntime-node: each
// revision's graphs/ is extracted into .tmp/builds/<rev>, every build's session is opened in this one
// process, and timed rounds alternate between the builds, so that a shared machine's load falls on all
// of them alike. Reports CPU and wall ms per step (median and range over rounds), the nodes ONNX Runtime
// runs per step, and whether every build's losses equal the first build's, step for step.
//
//   npx tsx scripts/bench/compare-builds.ts [--config base] [--rounds 11] [--steps 10] [--threads 1] REV...
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { Artifacts } from '../../graphs/artifacts.ts';
import {
  CONFIG_NAMES,
  type ConfigName,
  CPU_TARGET,
  type ModelSize,
  modelSize,
  trainingConfig,
} from './configs.ts';
import { median } from './stats.ts';
import { batchPool, openSession, StepState } from './train.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

interface Build {
  rev: string;
  artifacts: Artifacts;
  session: InferenceSession;
  state: StepState;
  losses: number[];
  cpuMs: number[];
  wallMs: number[];
}

/** graphs/ of `rev`, extracted under .tmp/builds (inside the checkout, so its imports resolve). */
async function buildOf(rev: string, size: ModelSize): Promise<Artifacts> {
  const dir = join(ROOT, '.tmp', 'builds', rev.replace(/[^\w.-]/g, '_'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = execFileSync('git', ['archive', rev, 'graphs'], { cwd: ROOT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  const { buildArtifacts } = (await import(
    join(dir, 'graphs', 'artifacts.ts')
  )) as typeof import('../../graphs/artifacts.ts');
  return buildArtifacts(trainingConfig(size), size.batch, 1, CPU_TARGET);
}

/** The nodes ONNX Runtime runs in one step of `artifacts` (kernel events of one profiled run). */
async function nodesPerStep(artifacts: Artifacts, size: ModelSize): Promise<number> {
  const dir = mkdtempSync(join(ROOT, '.tmp', 'profile-'));
  try {
    const { session } = await openSession(
      artifacts.trainStep,
      { runtime: 'node', threads: 1 },
      join(dir, 'p'),
    );
    const state = new StepState(artifacts);
    await session.run(state.prepare(batchPool(size.batch, 1)[0]!));
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('ONNX Runtime wrote no profile');
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string }[];
    return events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time')).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string', default: 'base' },
      rounds: { type: 'string', default: '11' },
      steps: { type: 'string', default: '10' },
      threads: { type: 'string', default: '1' },
    },
  });
  const config = values.config as ConfigName;
  const [rounds, steps, threads] = [values.rounds, values.steps, values.threads].map(Number) as [
    number,
    number,
    number,
  ];
  if (
    !CONFIG_NAMES.includes(config) ||
    positionals.length === 0 ||
    ![rounds, steps, threads].every((n) => n >= 1)
  ) {
    console.error(
      `usage: compare-builds.ts [--config ${CONFIG_NAMES.join('|')}] [--rounds N] [--steps N] [--threads N] REV...`,
    );
    process.exit(2);
  }
  const size = modelSize(config, false);
  const builds: Build[] = [];
  for (const rev of positionals) {
    const artifacts = await buildOf(rev, size);
    const { session } = await openSession(artifacts.trainStep, { runtime: 'node', threads });
    builds.push({
      rev,
      artifacts,
      session,
      state: new StepState(artifacts),
      losses: [],
      cpuMs: [],
      wallMs: [],
    });
  }
  const pool = batchPool(size.batch);
  const step = async (b: Build) => {
    const out = (await b.session.run(b.state.prepare(pool[b.losses.length % pool.length]!))) as Record<
      string,
      Tensor
    >;
    b.losses.push(b.state.advance(out));
  };
  for (const b of builds) for (let i = 0; i < 3; i++) await step(b);
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < steps; i++) await step(b);
      const cpu = process.cpuUsage(cpu0);
      b.wallMs.push((performance.now() - t0) / steps);
      b.cpuMs.push((cpu.user + cpu.system) / 1000 / steps);
    }
    loads.push(loadavg()[0]!);
  }
  for (const b of builds) await b.session.release();
  const f = (x: number) => x.toFixed(1);
  const range = (xs: number[]) => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
  console.log(
    `${config}, ${threads} thread(s), ${rounds} alternating rounds of ${steps} steps after 3 warm-up steps; ` +
      `load average ${f(Math.min(...loads))}–${f(Math.max(...loads))}`,
  );
  const first = builds[0]!.losses;
  for (const b of builds) {
    const same = b.losses.every((l, i) => l === first[i]);
    console.log(
      `${b.rev}: CPU ms/step ${range(b.cpuMs)}, wall ms/step ${range(b.wallMs)}, ` +
        `${await nodesPerStep(b.artifacts, size)} nodes run per step, losses ${same ? 'identical to' : 'differ from'} ${builds[0]!.rev}`,
    );
  }
}

try {
  await main();
} finally {
  rmSync(join(ROOT, '.tmp', 'builds'), { recursive: true, force: true });
}
