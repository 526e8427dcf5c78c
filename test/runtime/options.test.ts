// Unit tests of the portable session core: option building, validation, error texts, fallback logic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InferenceSession } from 'onnxruntime-common';
import {
  buildSessionOptions,
  type ConcreteDevice,
  createWithBackend,
  type DeviceStatus,
  DeviceUnavailableError,
  defaultThreads,
  describeProviderError,
  fallbackNotice,
  oneLine,
  type RuntimeBackend,
  unavailableMessage,
  validateSessionConfig,
} from '../../src/runtime/session.ts';

describe('defaultThreads', () => {
  test('1 on hosts with up to 2 cores, else min(4, cores)', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 8, 64].map((c) => defaultThreads(c)),
      [1, 1, 3, 4, 4, 4],
    );
    assert.equal(defaultThreads(Number.NaN), 1);
  });
});

describe('buildSessionOptions', () => {
  test('threads reach intraOpNumThreads; inter-op is 1; sequential; arena and patterns on', () => {
    const o = buildSessionOptions('cpu', { threads: 3 }, 2);
    assert.equal(o.intraOpNumThreads, 3);
    assert.equal(o.interOpNumThreads, 1);
    assert.equal(o.executionMode, 'sequential');
    assert.equal(o.enableCpuMemArena, true);
    assert.equal(o.enableMemPattern, true);
    assert.deepEqual(o.executionProviders, ['cpu']);
    assert.equal(o.graphOptimizationLevel, 'all');
    assert.equal(o.logSeverityLevel, 3);
    assert.equal(o.enableProfiling, undefined);
  });

  test('idle intra-op threads sleep unless spinning is asked for', () => {
    const sleeping = { session: { intra_op: { allow_spinning: '0' } } };
    assert.deepEqual(buildSessionOptions('cpu', { threads: 2 }, 2).extra, sleeping);
    assert.deepEqual(buildSessionOptions('cpu', { threads: 2, spinning: true }, 2).extra, {
      session: { intra_op: { allow_spinning: '1' } },
    });
    assert.equal(buildSessionOptions('cpu', { threads: 1 }, 2).extra, undefined);
  });

  test('default threads come from the core count', () => {
    assert.equal(buildSessionOptions('cpu', {}, 2).intraOpNumThreads, 1);
    assert.equal(buildSessionOptions('cpu', {}, 16).intraOpNumThreads, 4);
  });

  test('never parallel execution, whatever the config', () => {
    for (const p of ['cpu', 'cuda', 'webgpu', 'wasm'] as const) {
      assert.equal(buildSessionOptions(p, { threads: 8 }, 32).executionMode, 'sequential');
    }
  });

  test('cuda device id, profiling, log level, optimisation level, spinning', () => {
    const o = buildSessionOptions(
      'cuda',
      { deviceId: 1, profile: '/tmp/prof', logSeverity: 0, graphOptimization: 'basic', spinning: false },
      4,
    );
    assert.deepEqual(o.executionProviders, [{ name: 'cuda', deviceId: 1 }]);
    assert.equal(o.enableProfiling, true);
    assert.equal(o.profileFilePrefix, '/tmp/prof');
    assert.equal(o.logSeverityLevel, 0);
    assert.equal(o.graphOptimizationLevel, 'basic');
    assert.deepEqual(o.extra, { session: { intra_op: { allow_spinning: '0' } } });
  });

  test('wasm leaves thread counts to env.wasm.numThreads', () => {
    const o = buildSessionOptions('wasm', { threads: 2 }, 8);
    assert.equal(o.intraOpNumThreads, undefined);
    assert.equal(o.interOpNumThreads, undefined);
    assert.deepEqual(o.executionProviders, ['wasm']);
  });
});

