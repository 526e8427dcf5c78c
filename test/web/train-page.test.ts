// Training in the browser page end to end: drop a generated events file on the page in headless Chromium
// (WebGPU through SwiftShader, then wasm), train a small model to completion, download its files, and
// check that `ocsf-embed score --model` scores with them as the page did, and that the loss curve is
// the command line's for the same file, settings and seed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, PAGE_FILES, WEB_DIR } from '../../scripts/build-web.ts';
import { serveWeb, type WebServer } from '../../scripts/serve-web.ts';
import { RUN_FILES } from '../../src/run/layout.ts';
import type { EpochRecord, StepRecord } from '../../src/run/metrics.ts';
import { launchChromium, SYSTEM_CHROMIUM } from '../helpers/browser.ts';
import { generateEvents, readJsonl } from '../helpers/run-fixture.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'ocsf-embed.js');
const SETTINGS = { objective: 'both', epochs: 2, batch: 64, dmodel: 16, blocks: 1, seed: 3 } as const;
/** Training loss (relative) between runtimes over a short run; see docs/gpu.md for what WebGPU and wasm give. */
const LOSS_TOLERANCE = 1e-4;
/**
 * Validation loss (relative): eval-mode BatchNorm subtracts the running mean, which lags the biases before
 * it; those drift apart between runtimes by rounding noise (docs/gpu.md), so eval losses agree less closely.
 */
const VAL_LOSS_TOLERANCE = 1e-3;
/**
 * Anomaly scores of the same events through the page's and the command line's model and scorer, in
 * reference ranks: a score is a rank among the n reference events' own, and the runtimes' rounding (the
 * reconstruction surprise above all) can move an event past a reference event or two: 3/n (0.008 for this
 * run's 378), where a real run's 16,384 reference events make it 2·10⁻⁴.
 */
const SCORE_RANKS = 3;

interface PageTraining {
  device: string;
  losses: number[];
  metrics: (StepRecord | EpochRecord)[];
  batchSize: number;
}

let dir: string;
let eventsPath: string;
let server: WebServer | undefined;
let browser: Browser | undefined;
let page: Page;
const errors: string[] = [];
let webgpu: PageTraining;

function cli(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-train-page-'));
  eventsPath = join(dir, 'events.jsonl');
  generateEvents(eventsPath, 420, 21);
  const site = join(dir, 'site');
  mkdirSync(site);
  for (const name of PAGE_FILES) copyFileSync(join(WEB_DIR, name), join(site, name));
  await buildWeb({ outDir: join(site, 'dist') });
  server = await serveWeb({ root: site, port: 0 });
  browser = await launchChromium(SYSTEM_CHROMIUM, { webgpu: true });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 }, acceptDownloads: true });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.setDefaultTimeout(240_000);
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === 'idle');
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Fills the settings, drops the events file on the page and waits for training and scoring to end. */
async function trainOnPage(device: 'webgpu' | 'cpu'): Promise<PageTraining> {
  await page.selectOption('#t-objective', SETTINGS.objective);
  await page.fill('#t-epochs', String(SETTINGS.epochs));
  await page.fill('#t-batch', String(SETTINGS.batch));
  await page.fill('#t-dmodel', String(SETTINGS.dmodel));
  await page.fill('#t-blocks', String(SETTINGS.blocks));
  await page.fill('#t-seed', String(SETTINGS.seed));
  await page.selectOption('#t-device', device);
  const bytes = readFileSync(eventsPath).toString('base64');
  const transfer = await page.evaluateHandle((b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const t = new DataTransfer();
    t.items.add(new File([data], 'events.jsonl', { type: 'application/x-ndjson' }));
    return t;
  }, bytes);
  await page.evaluate(() => {
    delete document.body.dataset.train;
  });
  await page.dispatchEvent('#drop', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.train ?? ''));
  const status = await page.locator('#train-status').textContent();
  assert.equal(await page.evaluate(() => document.body.dataset.train), 'done', `training stopped: ${status}`);
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''));
  assert.equal(
    await page.evaluate(() => document.body.dataset.state),
    'done',
    (await page.locator('#status').textContent()) ?? '',
  );
  assert.deepEqual(errors, [], 'no page or console errors');
  return page.evaluate(
    () => (globalThis as unknown as { ocsfEmbedTraining: PageTraining }).ocsfEmbedTraining,
  );
}

/** A run's losses in the order of its metric records: step losses, epoch train losses, epoch val losses. */
interface Losses {
  train: number[];
  val: number[];
}

function recordLosses(ms: (StepRecord | EpochRecord)[]): Losses {
  return {
    train: ms.flatMap((m) => (m.type === 'step' ? [m.loss] : [m.train_loss])),
    val: ms.flatMap((m) => (m.type === 'epoch' ? [m.val_loss ?? Number.NaN] : [])),
  };
}

