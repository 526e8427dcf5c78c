// The fused train step on onnxruntime-web's WebGPU provider (headless Chromium's SwiftShader adapter
// when there is no GPU) against wasm and onnxruntime-node: losses, parameters, BatchNorm statistics
// and moments over 10 steps, per objective; and which nodes ONNX Runtime leaves on the CPU, and why.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTrainStep } from '../../graphs/artifacts.ts';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { createSession } from '../../src/runtime/session.node.ts';
import { categoryCdf, FIT_DEFAULTS, Trainer } from '../../src/train/trainer.ts';
import { type EntryPage, openEntryPage } from '../helpers/browser.ts';
import { syntheticDataset } from './synthetic-data.ts';
import type { PageRun } from './webgpu-entry.ts';
import { cpuReason, findNode, parsePlacements } from './webgpu-placement.ts';

const ENTRY = join(import.meta.dirname, 'webgpu-entry.ts');
const ORT_WEB_DIST = join(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');
const BATCH = 16;
const STEPS = 10;
const LR = 1e-3;
/** Loss: relative difference per step. */
const LOSS_TOLERANCE = 1e-4;
/** Weights, BatchNorm statistics and moments: absolute difference after the last step. */
const STATE_TOLERANCE = 5e-5;
/**
 * A bias right before a BatchNorm (and the running mean it shifts) has a zero gradient in exact
 * arithmetic: BatchNorm subtracts the batch mean. Its computed gradient is rounding noise, which
 * AdamW turns into steps of up to about ±lr whose signs differ between runtimes, so these drift
 * apart by up to 2·lr per step without changing any output.
 */
const BN_SHIFT = /(^numerical_projection|^initial_projection|\.fc1|\.fc2)\.bias$|\.running_mean$/;
const BN_SHIFT_TOLERANCE = 2 * STEPS * LR;

function configJson(kind: 'contrastive' | 'mfp' | 'both') {
  return {
    model: { numNumerical: 4, cardinalities: [6, 9, 5], dModel: 16, numBlocks: 1 },
    objective: { kind },
  };
}

/** The same run under onnxruntime-node's CPU provider. */
async function nodeRun(json: unknown): Promise<Pick<PageRun, 'losses' | 'state'>> {
  const config = resolveTrainingConfig(json);
  const data = syntheticDataset(config.model, BATCH * STEPS, 11);
  const trainer = await Trainer.create({
    config,
    batchSize: BATCH,
    seed: 5,
    categoryCdf: categoryCdf(data, config.model.cardinalities),
    createSession: async (model) => (await createSession(model, { device: 'cpu', threads: 1 })).session,
  });
  const losses: number[] = [];
  await trainer.fit(
    data,
    null,
    { ...FIT_DEFAULTS, epochs: 1, lr: LR, schedule: 'constant', logEvery: 1 },
    { onStep: (r) => losses.push(r.loss) },
  );
  const snapshot = await trainer.snapshot();
  await trainer.release();
  const state: Record<string, number[]> = {};
  for (const [name, t] of snapshot.state) state[name] = Array.from(t.data as ArrayLike<number>, Number);
  state['optim.m'] = Array.from(snapshot.moments.m);
  state['optim.v'] = Array.from(snapshot.moments.v);
  return { losses, state };
}

/** Asserts two runs agree within the tolerances above; returns the largest differences seen. */
function assertSameRun(
  actual: Pick<PageRun, 'losses' | 'state'>,
  expected: Pick<PageRun, 'losses' | 'state'>,
  what: string,
): { loss: number; state: number; bnShift: number } {
  assert.equal(actual.losses.length, STEPS, `${what}: steps`);
  let loss = 0;
  actual.losses.forEach((l, i) => {
    const e = expected.losses[i]!;
    assert.ok(Number.isFinite(l) && Number.isFinite(e), `${what}: step ${i + 1} loss is not finite`);
    const rel = Math.abs(l - e) / Math.max(1, Math.abs(e));
    loss = Math.max(loss, rel);
    assert.ok(rel <= LOSS_TOLERANCE, `${what}: step ${i + 1} loss ${l} vs ${e}`);
  });
  let state = 0;
  let bnShift = 0;
  assert.deepEqual(Object.keys(actual.state).sort(), Object.keys(expected.state).sort());
  for (const [name, values] of Object.entries(expected.state)) {
    const got = actual.state[name]!;
    assert.equal(got.length, values.length, `${what}: ${name} size`);
    let worst = 0;
    for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(got[i]! - values[i]!));
    const shift = BN_SHIFT.test(name);
    const limit = shift ? BN_SHIFT_TOLERANCE : STATE_TOLERANCE;
    assert.ok(worst <= limit, `${what}: ${name} differs by ${worst.toExponential(2)} > ${limit}`);
    if (shift) bnShift = Math.max(bnShift, worst);
    else state = Math.max(state, worst);
  }
  return { loss, state, bnShift };
}