describe('validateSessionConfig', () => {
  const bad: [object, RegExp][] = [
    [{ device: 'gpu' }, /Unknown device 'gpu': use one of auto, cpu, cuda, webgpu/],
    [{ threads: 0 }, /threads must be a whole number >= 1/],
    [{ threads: 1.5 }, /threads must be a whole number >= 1/],
    [{ graphOptimization: 'extended' }, /graphOptimization must be one of all, basic, disabled/],
    [{ logSeverity: 7 }, /logSeverity must be 0, 1, 2, 3 or 4/],
    [{ deviceId: -1 }, /deviceId must be a whole number >= 0/],
    [{ profile: '' }, /profile must be a non-empty file prefix/],
  ];
  for (const [config, message] of bad) {
    test(`rejects ${JSON.stringify(config)} with a user-facing error`, () => {
      assert.throws(
        () => validateSessionConfig(config),
        (e: Error & { userFacing?: boolean }) => e.userFacing === true && message.test(e.message),
      );
    });
  }
  test('accepts an empty config', () => validateSessionConfig({}));
});

describe('error texts', () => {
  test('cuda: says what is missing and how to set it up', () => {
    const m = unavailableMessage('cuda', 'libonnxruntime_providers_cuda.so not found');
    assert.match(m, /^Device 'cuda' is unavailable: libonnxruntime_providers_cuda\.so not found\./);
    assert.match(m, /npm run setup:cuda/);
    assert.match(m, /docs\/gpu\.md/);
  });
  test('webgpu: names Vulkan and the GPU', () => {
    const m = unavailableMessage('webgpu', 'no WebGPU adapter');
    assert.match(m, /Vulkan-capable GPU/);
    assert.match(m, /docs\/gpu\.md/);
  });
  test('fallback notice is one line', () => {
    const n = fallbackNotice('cuda', 'libonnxruntime_providers_cuda.so not found', 'cpu');
    assert.equal(
      n,
      'cuda unavailable (libonnxruntime_providers_cuda.so not found): using cpu. See docs/gpu.md',
    );
  });
  test('oneLine flattens, strips colour codes, truncates', () => {
    assert.equal(oneLine('\u001b[1;31ma\n  b\u001b[m'), 'a b');
    assert.equal(oneLine('x'.repeat(300), 10).length, 10);
  });
});

describe('describeProviderError', () => {
  // Messages as onnxruntime-node 1.30 printed or threw them on this project's CPU-only build host.
  const cases: [string, string][] = [
    [
      'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
      'the CUDA provider library failed to load',
    ],
    [
      'Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory',
      'libcublasLt.so.13 not found',
    ],
    [
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
      'no WebGPU adapter (No supported adapters)',
    ],
    [
      'no available backend found. ERR: [webgpu] backend not found.',
      'not supported by this ONNX Runtime package',
    ],
    // CUDA runtime texts (not reproducible without a GPU; the shapes follow ORT's CUDA_CALL messages).
    [
      'CUDA failure 100: no CUDA-capable device is detected ; GPU=0 ; hostname=h',
      'no CUDA-capable GPU detected',
    ],
    [
      'CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version ; GPU=0',
      'the NVIDIA driver is too old for this CUDA runtime',
    ],
    ['CUDA failure 2: out of memory ; GPU=0 ; hostname=h', 'CUDA error 2: out of memory'],
  ];
  for (const [message, reason] of cases) {
    test(reason, () => assert.equal(describeProviderError(new Error(message)), reason));
  }
  test('unknown messages pass through on one line', () => {
    const r = describeProviderError(new Error('/onnxruntime_src/a/b.cc:12 something\nwent wrong'));
    assert.equal(r, 'something went wrong');
  });
});

/** A fake runtime: records the options each create() got; fails creation for the providers in `failOn`. */
function fakeBackend(
  status: Partial<Record<ConcreteDevice, DeviceStatus>>,
  failOn: string[] = [],
  cudaPossible = true,
) {
  const created: InferenceSession.SessionOptions[] = [];
  const backend: RuntimeBackend = {
    cores: () => 2,
    providerFor: (d) => d,
    probe: async (d) => status[d] ?? { device: d, available: true },
    cudaPossible: () => cudaPossible,
    create: async (_model, options) => {
      created.push(options);
      const ep = options.executionProviders?.[0];
      const name = typeof ep === 'string' ? ep : ep?.name;
      if (name && failOn.includes(name)) throw new Error(`CUDA failure 2: out of memory ; GPU=0 (${name})`);
      return { name } as unknown as InferenceSession;
    },
  };
  return { backend, created };
}

