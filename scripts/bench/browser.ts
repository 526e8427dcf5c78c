// The Node side of the Chromium training benchmark: bundles browser-entry.ts with the onnxruntime-web
// wasm files into a temporary folder, serves it with the page server's COOP/COEP headers (cross-origin
// isolated, so wasm threads work), and times the step in headless Chromium.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { ORT_FILES, ortDist, ortWasmOnly } from '../build-web.ts';
import { serveWeb } from '../serve-web.ts';
import type { PageTiming } from './browser-entry.ts';
import type { ModelSize, TimingPlan } from './configs.ts';
import { type TrainTiming, trainTiming } from './train.ts';

/** Where Debian's chromium package puts the browser; `CHROMIUM_PATH` overrides it. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Times the fused training step of `size` on onnxruntime-web's wasm in headless Chromium with `threads` threads. */
export async function timeTrainingInChromium(
  size: ModelSize,
  threads: number,
  plan: TimingPlan,
): Promise<TrainTiming> {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-chromium-'));
  const server = await (async () => {
    await build({
      entryPoints: [resolve(import.meta.dirname, 'browser-entry.ts')],
      outfile: join(dir, 'entry.js'),
      bundle: true,
      format: 'iife',
      globalName: '__bench',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
      plugins: [ortWasmOnly],
    });
    for (const name of ORT_FILES) copyFileSync(join(ortDist(), name), join(dir, name));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>bench</title><script src="entry.js"></script>',
    );
    return serveWeb({ root: dir, port: 0 });
  })();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(server.url);
    const timing = (await page.evaluate(
      ([s, p, t]) =>
        (
          globalThis as unknown as {
            __bench: { timeTrainStep(...a: unknown[]): Promise<unknown> };
          }
        ).__bench.timeTrainStep(s, p, t, './'),
      [size, plan, threads] as const,
    )) as PageTiming;
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (threads > 1 && !timing.crossOriginIsolated) throw new Error('the page is not cross-origin isolated');
    return trainTiming(size, { runtime: 'chromium', threads: timing.threads }, plan, timing, timing.times);
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
