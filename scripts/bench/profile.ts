// Where a training step's time goes: runs the fused step under ONNX Runtime's profiler and aggregates the
// kernel times by op type and by phase (forward, backward, optimizer), with the framework overhead.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Tensor } from 'onnxruntime-common';
import type { ModelSize } from './configs.ts';
import { batchPool, buildFor, openSession, StepState } from './train.ts';

/** One event of ONNX Runtime's Chrome-trace profile. */
export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: {
    op_name?: string;
    input_type_shape?: Record<string, number[]>[];
    output_type_shape?: Record<string, number[]>[];
  };
}

/** Kernel time of one op type (or phase), per profiled step. */
export interface OpTypeRow {
  name: string;
  msPerStep: number;
  nodesPerStep: number;
  share: number;
  /** For MatMul and Gemm: the FLOPs their kernels ran per step, from the recorded shapes. */
  gflopPerStep?: number;
  /** FLOPs per kernel second. */
  gflops?: number;
}

/** The aggregated profile of the profiled steps. */
export interface ProfileSummary {
  steps: number;
  /** ms per step of ORT's `model_run` events. */
  runMsPerStep: number;
  /** Sum of node kernel times per step. */
  kernelMsPerStep: number;
  /** runMs − kernelMs: executor and allocation overhead inside ORT. */
  overheadMsPerStep: number;
  /** Wall-clock ms per step around `session.run` in JavaScript (profiling on). */
  wallMsPerStep: number;
  /** wall − run: binding and JavaScript cost outside ORT's run. */
  outsideRunMsPerStep: number;
  nodesPerStep: number;
  byOpType: OpTypeRow[];
  byPhase: OpTypeRow[];
  /** GEMM (MatMul, Gemm), RNG hash (nodes touching uint32 tensors) and everything else. */
  byCategory: OpTypeRow[];
  /** MatMul and Gemm kernels grouped by op, phase and shape (`M×K·K×N`), slowest first. */
  gemmShapes: GemmShapeRow[];
}

/** GEMM kernels of one op type, phase and shape. */
export interface GemmShapeRow {
  op: string;
  phase: string;
  shape: string;
  nodesPerStep: number;
  msPerStep: number;
  gflops: number;
}

