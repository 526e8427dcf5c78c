// Portable core of the session factory: device names, option building, error texts and the fallback logic.
// No runtime import here: session.node.ts (onnxruntime-node) and session.web.ts (onnxruntime-web) plug in.
import type { InferenceSession } from 'onnxruntime-common';
import type { GraphTarget } from '../../graphs/artifacts.ts';
import { UserError } from '../core/errors.ts';

/** A device the user may ask for. `auto` picks CUDA when it works, otherwise the CPU. */
/**
 * Opens an ONNX Runtime session for model bytes (onnxruntime-node, or onnxruntime-web in a browser).
 * `outputsOnDevice` names outputs the caller feeds back into the next run: a GPU provider may leave
 * them on the device; the tensors they come back as then need `getData()` to be read, and `dispose()`.
 */
export type SessionFactory = (
  model: Uint8Array,
  options?: { outputsOnDevice?: string[] },
) => Promise<InferenceSession>;

export type Device = 'auto' | 'cpu' | 'cuda' | 'webgpu';

/** The devices that are actually probed (everything but `auto`). */
export type ConcreteDevice = Exclude<Device, 'auto'>;

/** The ONNX Runtime execution provider a session ends up on (`wasm` is the CPU inside onnxruntime-web). */
export type Provider = 'cpu' | 'cuda' | 'webgpu' | 'wasm';

/** Every value `Device` may take, in the order help texts list them. */
export const DEVICES: readonly Device[] = ['auto', 'cpu', 'cuda', 'webgpu'];

/** How a session is set up. Every field is optional. */
export interface SessionConfig {
  /** Where to run (default `auto`: CUDA when available, else CPU; WebGPU only when asked for). */
  device?: Device;
  /** Intra-op threads. Default: 1 on hosts with <= 2 cores, else min(4, cores). Inter-op is always 1. */
  threads?: number;
  /** ONNX Runtime graph optimisation level (default `all`). */
  graphOptimization?: 'all' | 'basic' | 'disabled';
  /** File prefix for ONNX Runtime's profiler (Node writes `<prefix>_<date>.json` on `endProfiling()`). */
  profile?: string;
  /**
   * Outputs to leave on the GPU (`preferredOutputLocation: 'gpu-buffer'`) instead of copying them to the
   * CPU after each run: onnxruntime-web on `webgpu` only, ignored elsewhere.
   */
  outputsOnDevice?: string[];
  /** ONNX Runtime session log severity: 0 verbose, 1 info, 2 warning, 3 error (default), 4 fatal. */
  logSeverity?: number;
  /** CUDA device ordinal (default 0). Ignored by other devices. */
  deviceId?: number;
  /**
   * Let idle intra-op threads spin between ops (ORT's own default). Default here: `false` (they sleep);
   * spinning pools collapse when another process wants the same cores (see docs/decisions.md).
   * onnxruntime-node only.
   */
  spinning?: boolean;
}

/**
 * The runtime choices of one command, its `--device` and `--threads`: one object handed to every session the
 * command creates (the embedder's, the k-NN search's), so that all of them follow the flags.
 */
export type RuntimeOptions = Pick<SessionConfig, 'device' | 'threads'>;

/** A session and where it really runs. */
export interface CreatedSession {
  session: InferenceSession;
  device: Provider;
  /** Its intra-op threads; absent on onnxruntime-web, whose one pool serves every session. */
  threads?: number;
  /** One line for the user when the result differs from what was asked (a fallback, a capped option). */
  notice?: string;
}

/** Whether a device can be used here, and if not, why (one line). */
export interface DeviceStatus {
  device: Device;
  available: boolean;
  reason?: string;
}

/** Thrown when a device was asked for explicitly and cannot be used here. */
export class DeviceUnavailableError extends UserError {
  constructor(
    readonly device: ConcreteDevice,
    readonly reason: string,
    message: string = unavailableMessage(device, reason),
  ) {
    super(message);
    this.name = 'DeviceUnavailableError';
  }
}

/**
 * How training graphs are shaped for sessions asked to run on `device`: WebGPU binds at most 8 tensors
 * per Concat or Split node, so those become trees; every other provider takes them as one node (fewer
 * nodes, and each element copied once).
 */
export function graphTargetFor(device: Device | undefined): GraphTarget {
  return device === 'webgpu' ? {} : { maxNodeTensors: Number.POSITIVE_INFINITY };
}

/** The intra-op thread count used when none is configured. */
export function defaultThreads(cores: number): number {
  if (!Number.isFinite(cores) || cores <= 2) return 1;
  return Math.min(4, Math.floor(cores));
}