let page: EntryPage;

before(async () => {
  page = await openEntryPage(ENTRY, { dir: ORT_WEB_DIST, webgpu: true });
});

after(async () => {
  await page?.close();
});

describe('the train step on WebGPU (headless Chromium)', () => {
  for (const kind of ['contrastive', 'mfp', 'both'] as const) {
    test(`${kind}: ${STEPS} steps on webgpu match wasm and onnxruntime-node; CPU nodes have reasons`, async (t) => {
      const json = configJson(kind);
      const run = (device: 'cpu' | 'webgpu', verbose: boolean, keepOnDevice = true) =>
        page.call<PageRun>('train', json, BATCH, STEPS, device, '/', verbose, keepOnDevice);
      const wasm = await run('cpu', false);
      const webgpu = await run('webgpu', true);
      const node = await nodeRun(json);
      assert.equal(wasm.provider, 'wasm');
      assert.equal(webgpu.provider, 'webgpu');
      assert.deepEqual(webgpu.stateLocations, ['gpu-buffer'], 'the state stays on the GPU between steps');
      assert.deepEqual(wasm.stateLocations, ['cpu']);
      if (kind === 'contrastive') {
        // Copying the state to the CPU and back every step gives the same numbers. Not bit for bit: two
        // identical WebGPU runs already differ in the last bits of a few values (SwiftShader's reductions).
        const copied = await run('webgpu', false, false);
        assert.deepEqual(copied.stateLocations, []);
        const same = assertSameRun(copied, webgpu, 'webgpu, state copied each step vs kept on the GPU');
        t.diagnostic(
          `state copied each step vs kept on the GPU: loss ${same.loss.toExponential(1)} rel, state ${same.state.toExponential(1)}, biases before BN ${same.bnShift.toExponential(1)}`,
        );
      }
      assert.ok(webgpu.adapter, 'Chromium offers a WebGPU adapter');
      const gpuVsWasm = assertSameRun(webgpu, wasm, 'webgpu vs wasm');
      const wasmVsNode = assertSameRun(wasm, node, 'wasm vs onnxruntime-node');
      t.diagnostic(
        `adapter ${webgpu.adapter!.vendor}/${webgpu.adapter!.architecture}; wasm ${wasm.seconds.toFixed(1)} s, webgpu ${webgpu.seconds.toFixed(1)} s`,
      );
      t.diagnostic(
        `webgpu vs wasm: loss ${gpuVsWasm.loss.toExponential(1)} rel, state ${gpuVsWasm.state.toExponential(1)}, biases before BN ${gpuVsWasm.bnShift.toExponential(1)}; ` +
          `wasm vs node: loss ${wasmVsNode.loss.toExponential(1)}, state ${wasmVsNode.state.toExponential(1)}`,
      );

      // Node placements: the train step's session is the first one the trainer creates.
      const placements = parsePlacements(webgpu.log);
      assert.ok(placements.length >= 2, 'the verbose log shows the placements of both sessions');
      const train = placements[0]!;
      assert.ok((train.get('JsExecutionProvider')?.length ?? 0) > 0, 'nodes run on the WebGPU provider');
      const graph = buildTrainStep(resolveTrainingConfig(json), BATCH).builder;
      const onCpu = train.get('CPUExecutionProvider') ?? [];
      const cpuNames = new Set(onCpu.map((n) => findNode(graph, n.name)?.name ?? n.name));
      const reasons = new Map<string, string[]>();
      const unexplained: string[] = [];
      for (const placed of onCpu) {
        const node = findNode(graph, placed.name);
        assert.ok(node, `placement ${placed.name} names a node of the train step`);
        const reason = cpuReason(node, cpuNames);
        if (reason === null) unexplained.push(`${placed.opType} ${placed.name}`);
        else reasons.set(reason, [...(reasons.get(reason) ?? []), placed.opType]);
      }
      const total = [...train.values()].reduce((a, n) => a + n.length, 0);
      t.diagnostic(
        `train step: ${total - onCpu.length} of ${total} nodes on WebGPU, ${onCpu.length} on the CPU:`,
      );
      for (const [reason, ops] of reasons) {
        const counts = new Map<string, number>();
        for (const o of ops) counts.set(o, (counts.get(o) ?? 0) + 1);
        t.diagnostic(`  ${ops.length} (${[...counts].map(([o, c]) => `${o} ${c}`).join(', ')}): ${reason}`);
      }
      if (unexplained.length) t.diagnostic(`  without a reason: ${unexplained.join(', ')}`);
      assert.deepEqual(unexplained, [], 'every node left on the CPU has a reason');
    });
  }
});
