// The browser page end to end: build it, serve it with scripts/serve-web.ts, choose a model and events
// through its file inputs in headless Chromium, and check the plot, the sortable table and a screenshot.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWeb, PAGE_FILES, WEB_DIR } from '../../scripts/build-web.ts';
import { serveWeb, type WebServer } from '../../scripts/serve-web.ts';
import { loadEmbedder } from '../../src/embed/embedder.node.ts';
import { scoreAgainstRun } from '../../src/run/scoring.node.ts';
import { launchChromium } from '../helpers/browser.ts';
import { generateEvents, makeRunFixture, type RunFixture, readJsonl } from '../helpers/run-fixture.ts';

const EVENTS = 300;

/** Where screenshots go: `SCREENSHOT_DIR` when set (kept), else the test's temp directory (removed). */
function screenshotPath(name: string): string {
  const dir = process.env.SCREENSHOT_DIR ?? run.dir;
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

let run: RunFixture;
let site: string;
let eventsPath: string;
let parquetPath: string;
let server: WebServer | undefined;
let browser: Browser | undefined;
let page: Page;
const errors: string[] = [];
let selfScored: { uids: string[]; scores: string[] } | undefined;

before(async () => {
  run = makeRunFixture({ prefix: 'ocsf-embed-run-', events: 1000, seed: 3, batchSize: 128 });
  eventsPath = join(run.dir, 'sample.jsonl');
  parquetPath = join(run.dir, 'sample.parquet');
  generateEvents(eventsPath, EVENTS, 9);
  generateEvents(parquetPath, EVENTS, 9);
  site = join(run.dir, 'site');
  mkdirSync(site);
  for (const name of PAGE_FILES) copyFileSync(join(WEB_DIR, name), join(site, name));
  await buildWeb({ outDir: join(site, 'dist') });
  server = await serveWeb({ root: site, port: 0 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.setDefaultTimeout(30_000);
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.state === 'idle');
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (run) rmSync(run.dir, { recursive: true, force: true });
});

/** Waits until the page has finished a run; fails with its status line when the run failed. */
async function finished(): Promise<void> {
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''));
  const state = await page.evaluate(() => document.body.dataset.state);
  const status = await page.locator('#status').textContent();
  assert.equal(state, 'done', `the page stopped with: ${status}`);
  assert.deepEqual(errors, [], 'no page or console errors');
}

/** Waits until the page has stopped on an error whose status line matches `pattern`. */
async function failed(pattern: RegExp): Promise<void> {
  await page.waitForFunction(
    (source) =>
      document.body.dataset.state === 'error' &&
      new RegExp(source).test(document.getElementById('status')?.textContent ?? ''),
    pattern.source,
  );
}

async function columnTexts(column: number, on: Page = page): Promise<string[]> {
  return on.locator(`#anomalies tbody tr td:nth-child(${column})`).allTextContents();
}

async function tableScores(on: Page = page): Promise<{ uids: string[]; scores: string[] }> {
  return {
    uids: await on
      .locator('#anomalies tbody tr td.uid')
      .evaluateAll((tds) => tds.map((td) => td.getAttribute('title') ?? '')),
    scores: await columnTexts(3, on),
  };
}

