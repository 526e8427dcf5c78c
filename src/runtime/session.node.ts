// The onnxruntime-node session factory: probes CPU, CUDA and WebGPU cheaply (files first, then a tiny
// session), caches what it learns, and creates sessions through the shared fallback logic in session.ts.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { UserError } from '../core/errors.ts';
import { PROBE_INPUT, probeModel } from './probe-model.ts';
import {
  cudaProviderFiles,
  findSharedLibrary,
  missingCudaProviderFiles,
  missingSharedLibraries,
  ortBinDir,
} from './providers.node.ts';
import {
  type ConcreteDevice,
  type CreatedSession,
  createWithBackend,
  type DeviceStatus,
  describeProviderError,
  type RuntimeBackend,
  type SessionConfig,
} from './session.ts';

export * from './session.ts';

const probes = new Map<ConcreteDevice, Promise<DeviceStatus>>();

function supportedBackends(): Set<string> {
  return new Set(ort.listSupportedBackends().map((b) => b.name));
}

/** Creates the probe session on `device` and runs it once; returns a reason when that fails. */
async function tryTinySession(device: ConcreteDevice): Promise<string | undefined> {
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(probeModel(), {
      executionProviders: [device],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
    const out = await session.run({ x: new ort.Tensor('float32', PROBE_INPUT.slice(), [1, 4]) });
    const y = out.y?.data;
    if (!(y instanceof Float32Array) || y[0] !== 0 || y[3] !== 2)
      return `a test run on ${device} gave wrong results`;
    return undefined;
  } catch (error) {
    return describeProviderError(error);
  } finally {
    await session?.release().catch(() => undefined);
  }
}

/** Works out whether `device` can be used here, cheapest checks first. Not cached. */
async function probeUncached(device: ConcreteDevice): Promise<DeviceStatus> {
  const where = `${process.platform}/${process.arch}`;
  if (device !== 'cpu' && !supportedBackends().has(device)) {
    return { device, available: false, reason: `onnxruntime-node has no ${device} provider on ${where}` };
  }
  if (device === 'cuda') {
    const binDir = ortBinDir();
    const missingFiles = missingCudaProviderFiles(binDir);
    if (missingFiles.length > 0) return { device, available: false, reason: `${missingFiles[0]} not found` };
    const libs = missingSharedLibraries(join(binDir, cudaProviderFiles()[0]!));
    if (libs && libs.length > 0) {
      const driver = libs.includes('libcuda.so.1') ? '; libcuda.so.1 comes with the NVIDIA driver' : '';
      return { device, available: false, reason: `${libs.join(', ')} not found${driver}` };
    }
  }
  if (device === 'webgpu' && findSharedLibrary('libvulkan.so.1') === false) {
    return { device, available: false, reason: 'the Vulkan loader libvulkan.so.1 is not installed' };
  }
  const reason = await tryTinySession(device);
  return reason === undefined ? { device, available: true } : { device, available: false, reason };
}

/** Whether `device` works in this process; the first answer is cached for the life of the process. */
export function probeDevice(device: ConcreteDevice): Promise<DeviceStatus> {
  let p = probes.get(device);
  if (!p) {
    p = probeUncached(device);
    probes.set(device, p);
  }
  return p;
}

/**
 * Which devices onnxruntime-node can use here, with a one-line reason for each that it cannot.
 * Checks files and libraries first, then creates a tiny session per provider; cached per process.
 */
export async function availableDevices(): Promise<DeviceStatus[]> {
  return Promise.all((['cpu', 'cuda', 'webgpu'] as const).map((d) => probeDevice(d)));
}

/** The onnxruntime-node side of the shared factory logic. */
export const nodeBackend: RuntimeBackend = {
  cores: () => availableParallelism(),
  providerFor: (device) => device,
  probe: probeDevice,
  // A default install has no CUDA provider files (see docs/gpu.md): CPU is what it asked for, so `auto`
  // says nothing. Once `npm run setup:cuda` has put them in place, a fallback to the CPU is news.
  cudaPossible: () => supportedBackends().has('cuda') && missingCudaProviderFiles(ortBinDir()).length === 0,
  create: (model, options) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, options)
      : ort.InferenceSession.create(model, options),
};

/**
 * Creates an onnxruntime-node session on the configured device.
 *
 * `auto` (the default) uses CUDA when it works and otherwise the CPU, with a one-line `notice` saying why.
 * An explicitly requested device that cannot be used throws a `DeviceUnavailableError` (user-facing).
 */
export async function createSession(
  model: Uint8Array | string,
  config: SessionConfig = {},
): Promise<CreatedSession> {
  if (typeof model === 'string' && !existsSync(model)) {
    throw new UserError(`Model file not found: ${model}`);
  }
  return createWithBackend(nodeBackend, model, config);
}