function assertClose(actual: number[], expected: number[], tolerance: number, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: count`);
  let worst = 0;
  actual.forEach((l, i) => {
    const rel = Math.abs(l - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    worst = Math.max(worst, rel);
    assert.ok(rel <= tolerance, `${what}: value ${i + 1}: ${l} vs ${expected[i]}`);
  });
  return worst;
}

function assertSameLosses(actual: Losses, expected: Losses, what: string): { train: number; val: number } {
  return {
    train: assertClose(actual.train, expected.train, LOSS_TOLERANCE, `${what}, training loss`),
    val: assertClose(actual.val, expected.val, VAL_LOSS_TOLERANCE, `${what}, validation loss`),
  };
}

test('dropping an events file trains on WebGPU, shows progress, loss chart and anomalies, and offers the run files', async (t) => {
  webgpu = await trainOnPage('webgpu');
  assert.equal(webgpu.device, 'webgpu');
  const trainRows = 420 - Math.round(420 * 0.1);
  const steps = SETTINGS.epochs * Math.floor(trainRows / SETTINGS.batch);
  assert.equal(webgpu.losses.length, steps);
  assert.ok(webgpu.losses.every(Number.isFinite));
  assert.equal(await page.locator('#train-progress').evaluate((p: HTMLProgressElement) => p.value), 1);
  assert.ok((await page.locator('#loss-chart svg polyline').count()) > 0, 'the loss chart is drawn');
  assert.match((await page.locator('#train-status').textContent()) ?? '', /^Trained on WebGPU in /);
  assert.match(
    (await page.locator('#cli-command').textContent()) ?? '',
    /ocsf-embed train events\.jsonl .*--seed 3 --device webgpu/,
  );
  assert.ok((await page.locator('#anomalies tbody tr').count()) > 0, 'the anomaly table is filled');
  t.diagnostic(`${steps} steps on WebGPU; status: ${await page.locator('#train-status').textContent()}`);

  // Download the run files and score with them on the command line.
  const runDir = join(dir, 'downloaded');
  mkdirSync(runDir);
  for (const name of [
    RUN_FILES.model,
    RUN_FILES.reconstruction,
    RUN_FILES.reference,
    RUN_FILES.scorer,
    RUN_FILES.spec,
    RUN_FILES.metrics,
  ]) {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`#downloads a[download="${name}"]`),
    ]);
    assert.equal(download.suggestedFilename(), name);
    await download.saveAs(join(runDir, name));
  }
  const scoresPath = join(dir, 'scores.jsonl');
  cli('score', eventsPath, '--model', runDir, '--out', scoresPath, '--device', 'cpu', '--quiet');
  const scored = readJsonl<{ uid: string; score: number }>(scoresPath);
  assert.equal(scored.length, 420);
  const pageRows = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#anomalies tbody tr'), (tr) => ({
      uid: tr.querySelector('td.uid')?.textContent ?? '',
      score: Number(tr.querySelector('td:nth-child(3)')?.textContent),
    })),
  );
  const byUid = new Map(scored.map((r) => [r.uid, r.score]));
  let worst = 0;
  for (const row of pageRows) {
    const cliScore = byUid.get(row.uid);
    assert.ok(cliScore !== undefined, `the CLI scored ${row.uid}`);
    worst = Math.max(worst, Math.abs(cliScore - row.score));
  }
  const { n } = JSON.parse(readFileSync(join(runDir, RUN_FILES.scorer), 'utf8')) as { n: number };
  assert.ok(
    worst <= SCORE_RANKS / n,
    `page vs CLI scores differ by ${worst}, over ${SCORE_RANKS} of ${n} ranks`,
  );
  t.diagnostic(
    `CLI scores with the downloaded files: ${pageRows.length} table rows within ${worst.toExponential(1)} of the page`,
  );
});

test('the page trains as `ocsf-embed train` does on the same file and seed, and on wasm as on WebGPU', async (t) => {
  assert.ok(webgpu, 'the WebGPU run of the previous test');
  const cliRun = join(dir, 'cli-run');
  cli(
    'train',
    eventsPath,
    '--out',
    cliRun,
    '--objective',
    SETTINGS.objective,
    '--epochs',
    String(SETTINGS.epochs),
    '--batch-size',
    String(SETTINGS.batch),
    '--d-model',
    String(SETTINGS.dmodel),
    '--blocks',
    String(SETTINGS.blocks),
    '--seed',
    String(SETTINGS.seed),
    '--device',
    'cpu',
    '--threads',
    '1',
  );
  const cliLosses = recordLosses(readJsonl<StepRecord | EpochRecord>(join(cliRun, RUN_FILES.metrics)));
  const gpuVsCli = assertSameLosses(recordLosses(webgpu.metrics), cliLosses, 'page (WebGPU) vs CLI (CPU)');

  const wasm = await trainOnPage('cpu');
  assert.equal(wasm.device, 'cpu');
  const curve = assertClose(
    webgpu.losses,
    wasm.losses,
    LOSS_TOLERANCE,
    'page WebGPU vs page wasm, every step',
  );
  const wasmVsCli = assertSameLosses(recordLosses(wasm.metrics), cliLosses, 'page (wasm) vs CLI (CPU)');
  t.diagnostic(
    `largest relative differences: loss curve WebGPU vs wasm ${curve.toExponential(1)}; ` +
      `WebGPU vs CLI train ${gpuVsCli.train.toExponential(1)}, val ${gpuVsCli.val.toExponential(1)}; ` +
      `wasm vs CLI train ${wasmVsCli.train.toExponential(1)}, val ${wasmVsCli.val.toExponential(1)}`,
  );
});