/** Checks a config for values no runtime would accept, and throws one user-facing error for the first. */
export function validateSessionConfig(config: SessionConfig): void {
  if (config.device !== undefined && !DEVICES.includes(config.device)) {
    throw new UserError(`Unknown device '${String(config.device)}': use one of ${DEVICES.join(', ')}.`);
  }
  if (config.threads !== undefined && !(Number.isInteger(config.threads) && config.threads >= 1)) {
    throw new UserError(`threads must be a whole number >= 1, got ${String(config.threads)}.`);
  }
  const levels = ['all', 'basic', 'disabled'];
  if (config.graphOptimization !== undefined && !levels.includes(config.graphOptimization)) {
    throw new UserError(
      `graphOptimization must be one of ${levels.join(', ')}, got '${String(config.graphOptimization)}'.`,
    );
  }
  if (
    config.logSeverity !== undefined &&
    !(Number.isInteger(config.logSeverity) && config.logSeverity >= 0 && config.logSeverity <= 4)
  ) {
    throw new UserError(`logSeverity must be 0, 1, 2, 3 or 4, got ${String(config.logSeverity)}.`);
  }
  if (config.deviceId !== undefined && !(Number.isInteger(config.deviceId) && config.deviceId >= 0)) {
    throw new UserError(`deviceId must be a whole number >= 0, got ${String(config.deviceId)}.`);
  }
  if (config.profile !== undefined && (typeof config.profile !== 'string' || config.profile === '')) {
    throw new UserError('profile must be a non-empty file prefix.');
  }
}

/**
 * The ONNX Runtime session options for `provider`: one intra-op pool of `threads` (or the default for
 * `cores`) whose idle threads sleep unless `spinning`, one inter-op thread, sequential execution, memory
 * arena and memory patterns on.
 */
export function buildSessionOptions(
  provider: Provider,
  config: SessionConfig,
  cores: number,
): InferenceSession.SessionOptions {
  validateSessionConfig(config);
  const ep: InferenceSession.ExecutionProviderConfig =
    provider === 'cuda' && config.deviceId !== undefined
      ? { name: 'cuda', deviceId: config.deviceId }
      : provider;
  const options: InferenceSession.SessionOptions = {
    executionProviders: [ep],
    executionMode: 'sequential',
    graphOptimizationLevel: config.graphOptimization ?? 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
    logSeverityLevel: (config.logSeverity ?? 3) as 0 | 1 | 2 | 3 | 4,
  };
  if (provider !== 'wasm') {
    // onnxruntime-web sizes its pool from env.wasm.numThreads instead (see session.web.ts).
    const threads = config.threads ?? defaultThreads(cores);
    options.intraOpNumThreads = threads;
    options.interOpNumThreads = 1;
    if (threads > 1 || config.spinning !== undefined) {
      options.extra = { session: { intra_op: { allow_spinning: config.spinning ? '1' : '0' } } };
    }
  }
  if (config.profile !== undefined) {
    options.enableProfiling = true;
    options.profileFilePrefix = config.profile;
  }
  return options;
}

/** The error text when `device` was asked for and cannot be used. */
export function unavailableMessage(device: ConcreteDevice, reason: string): string {
  switch (device) {
    case 'cuda':
      return (
        `Device 'cuda' is unavailable: ${reason}. CUDA needs an NVIDIA GPU with its driver, the CUDA and cuDNN ` +
        "runtime libraries, and ONNX Runtime's CUDA provider libraries: run `npm run setup:cuda`, see docs/gpu.md. " +
        "Or use device 'cpu' (or 'auto')."
      );
    case 'webgpu':
      return (
        `Device 'webgpu' is unavailable: ${reason}. In Node, WebGPU runs through Dawn over Vulkan and needs a ` +
        'Vulkan-capable GPU, its driver and the Vulkan loader (libvulkan.so.1); in a browser it needs WebGPU ' +
        "(navigator.gpu). See docs/gpu.md. Or use device 'cpu' (or 'auto')."
      );
    case 'cpu':
      return `Device 'cpu' is unavailable: ${reason}. Reinstall onnxruntime-node (npm ci); see docs/gpu.md.`;
  }
}

/** The one-line notice when `auto` did not get `wanted` and runs on `used` instead. */
export function fallbackNotice(wanted: ConcreteDevice, reason: string, used: Provider): string {
  return `${wanted} unavailable (${reason}): using ${used}. See docs/gpu.md`;
}

/** Squeezes any text onto one line of at most `max` characters. */
export function oneLine(text: string, max = 200): string {
  const esc = String.fromCharCode(27);
  const flat = text
    .split(esc)
    .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, '')))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * A short, one-line reason from an ONNX Runtime error raised while enabling an execution provider.
 * Unknown messages pass through, shortened.
 */