const model = new Uint8Array(0);
const noCuda: DeviceStatus = {
  device: 'cuda',
  available: false,
  reason: 'libonnxruntime_providers_cuda.so not found',
};

describe('createWithBackend', () => {
  test('threads reach the created session options', async () => {
    const { backend, created } = fakeBackend({});
    await createWithBackend(backend, model, { device: 'cpu', threads: 2 });
    assert.equal(created[0]!.intraOpNumThreads, 2);
    assert.equal(created[0]!.interOpNumThreads, 1);
  });

  test('auto prefers cuda when it works', async () => {
    const { backend } = fakeBackend({});
    const r = await createWithBackend(backend, model, {});
    assert.equal(r.device, 'cuda');
    assert.equal(r.notice, undefined);
  });

  test('auto falls back to cpu with a one-line notice', async () => {
    const { backend, created } = fakeBackend({ cuda: noCuda });
    const r = await createWithBackend(backend, model, { device: 'auto' });
    assert.equal(r.device, 'cpu');
    assert.equal(
      r.notice,
      'cuda unavailable (libonnxruntime_providers_cuda.so not found): using cpu. See docs/gpu.md',
    );
    assert.equal(created.length, 1);
  });

  test('auto never picks webgpu', async () => {
    const { backend } = fakeBackend({ cuda: noCuda, webgpu: { device: 'webgpu', available: true } });
    assert.equal((await createWithBackend(backend, model, {})).device, 'cpu');
  });

  test('auto says nothing where CUDA can never exist', async () => {
    const { backend } = fakeBackend({ cuda: noCuda }, [], false);
    const r = await createWithBackend(backend, model, {});
    assert.equal(r.device, 'cpu');
    assert.equal(r.notice, undefined);
  });

  test('auto retries on cpu when the model fails to start on cuda', async () => {
    const { backend } = fakeBackend({}, ['cuda']);
    const r = await createWithBackend(backend, model, {});
    assert.equal(r.device, 'cpu');
    assert.equal(r.notice, 'cuda unavailable (CUDA error 2: out of memory): using cpu. See docs/gpu.md');
  });

  test('a model that fails everywhere raises the cpu error, not a device error', async () => {
    const { backend } = fakeBackend({}, ['cuda', 'cpu']);
    await assert.rejects(createWithBackend(backend, model, {}), (e: Error) => /\(cpu\)/.test(e.message));
  });

  test('explicit cuda that is unavailable throws a user-facing DeviceUnavailableError', async () => {
    const { backend, created } = fakeBackend({ cuda: noCuda });
    await assert.rejects(createWithBackend(backend, model, { device: 'cuda' }), (e: unknown) => {
      assert.ok(e instanceof DeviceUnavailableError);
      assert.equal(e.userFacing, true);
      assert.equal(e.device, 'cuda');
      assert.equal(e.reason, 'libonnxruntime_providers_cuda.so not found');
      assert.match(e.message, /npm run setup:cuda/);
      return true;
    });
    assert.equal(created.length, 0);
  });

  test('a backend may word its own unavailable message', async () => {
    const { backend } = fakeBackend({ cuda: noCuda });
    backend.unavailableMessage = (d, r) => `no ${d} here: ${r}`;
    await assert.rejects(
      createWithBackend(backend, model, { device: 'cuda' }),
      /DeviceUnavailableError: no cuda here: libonnxruntime_providers_cuda\.so not found$/,
    );
  });

  test('bad config is rejected before anything is probed', async () => {
    const { backend, created } = fakeBackend({});
    await assert.rejects(createWithBackend(backend, model, { threads: -1 }), /threads must be/);
    assert.equal(created.length, 0);
  });
});
