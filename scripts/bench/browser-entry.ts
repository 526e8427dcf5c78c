// The page side of the Chromium training benchmark: builds the fused step in the page, opens it on
// onnxruntime-web's wasm through the project's web session factory, and times it like the Node harness.
import * as ort from 'onnxruntime-web';
import { buildArtifacts } from '../../graphs/artifacts.ts';
import { createSession } from '../../src/runtime/session.web.ts';
import { CPU_TARGET, type ModelSize, type TimingPlan, trainingConfig } from './configs.ts';
import { type StepTimes, timeSteps } from './feeds.ts';

/** What the page measured, for `trainTiming` on the Node side. */
export interface PageTiming {
  buildMs: number;
  sessionMs: number;
  params: number;
  threads: number;
  crossOriginIsolated: boolean;
  notice?: string;
  times: StepTimes;
}

/** Times the fused step of `size` on wasm with `threads` threads; the runtime files come from `wasmPrefix`. */
export async function timeTrainStep(
  size: ModelSize,
  plan: TimingPlan,
  threads: number,
  wasmPrefix: string,
): Promise<PageTiming> {
  ort.env.wasm.wasmPaths = new URL(wasmPrefix, location.href).href;
  const t0 = performance.now();
  const artifacts = buildArtifacts(trainingConfig(size), size.batch, 1, CPU_TARGET);
  const buildMs = performance.now() - t0;
  const t1 = performance.now();
  const { session, notice } = await createSession(artifacts.trainStep, { device: 'cpu', threads });
  const sessionMs = performance.now() - t1;
  // Tensors of this bundle's onnxruntime-common are rewrapped (no copy) as onnxruntime-web's own.
  const times = await timeSteps(artifacts, size.batch, plan, async (feeds) => {
    const own: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds))
      own[name] = new ort.Tensor(t.type, t.data as Float32Array, t.dims);
    return (await session.run(own)) as never;
  });
  await session.release();
  return {
    buildMs,
    sessionMs,
    params: artifacts.manifest.optimizerLayout.reduce((a, s) => a + s.size, 0),
    threads: ort.env.wasm.numThreads ?? 1,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    ...(notice ? { notice } : {}),
    times,
  };
}