function product(dims: number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

function firstShape(list: Record<string, number[]>[] | undefined, i: number): number[] | undefined {
  const entry = list?.[i];
  return entry ? Object.values(entry)[0] : undefined;
}

function shapeKey(e: ProfileEvent): string {
  const a = firstShape(e.args?.input_type_shape, 0) ?? [];
  const b = firstShape(e.args?.input_type_shape, 1) ?? [];
  const y = firstShape(e.args?.output_type_shape, 0) ?? [];
  return `${a.join('×')} · ${b.join('×')} → ${y.join('×')}`;
}

/** FLOPs of a MatMul or Gemm kernel from its recorded input and output shapes (2·M·N·K). */
export function gemmFlops(e: ProfileEvent): number {
  const op = e.args?.op_name;
  if (op !== 'MatMul' && op !== 'Gemm') return 0;
  const a = firstShape(e.args?.input_type_shape, 0);
  const y = firstShape(e.args?.output_type_shape, 0);
  if (!a || !y || y.length === 0) return 0;
  if (op === 'Gemm') {
    const m = y[0]!;
    return 2 * product(y) * (product(a) / m);
  }
  return 2 * product(y) * a[a.length - 1]!;
}

function dtypes(list: Record<string, number[]>[] | undefined): string[] {
  return (list ?? []).flatMap((entry) => Object.keys(entry));
}

/** GEMM, the in-graph RNG's uint32 hash, or other, from the op type and the tensor types. */
export function categoryOf(e: ProfileEvent): 'GEMM (MatMul, Gemm)' | 'RNG hash (uint32 ops)' | 'other' {
  const op = e.args?.op_name;
  if (op === 'MatMul' || op === 'Gemm') return 'GEMM (MatMul, Gemm)';
  const types = [...dtypes(e.args?.input_type_shape), ...dtypes(e.args?.output_type_shape)];
  return types.includes('uint32') ? 'RNG hash (uint32 ops)' : 'other';
}

/** Forward, backward or optimizer, from the node's scoped name. */
export function phaseOf(nodeName: string): 'forward' | 'backward' | 'optimizer' {
  if (nodeName.startsWith('backward/') || nodeName.startsWith('grad/')) return 'backward';
  if (nodeName.startsWith('adamw') || nodeName.startsWith('optim.')) return 'optimizer';
  return 'forward';
}

function rows(
  groups: Map<string, { us: number; nodes: number; flop: number }>,
  steps: number,
  kernelUs: number,
): OpTypeRow[] {
  return [...groups.entries()]
    .map(([name, g]) => {
      const row: OpTypeRow = {
        name,
        msPerStep: g.us / 1000 / steps,
        nodesPerStep: g.nodes / steps,
        share: kernelUs > 0 ? g.us / kernelUs : 0,
      };
      if (g.flop > 0) {
        row.gflopPerStep = g.flop / 1e9 / steps;
        row.gflops = g.us > 0 ? g.flop / (g.us * 1e3) : 0;
      }
      return row;
    })
    .sort((a, b) => b.msPerStep - a.msPerStep);
}

/**
 * Aggregates a profile: drops the first `skipRuns` runs (warm-up), then sums kernel time (`cat === 'Node'`,
 * names ending `_kernel_time`) by `args.op_name` and by phase.
 */
export function summarizeProfile(events: ProfileEvent[], skipRuns: number, wallMs: number[]): ProfileSummary {
  const runs = events
    .filter((e) => e.cat === 'Session' && e.name === 'model_run')
    .sort((a, b) => a.ts - b.ts);
  const kept = runs.slice(skipRuns);
  const steps = kept.length;
  const inKept = (e: ProfileEvent) => kept.some((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
  const byOp = new Map<string, { us: number; nodes: number; flop: number }>();
  const byPhase = new Map<string, { us: number; nodes: number; flop: number }>();
  const byCategory = new Map<string, { us: number; nodes: number; flop: number }>();
  const byShape = new Map<
    string,
    { op: string; phase: string; shape: string; us: number; nodes: number; flop: number }
  >();
  let kernelUs = 0;
  let nodes = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !inKept(e)) continue;
    const flop = gemmFlops(e);
    if (flop > 0) {
      const op = e.args?.op_name ?? '?';
      const phase = phaseOf(e.name);
      const shape = shapeKey(e);
      const key = `${op}|${phase}|${shape}`;
      const g = byShape.get(key) ?? { op, phase, shape, us: 0, nodes: 0, flop: 0 };
      g.us += e.dur;
      g.nodes += 1;
      g.flop += flop;
      byShape.set(key, g);
    }
    for (const [map, key] of [
      [byOp, e.args?.op_name ?? '?'],
      [byPhase, phaseOf(e.name)],
      [byCategory, categoryOf(e)],
    ] as const) {
      const g = map.get(key) ?? { us: 0, nodes: 0, flop: 0 };
      g.us += e.dur;
      g.nodes += 1;
      g.flop += flop;
      map.set(key, g);
    }
    kernelUs += e.dur;
    nodes += 1;
  }
  const runMs = kept.reduce((a, r) => a + r.dur, 0) / 1000;
  const wall = wallMs.slice(skipRuns).reduce((a, b) => a + b, 0);
  const perStep = (x: number) => (steps > 0 ? x / steps : 0);
  return {
    steps,
    runMsPerStep: perStep(runMs),
    kernelMsPerStep: perStep(kernelUs / 1000),
    overheadMsPerStep: perStep(runMs - kernelUs / 1000),
    wallMsPerStep: perStep(wall),
    outsideRunMsPerStep: perStep(wall - runMs),
    nodesPerStep: perStep(nodes),
    byOpType: rows(byOp, steps, kernelUs),
    byPhase: rows(byPhase, steps, kernelUs),
    byCategory: rows(byCategory, steps, kernelUs),
    gemmShapes: [...byShape.values()]
      .map((g) => ({
        op: g.op,
        phase: g.phase,
        shape: g.shape,
        nodesPerStep: perStep(g.nodes),
        msPerStep: perStep(g.us / 1000),
        gflops: g.us > 0 ? g.flop / (g.us * 1e3) : 0,
      }))
      .sort((a, b) => b.msPerStep - a.msPerStep),
  };
}

/** Runs `warmup + steps` training steps of `size` with profiling on and summarises the last `steps`. */
export async function profileTraining(
  size: ModelSize,
  threads: number,
  warmup: number,
  steps: number,
  dir: string,
): Promise<ProfileSummary> {
  mkdirSync(dir, { recursive: true });
  const prefix = join(dir, `train-${size.name}-t${threads}`);
  const { artifacts } = buildFor(size);
  const { session } = await openSession(artifacts.trainStep, { runtime: 'node', threads }, prefix);
  const state = new StepState(artifacts);
  const pool = batchPool(size.batch);
  const wallMs: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const out = (await session.run(state.prepare(pool[i % pool.length]!))) as Record<string, Tensor>;
    wallMs.push(performance.now() - t0);
    state.advance(out);
  }
  session.endProfiling();
  await session.release();
  const file = readdirSync(dirname(prefix)).find(
    (f) => f.startsWith(`${basename(prefix)}_`) && f.endsWith('.json'),
  );
  if (!file) throw new Error(`ONNX Runtime wrote no profile next to ${prefix}`);
  const path = join(dirname(prefix), file);
  const events = JSON.parse(readFileSync(path, 'utf8')) as ProfileEvent[];
  rmSync(path, { force: true });
  return summarizeProfile(events, warmup, wallMs);
}
