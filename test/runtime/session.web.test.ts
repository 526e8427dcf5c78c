// The onnxruntime-web factory under Node: wasm sessions, auto, and the errors for cuda and webgpu.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-web';
import {
  availableDevices,
  createSession,
  DeviceUnavailableError,
  wasmThreadsAllowed,
} from '../../src/runtime/session.web.ts';
import { reluModel, X, Y } from './helpers.ts';

const bytes = reluModel();

describe('createSession (onnxruntime-web)', () => {
  test('cpu runs on wasm with the default thread count (one on ≤ 2 cores)', async () => {
    const { session, device, notice } = await createSession(bytes, { device: 'cpu' });
    assert.equal(device, 'wasm');
    assert.equal(notice, undefined);
    assert.equal(ort.env.wasm.numThreads, 1);
    const out = await session.run({ x: new ort.Tensor('float32', X.slice(), [2, 3]) });
    assert.deepEqual([...(out.y!.data as Float32Array)], Y);
    await session.release();
  });

  test('auto is wasm, silently', async () => {
    const { session, device, notice } = await createSession(bytes);
    assert.equal(device, 'wasm');
    assert.equal(notice, undefined);
    await session.release();
  });

  test('under Node wasm threads need no isolation; the count is fixed by the first session', async () => {
    assert.equal(wasmThreadsAllowed(), true);
    const { session, notice } = await createSession(bytes, { threads: 2 });
    assert.equal(notice, 'onnxruntime-web fixed its thread count at 1 when the first session started');
    await session.release();
  });

  test('cuda throws a user-facing error pointing at webgpu or cpu', async () => {
    await assert.rejects(createSession(bytes, { device: 'cuda' }), (e: unknown) => {
      assert.ok(e instanceof DeviceUnavailableError);
      assert.equal(e.userFacing, true);
      assert.match(
        e.message,
        /^Device 'cuda' is unavailable in the browser: .+\. Use device 'webgpu' or 'cpu' \(wasm\)\.$/,
      );
      return true;
    });
  });

  test('webgpu under Node (no navigator.gpu) throws a clear error', async () => {
    await assert.rejects(createSession(bytes, { device: 'webgpu' }), (e: unknown) => {
      assert.ok(e instanceof DeviceUnavailableError);
      assert.match(
        e.message,
        /^Device 'webgpu' is unavailable: this environment has no WebGPU \(navigator\.gpu is missing\)\./,
      );
      return true;
    });
  });

  test('availableDevices: only cpu (wasm) here', async () => {
    const list = await availableDevices();
    assert.deepEqual(
      list.map((d) => [d.device, d.available]),
      [
        ['cpu', true],
        ['cuda', false],
        ['webgpu', false],
      ],
    );
  });
});
