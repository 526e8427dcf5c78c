// Real onnxruntime-node sessions through the factory: cpu, auto's fallback, explicit cuda and webgpu.
// The cuda/webgpu tests assert whichever is true on the host (available → it runs; not → the error's shape).
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { missingCudaProviderFiles, ortBinDir } from '../../src/runtime/providers.node.ts';
import {
  availableDevices,
  createSession,
  DeviceUnavailableError,
  defaultThreads,
  probeDevice,
} from '../../src/runtime/session.node.ts';
import { reluModel, X, Y } from './helpers.ts';

const bytes = reluModel();

async function runRelu(session: ort.InferenceSession): Promise<number[]> {
  const out = await session.run({ x: new ort.Tensor('float32', X.slice(), [2, 3]) });
  return [...(out.y!.data as Float32Array)];
}

describe('createSession (onnxruntime-node)', () => {
  test('cpu runs the model', async () => {
    const { session, device, notice, threads } = await createSession(bytes, { device: 'cpu', threads: 1 });
    assert.equal(device, 'cpu');
    assert.equal(threads, 1);
    assert.equal(notice, undefined);
    assert.deepEqual(await runRelu(session), Y);
    await session.release();
  });

  test('the created session reports its intra-op threads: as asked, else the default for the host', async () => {
    const two = await createSession(bytes, { device: 'cpu', threads: 2 });
    assert.equal(two.threads, 2);
    await two.session.release();
    const plain = await createSession(bytes, { device: 'cpu' });
    assert.equal(plain.threads, defaultThreads(availableParallelism()));
    await plain.session.release();
  });

  test('auto: cuda when it works, else cpu; a notice only where CUDA was set up', async () => {
    const cuda = await probeDevice('cuda');
    const { session, device, notice } = await createSession(bytes);
    const setUp = missingCudaProviderFiles(ortBinDir()).length === 0;
    if (cuda.available) {
      assert.equal(device, 'cuda');
      assert.equal(notice, undefined);
    } else if (!setUp) {
      // The default install: CPU is what it came with, so nothing to say.
      assert.equal(device, 'cpu');
      assert.equal(notice, undefined);
    } else {
      assert.equal(device, 'cpu');
      assert.ok(notice);
      assert.match(notice, /^cuda unavailable \(.+\): using cpu\. See docs\/gpu\.md$/);
      assert.ok(!notice.includes('\n'));
      assert.ok(notice.includes(cuda.reason!));
    }
    assert.deepEqual(await runRelu(session), Y);
    await session.release();
  });

  test('explicit cuda: runs, or throws the user-facing error with the set-up hint', async () => {
    const cuda = await probeDevice('cuda');
    if (cuda.available) {
      const { session, device } = await createSession(bytes, { device: 'cuda' });
      assert.equal(device, 'cuda');
      assert.deepEqual(await runRelu(session), Y);
      await session.release();
      return;
    }
    await assert.rejects(createSession(bytes, { device: 'cuda' }), (e: unknown) => {
      assert.ok(e instanceof DeviceUnavailableError);
      assert.equal(e.userFacing, true);
      assert.equal(e.reason, cuda.reason);
      assert.match(e.message, /^Device 'cuda' is unavailable: .+\. CUDA needs an NVIDIA GPU/);
      assert.match(e.message, /run `npm run setup:cuda`, see docs\/gpu\.md/);
      return true;
    });
  });

  test('explicit webgpu: runs, or throws a clear error naming Vulkan and the GPU', async () => {
    const webgpu = await probeDevice('webgpu');
    if (webgpu.available) {
      const { session, device } = await createSession(bytes, { device: 'webgpu' });
      assert.equal(device, 'webgpu');
      assert.deepEqual(await runRelu(session), Y);
      await session.release();
      return;
    }
    await assert.rejects(createSession(bytes, { device: 'webgpu' }), (e: unknown) => {
      assert.ok(e instanceof DeviceUnavailableError);
      assert.equal(e.userFacing, true);
      assert.match(
        e.message,
        /^Device 'webgpu' is unavailable: .+\. In Node, WebGPU runs through Dawn over Vulkan/,
      );
      assert.match(e.message, /Vulkan-capable GPU, its driver and the Vulkan loader/);
      return true;
    });
  });

  test('a model path that does not exist is a user-facing error', async () => {
    await assert.rejects(createSession('/nonexistent/model.onnx'), (e: Error & { userFacing?: boolean }) => {
      return e.userFacing === true && /Model file not found: \/nonexistent\/model\.onnx/.test(e.message);
    });
  });

  test('a bad option is a user-facing error', async () => {
    await assert.rejects(createSession(bytes, { threads: 0 }), /threads must be a whole number/);
  });

  test('profiling writes a trace with the given prefix', async () => {
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ort-prof-'));
    try {
      const { session } = await createSession(bytes, { device: 'cpu', profile: join(dir, 'trace') });
      await runRelu(session);
      session.endProfiling();
      await session.release();
      assert.ok(readdirSync(dir).some((f) => f.startsWith('trace') && f.endsWith('.json')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('availableDevices (onnxruntime-node)', () => {
  test('lists cpu, cuda and webgpu; cpu is available; reasons are one line; cached', async () => {
    const list = await availableDevices();
    assert.deepEqual(
      list.map((d) => d.device),
      ['cpu', 'cuda', 'webgpu'],
    );
    assert.equal(list[0]!.available, true);
    for (const d of list) {
      if (!d.available) assert.ok(d.reason && !d.reason.includes('\n'), `${d.device}: ${d.reason}`);
    }
    const again = await availableDevices();
    for (let i = 0; i < list.length; i++) assert.equal(again[i], list[i]);
  });
});
