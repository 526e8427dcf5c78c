// The GPU check: which execution providers work here, one train step on each against the CPU
// (same seed, same batch), and training throughput of the demo and large configs per device,
// beside PyTorch CUDA eager when it is installed. Prints one summary table.
// Run with `bash scripts/device-check.sh` on a GPU machine (a few minutes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { NEXT } from '../graphs/artifacts.ts';
import { availableDevices, createSession } from '../src/runtime/session.node.ts';
import { modelSize } from './bench/configs.ts';
import { median } from './bench/stats.ts';
import { batchPool, buildFor, StepState } from './bench/train.ts';

type Row = Record<string, string>;
const rows: Row[] = [];
const out = process.env.OUT;

function note(row: Row): void {
  rows.push(row);
  console.log(Object.values(row).join('  |  '));
}

async function session(bytes: Uint8Array, device: 'cpu' | 'cuda' | 'webgpu'): Promise<InferenceSession> {
  return (await createSession(bytes, { device, threads: device === 'cpu' ? undefined : 1 })).session;
}

/** One train step of the demo config on `device`, against the CPU, from the same state and batch. */
async function parity(device: 'cuda' | 'webgpu'): Promise<void> {
  const size = modelSize('base', false);
  const { artifacts } = buildFor(size);
  const batch = batchPool(size.batch, 1)[0]!;
  const results: Record<string, Record<string, Tensor>> = {};
  for (const d of ['cpu', device] as const) {
    const s = await session(artifacts.trainStep, d);
    const state = new StepState(artifacts);
    results[d] = (await s.run(state.prepare(batch))) as Record<string, Tensor>;
    await s.release();
  }
  const cpu = results.cpu!;
  const gpu = results[device]!;
  const loss = (t: Record<string, Tensor>) => Number((t.loss!.data as Float32Array)[0]);
  let worst = 0;
  let worstName = '';
  for (const name of Object.keys(cpu)) {
    if (!name.endsWith(NEXT) || cpu[name]!.type !== 'float32') continue;
    const a = cpu[name]!.data as Float32Array;
    const b = gpu[name]!.data as Float32Array;
    for (let i = 0; i < a.length; i++) {
      const diff = Math.abs(a[i]! - b[i]!);
      if (diff > worst) {
        worst = diff;
        worstName = name;
      }
    }
  }
  const lossRel = Math.abs(loss(cpu) - loss(gpu)) / Math.abs(loss(cpu));
  // TF32 GEMMs and reordered reductions: loss within 1e-3 relative; an Adam step moves weights by
  // ≈ lr = 1e-3, so states within 2e-4 absolute (sign flips of noise-level gradients aside).
  const pass = lossRel <= 1e-3 && worst <= 2e-4;
  note({
    check: `parity ${device} vs cpu`,
    result: pass ? 'pass' : 'FAIL',
    detail: `loss ${loss(cpu).toFixed(6)} vs ${loss(gpu).toFixed(6)} (rel ${lossRel.toExponential(2)}); max |Δ state| ${worst.toExponential(2)} (${worstName})`,
  });
}

/** Median samples/s of the fused step for one config on one device. */
async function throughput(
  config: 'base' | 'large',
  device: 'cpu' | 'cuda' | 'webgpu',
  steps = 30,
): Promise<void> {
  const size = modelSize(config, false);
  const { artifacts } = buildFor(size);
  const s = await session(artifacts.trainStep, device);
  const state = new StepState(artifacts);
  const pool = batchPool(size.batch);
  const times: number[] = [];
  for (let i = 0; i < steps + 5; i++) {
    const t0 = performance.now();
    state.advance((await s.run(state.prepare(pool[i % pool.length]!))) as Record<string, Tensor>);
    if (i >= 5) times.push(performance.now() - t0);
  }
  await s.release();
  const ms = median(times);
  note({
    check: `train ${config} on ${device}`,
    result: `${Math.round((size.batch / ms) * 1000)} samples/s`,
    detail: `${ms.toFixed(2)} ms/step (median of ${steps}, batch ${size.batch})`,
  });
}

/** PyTorch CUDA eager on the same configs, when python3 with torch and a GPU are here. */
function pytorch(): void {
  const ref = resolve('..', 'shared', 'reference', 'bench_train.py');
  const alt = resolve('shared', 'reference', 'bench_train.py');
  const script = existsSync(ref) ? ref : existsSync(alt) ? alt : null;
  if (!script) {
    note({
      check: 'pytorch cuda',
      result: 'skipped',
      detail: 'shared/reference/bench_train.py not found',
    });
    return;
  }
  const file = join(out ?? '/tmp', 'pytorch-cuda.json');
  const r = spawnSync('python3', [script, '--configs', 'base,large', '--device', 'cuda', '--out', file], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.status !== 0 || !existsSync(file)) {
    note({
      check: 'pytorch cuda',
      result: 'skipped',
      detail: (r.stderr || r.error?.message || 'failed').trim().split('\n').at(-1) ?? '',
    });
    return;
  }
  const json = JSON.parse(readFileSync(file, 'utf8'));
  note({ check: 'pytorch cuda', result: 'ran', detail: JSON.stringify(json).slice(0, 400) });
}

async function main(): Promise<void> {
  if (out) mkdirSync(out, { recursive: true });
  const devices = await availableDevices();
  for (const d of devices)
    note({
      check: `provider ${d.device}`,
      result: d.available ? 'available' : 'unavailable',
      detail: d.reason ?? '',
    });
  const gpus = devices
    .filter((d) => d.available && (d.device === 'cuda' || d.device === 'webgpu'))
    .map((d) => d.device as 'cuda' | 'webgpu');
  if (gpus.length === 0)
    note({ check: 'gpu', result: 'skipped', detail: 'no CUDA or WebGPU device works here; see docs/gpu.md' });
  for (const g of gpus) await parity(g);
  for (const config of ['base', 'large'] as const) {
    for (const d of ['cpu' as const, ...gpus]) await throughput(config, d);
  }
  if (gpus.includes('cuda')) pytorch();
  const table = [
    '| check | result | detail |',
    '| --- | --- | --- |',
    ...rows.map((r) => `| ${r.check} | ${r.result} | ${r.detail} |`),
  ].join('\n');
  console.log(`\n${table}`);
  if (out) writeFileSync(join(out, 'device-check.md'), `${table}\n`);
}

await main();