test('the page embeds and scores a chosen events file, plots it and lists the top anomalies', async (t) => {
  assert.equal(
    await page.evaluate(() => globalThis.crossOriginIsolated),
    true,
    'served cross-origin isolated',
  );
  await page.setInputFiles('#model', join(run.runDir, 'model.onnx'));
  await page.setInputFiles('#events', eventsPath);
  await finished();

  const summary = await page.locator('#summary').textContent();
  assert.match(summary ?? '', /each left out of its own neighbours/);
  assert.match(summary ?? '', new RegExp(`events${EVENTS}`));

  const plot = await page.locator('#plot').boundingBox();
  assert.ok(plot && plot.width > 200 && plot.height > 200, 'the plot is on screen');
  const inked = await page.evaluate(() => {
    const c = document.getElementById('plot') as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
    return n;
  });
  assert.ok(inked > 2000, `the plot has points drawn (${inked} pixels)`);

  const rows = await page.locator('#anomalies tbody tr').count();
  assert.equal(rows, 100);
  selfScored = await tableScores();
  const scores = selfScored.scores.map(Number);
  assert.deepEqual(
    scores,
    [...scores].sort((a, b) => b - a),
    'sorted by score, highest first',
  );

  await page.locator('#anomalies th[data-key="uid"] button').click();
  const uids = await columnTexts(2);
  assert.deepEqual(
    uids,
    [...uids].sort((a, b) => a.localeCompare(b)),
    'sorted by uid',
  );
  assert.equal(await page.locator('#anomalies th[data-key="uid"]').getAttribute('aria-sort'), 'ascending');
  await page.locator('#anomalies th[data-key="uid"] button').click();
  assert.deepEqual(await columnTexts(2), [...uids].reverse(), 'uid sort reversed');
  await page.locator('#anomalies th[data-key="score"] button').click();
  await page.locator('#anomalies tbody tr').first().click();
  assert.equal(await page.locator('#anomalies tbody tr.selected').count(), 1, 'a clicked row is selected');

  const shot = screenshotPath('page-self.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);
});

test("with the run's reference and scorer the page scores as the Node scorer does", async (t) => {
  await page.setInputFiles('#reference', join(run.runDir, 'reference.safetensors'));
  await page.setInputFiles('#scorer', join(run.runDir, 'scorer.json'));
  await failed(/choose the run's reconstruction\.onnx too/);
  await page.setInputFiles('#reconstruction', join(run.runDir, 'reconstruction.onnx'));
  await finished();
  assert.match((await page.locator('#summary').textContent()) ?? '', /the run's \d[\d,]* reference events/);

  const { embedder } = await loadEmbedder(join(run.runDir, 'model.onnx'), { device: 'cpu' });
  const node = await scoreAgainstRun(run.runDir, embedder, readJsonl(eventsPath));
  await embedder.release();
  const byUid = new Map(node.uids.map((u, i) => [u, node.scores[i]!]));
  const uids = await page
    .locator('#anomalies tbody tr td.uid')
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('title') ?? ''));
  const scores = (await columnTexts(3)).map(Number);
  assert.equal(uids.length, 100);
  uids.forEach((uid, i) => {
    const expected = byUid.get(uid);
    assert.ok(expected !== undefined, `${uid} is one of the events`);
    assert.ok(
      Math.abs(scores[i]! - expected) <= 5e-5 + 1e-6,
      `${uid}: page ${scores[i]} vs Node ${expected}`,
    );
  });
  assert.equal(uids[0], node.uids[node.scores.indexOf(Math.max(...node.scores))], 'the same top anomaly');

  const shot = screenshotPath('page-run.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.diagnostic(`screenshot: ${shot}`);
});

test('with wasm threads (a cross-origin isolated page on a 4-core machine), the same events as Parquet score the same', async () => {
  assert.ok(selfScored, 'the first test ran');
  const threaded = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const threadErrors: string[] = [];
  threaded.on('pageerror', (e) => threadErrors.push(String(e)));
  try {
    await threaded.addInitScript({
      content: "Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => 4 });",
    });
    await threaded.goto(server!.url);
    await threaded.waitForFunction(() => document.body.dataset.state === 'idle');
    await threaded.setInputFiles('#model', join(run.runDir, 'model.onnx'));
    await threaded.setInputFiles('#events', parquetPath);
    await threaded.waitForFunction(
      () => ['done', 'error'].includes(document.body.dataset.state ?? ''),
      null,
      {
        timeout: 30_000,
      },
    );
    assert.equal(
      await threaded.evaluate(() => document.body.dataset.state),
      'done',
      (await threaded.locator('#status').textContent()) ?? '',
    );
    assert.deepEqual(threadErrors, []);
    assert.match((await threaded.locator('#summary').textContent()) ?? '', /wasm, 4 thread\(s\)/);
    assert.deepEqual(await tableScores(threaded), selfScored);
  } finally {
    await threaded.close();
  }
});

test('"Try it with sample events" scores generated events with the default model against its training events', async () => {
  const sample = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  const sampleErrors: string[] = [];
  sample.on('pageerror', (e) => sampleErrors.push(String(e)));
  try {
    await sample.goto(server!.url);
    await sample.waitForFunction(() => document.body.dataset.state === 'idle');
    await sample.locator('#sample').click();
    await sample.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), null, {
      timeout: 60_000,
    });
    assert.equal(
      await sample.evaluate(() => document.body.dataset.state),
      'done',
      (await sample.locator('#status').textContent()) ?? '',
    );
    assert.deepEqual(sampleErrors, []);
    const summary = (await sample.locator('#summary').textContent()) ?? '';
    assert.match(summary, /events2,000/);
    assert.match(summary, /the run's 2,700 reference events/);
    assert.equal(await sample.locator('#anomalies tbody tr').count(), 100);
  } finally {
    await sample.close();
  }
});

test('uids copy whole, scores above 1 are explained, and a file that is not a model clears the results', async () => {
  const context = await browser!.newContext({
    viewport: { width: 1400, height: 1000 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const fresh = await context.newPage();
  try {
    await fresh.goto(server!.url);
    await fresh.waitForFunction(() => document.body.dataset.state === 'idle');
    await fresh.setInputFiles('#model', join(run.runDir, 'model.onnx'));
    await fresh.setInputFiles('#events', eventsPath);
    await fresh.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''));
    assert.equal(await fresh.evaluate(() => document.body.dataset.state), 'done');
    assert.match(
      (await fresh.locator('#summary').textContent()) ?? '',
      /scoresa rank among the reference events’ own scores: 0\.95 is above 95% of them; above 1 is beyond all of them/,
    );

    const cell = fresh.locator('#anomalies tbody tr td.uid').first();
    const uid = (await cell.textContent()) ?? '';
    assert.match(uid, /^[0-9a-f-]{36}$/, 'the cell holds the whole uid');
    await cell.locator('button.copy').click();
    await fresh.waitForFunction(() => document.querySelector('td.uid button.copy.copied') !== null);
    assert.equal(await fresh.evaluate(() => navigator.clipboard.readText()), uid);
    assert.equal(await fresh.locator('tr.selected').count(), 0, 'copying does not select the row');

    await fresh.setInputFiles('#model', eventsPath);
    await fresh.waitForFunction(() => document.body.dataset.state === 'error');
    const status = (await fresh.locator('#status').textContent()) ?? '';
    assert.match(status, /^sample\.jsonl: this is not an ONNX model \(.+\): give the model\.onnx of a run/);
    assert.ok(!status.includes('\n'));
    assert.equal(await fresh.locator('#results').isHidden(), true, 'the earlier results are gone');
  } finally {
    await context.close();
  }
});