export function describeProviderError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  let m: RegExpMatchArray | null;
  if ((m = message.match(/([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file/)))
    return `${m[1]} not found`;
  if (/no CUDA-capable device/i.test(message)) return 'no CUDA-capable GPU detected';
  if (/CUDA driver version is insufficient/i.test(message))
    return 'the NVIDIA driver is too old for this CUDA runtime';
  if ((m = message.match(/CUDA failure (\d+): ([^;\n]+)/))) return oneLine(`CUDA error ${m[1]}: ${m[2]}`);
  if ((m = message.match(/CUDNN failure (\d+): ([^;\n]+)/i))) return oneLine(`cuDNN error ${m[1]}: ${m[2]}`);
  if ((m = message.match(/Failed to get a WebGPU adapter:?\s*([^\n]*)/))) {
    return oneLine(`no WebGPU adapter${m[1] ? ` (${m[1].trim().replace(/\.$/, '')})` : ''}`);
  }
  if (/AppendExecutionProvider_Cuda: Failed to load shared library/.test(message)) {
    return 'the CUDA provider library failed to load';
  }
  if (/backend not found/.test(message)) return 'not supported by this ONNX Runtime package';
  // Drop ORT's "/onnxruntime_src/...cc:123 fn(...)" location prefixes.
  return oneLine(
    message.replace(/\/onnxruntime_src\/\S+:\d+\s+/g, '').replace(/\[ONNXRuntimeError\]\s*:\s*/g, ''),
  );
}

/** What a runtime (node or web) provides to the shared factory logic. */
export interface RuntimeBackend {
  /** Cores to size the default intra-op pool. */
  cores(): number;
  /** The provider a concrete device maps to on this runtime (`cpu` → `wasm` on the web). */
  providerFor(device: ConcreteDevice): Provider;
  /** Whether a device works here; cached by the implementation. */
  probe(device: ConcreteDevice): Promise<DeviceStatus>;
  /**
   * Whether `auto` should mention a missing CUDA: only where CUDA was set up (false where it can never exist,
   * e.g. macOS and browsers, and on a default CPU-only install).
   */
  cudaPossible(): boolean;
  /** The error text for an unavailable, explicitly requested device (default: `unavailableMessage`). */
  unavailableMessage?(device: ConcreteDevice, reason: string): string;
  /** Creates a session with the given options. */
  create(model: Uint8Array | string, options: InferenceSession.SessionOptions): Promise<InferenceSession>;
}

/**
 * The factory shared by node and web: resolves `auto`, probes the device, builds options, creates the
 * session, and falls back from CUDA to the CPU (with a notice) only when `auto` was asked for.
 */
export async function createWithBackend(
  backend: RuntimeBackend,
  model: Uint8Array | string,
  config: SessionConfig = {},
): Promise<CreatedSession> {
  validateSessionConfig(config);
  const requested = config.device ?? 'auto';
  const cores = backend.cores();
  const created = async (provider: Provider, notice?: string): Promise<CreatedSession> => {
    const options = buildSessionOptions(provider, config, cores);
    const session = await backend.create(model, options);
    const threads = options.intraOpNumThreads;
    return {
      session,
      device: provider,
      ...(threads !== undefined && { threads }),
      ...(notice !== undefined && { notice }),
    };
  };
  const onCpu = (notice?: string) => created(backend.providerFor('cpu'), notice);

  if (requested === 'cpu') return onCpu();
  if (requested === 'cuda' || requested === 'webgpu') {
    const status = await backend.probe(requested);
    if (!status.available) {
      const reason = status.reason ?? 'unknown reason';
      const message =
        backend.unavailableMessage?.(requested, reason) ?? unavailableMessage(requested, reason);
      throw new DeviceUnavailableError(requested, reason, message);
    }
    return created(backend.providerFor(requested));
  }

  // auto: CUDA when it works, else the CPU. WebGPU is never picked on its own (see docs/gpu.md).
  const cuda = await backend.probe('cuda');
  if (!cuda.available) {
    return onCpu(
      backend.cudaPossible() ? fallbackNotice('cuda', cuda.reason ?? 'unknown reason', 'cpu') : undefined,
    );
  }
  try {
    return await created(backend.providerFor('cuda'));
  } catch (error) {
    // The probe passed but this model would not start on CUDA (e.g. out of GPU memory): the CPU may still work.
    return onCpu(fallbackNotice('cuda', describeProviderError(error), backend.providerFor('cpu')));
  }
}
