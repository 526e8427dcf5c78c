// The onnxruntime-web session factory: `wasm` (the CPU) everywhere, `webgpu` in browsers that have it.
// Shares option building and fallback logic with the Node factory through session.ts.
import * as ort from 'onnxruntime-web';
import {
  type ConcreteDevice,
  type CreatedSession,
  createWithBackend,
  type DeviceStatus,
  defaultThreads,
  type RuntimeBackend,
  type SessionConfig,
  validateSessionConfig,
} from './session.ts';

export * from './session.ts';

/** The subset of `navigator.gpu` this module touches (WebGPU types are not in TypeScript's DOM lib). */
interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

function gpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu;
}

function cores(): number {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

const probes = new Map<ConcreteDevice, Promise<DeviceStatus>>();

async function probeUncached(device: ConcreteDevice): Promise<DeviceStatus> {
  switch (device) {
    case 'cpu':
      return { device, available: true };
    case 'cuda':
      return {
        device,
        available: false,
        reason: 'CUDA exists only in onnxruntime-node, not in onnxruntime-web',
      };
    case 'webgpu': {
      const g = gpu();
      if (!g)
        return {
          device,
          available: false,
          reason: 'this environment has no WebGPU (navigator.gpu is missing)',
        };
      try {
        const adapter = await g.requestAdapter();
        if (!adapter) return { device, available: false, reason: 'the browser offers no WebGPU adapter' };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { device, available: false, reason: `requesting a WebGPU adapter failed: ${message}` };
      }
      return { device, available: true };
    }
  }
}

/** Whether `device` works here; the first answer is cached for the life of the page. */
export function probeDevice(device: ConcreteDevice): Promise<DeviceStatus> {
  let p = probes.get(device);
  if (!p) {
    p = probeUncached(device);
    probes.set(device, p);
  }
  return p;
}

/** Which devices onnxruntime-web can use here (cpu = wasm), with a reason for each it cannot. Cached. */
export async function availableDevices(): Promise<DeviceStatus[]> {
  return Promise.all((['cpu', 'cuda', 'webgpu'] as const).map((d) => probeDevice(d)));
}

let wasmThreads: number | undefined;

/**
 * Whether onnxruntime-web may start wasm threads here: in a cross-origin isolated page (COOP/COEP
 * headers give it SharedArrayBuffer), and under Node, whose worker threads need no isolation.
 */
export function wasmThreadsAllowed(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } } };
  return g.crossOriginIsolated === true || typeof g.process?.versions?.node === 'string';
}

/**
 * Sets `ort.env.wasm.numThreads` before the first session (onnxruntime-web reads it once). Threads need a
 * cross-origin isolated page (COOP/COEP headers) or Node; elsewhere one thread is used.
 * Returns a notice when the request could not be honoured.
 */
export function configureWasmThreads(config: SessionConfig): string | undefined {
  const allowed = wasmThreadsAllowed();
  const threads = allowed ? (config.threads ?? defaultThreads(cores())) : 1;
  if (wasmThreads === undefined) {
    ort.env.wasm.numThreads = threads;
    wasmThreads = threads;
  }
  if (config.threads !== undefined && config.threads > 1 && !allowed) {
    return `threads=${config.threads} needs a cross-origin isolated page (COOP/COEP headers): using 1 thread`;
  }
  if (config.threads !== undefined && config.threads !== wasmThreads) {
    return `onnxruntime-web fixed its thread count at ${wasmThreads} when the first session started`;
  }
  return undefined;
}

/** The onnxruntime-web side of the shared factory logic. */
export const webBackend: RuntimeBackend = {
  cores,
  providerFor: (device) => (device === 'cpu' ? 'wasm' : device),
  probe: probeDevice,
  cudaPossible: () => false,
  unavailableMessage: (device, reason) =>
    device === 'cuda'
      ? `Device 'cuda' is unavailable in the browser: ${reason}. Use device 'webgpu' or 'cpu' (wasm).`
      : `Device '${device}' is unavailable: ${reason}. WebGPU needs a browser with WebGPU enabled ` +
        "(navigator.gpu) and a supported GPU; see docs/gpu.md. Or use device 'cpu' (wasm).",
  create: (model, options) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options),
};

/**
 * Creates an onnxruntime-web session: `cpu` and `auto` run on `wasm`; `webgpu` only when asked for, in a
 * browser with WebGPU, where `outputsOnDevice` stay in GPU buffers. `cuda` throws a user-facing error.
 * A string model is a URL.
 */
export async function createSession(
  model: Uint8Array | string,
  config: SessionConfig = {},
): Promise<CreatedSession> {
  validateSessionConfig(config);
  const threadNotice = configureWasmThreads(config);
  const onDevice = config.outputsOnDevice ?? [];
  const backend: RuntimeBackend =
    onDevice.length === 0
      ? webBackend
      : {
          ...webBackend,
          create: (m, options) =>
            webBackend.create(
              m,
              options.executionProviders?.[0] === 'webgpu'
                ? {
                    ...options,
                    preferredOutputLocation: Object.fromEntries(
                      onDevice.map((n) => [n, 'gpu-buffer' as const]),
                    ),
                  }
                : options,
            ),
        };
  const created = await createWithBackend(backend, model, config);
  const notice = [created.notice, threadNotice].filter((n) => n !== undefined).join('; ');
  return notice ? { ...created, notice } : created;
}
