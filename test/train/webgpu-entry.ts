// Browser side of the WebGPU tests: trains a small model with the real Trainer on onnxruntime-web's
// `webgpu` or `wasm` provider from the same seed and data, and reports losses, the final state and
// ONNX Runtime's node placements.
import * as ort from 'onnxruntime-web';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { createSession } from '../../src/runtime/session.web.ts';
import { categoryCdf, FIT_DEFAULTS, Trainer } from '../../src/train/trainer.ts';
import { syntheticDataset } from './synthetic-data.ts';

/** What one training run in the page reports. */
export interface PageRun {
  provider: string;
  losses: number[];
  /** Parameters, buffers and the flat moments (`optim.m`, `optim.v`) after the last step. */
  state: Record<string, number[]>;
  /** ONNX Runtime's log lines (verbose when asked for). */
  log: string[];
  adapter: { vendor: string; architecture: string } | null;
  seconds: number;
  /** Where the train step's state outputs came back (`gpu-buffer` when kept on the device). */
  stateLocations: string[];
}

const ORT_LINE = /\[[VIWEF]:onnxruntime/;

/**
 * ONNX Runtime's console lines, collected instead of printed. The wasm runtime binds the console
 * functions once, when it starts, so they are replaced once, when this module loads.
 */
const ortLog: string[] = [];
for (const kind of ['log', 'info', 'warn', 'error'] as const) {
  const original = console[kind];
  console[kind] = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (ORT_LINE.test(text)) ortLog.push(text);
    else original(...args);
  };
}

/** Runs `fn` and returns the ONNX Runtime lines logged meanwhile. */
async function collectingOrtLog<T>(fn: () => Promise<T>): Promise<{ result: T; log: string[] }> {
  const from = ortLog.length;
  const result = await fn();
  return { result, log: ortLog.splice(from) };
}

async function adapterInfo(): Promise<PageRun['adapter']> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } })
    .gpu;
  const adapter = await gpu?.requestAdapter();
  if (!adapter?.info) return null;
  return { vendor: adapter.info.vendor ?? '', architecture: adapter.info.architecture ?? '' };
}

/**
 * Trains `steps` steps of `config` (JSON, resolved with defaults) at batch `batchSize` on `device`
 * ('cpu' is wasm), over the synthetic dataset of `data.ts`. `verbose` logs node placements.
 */
export async function train(
  configJson: unknown,
  batchSize: number,
  steps: number,
  device: 'cpu' | 'webgpu',
  wasmPrefix: string,
  verbose = false,
  keepOnDevice = true,
): Promise<PageRun> {
  ort.env.wasm.wasmPaths = new URL(wasmPrefix, location.href).href;
  // The environment's level is fixed when the runtime starts; sessions then log at their own level.
  ort.env.logLevel = 'verbose';
  const config = resolveTrainingConfig(configJson);
  const data = syntheticDataset(config.model, batchSize * steps, 11);
  const started = performance.now();
  let provider = '';
  const stateLocations = new Set<string>();
  const { result, log } = await collectingOrtLog(async () => {
    const trainer = await Trainer.create({
      config,
      batchSize,
      seed: 5,
      categoryCdf: categoryCdf(data, config.model.cardinalities),
      createSession: async (model, options) => {
        const onDevice = keepOnDevice ? options?.outputsOnDevice : undefined;
        const created = await createSession(model, {
          device,
          logSeverity: verbose ? 0 : 2,
          ...(onDevice && { outputsOnDevice: onDevice }),
        });
        provider = created.device;
        const { session } = created;
        if (!onDevice) return session;
        // Note where the state comes back from each step.
        const run = session.run.bind(session);
        session.run = (async (...args: Parameters<typeof run>) => {
          const out = await run(...args);
          for (const name of onDevice) stateLocations.add(out[name]!.location);
          return out;
        }) as typeof session.run;
        return session;
      },
    });
    const losses: number[] = [];
    await trainer.fit(
      data,
      null,
      { ...FIT_DEFAULTS, epochs: 1, lr: 1e-3, schedule: 'constant', logEvery: 1 },
      { onStep: (r) => losses.push(r.loss) },
    );
    const snapshot = await trainer.snapshot();
    await trainer.release();
    const state: Record<string, number[]> = {};
    for (const [name, t] of snapshot.state) state[name] = Array.from(t.data as ArrayLike<number>, Number);
    state['optim.m'] = Array.from(snapshot.moments.m);
    state['optim.v'] = Array.from(snapshot.moments.v);
    return { losses, state };
  });
  return {
    provider,
    ...result,
    log,
    adapter: device === 'webgpu' ? await adapterInfo() : null,
    seconds: (performance.now() - started) / 1000,
    stateLocations: [...stateLocations],
  };
}
