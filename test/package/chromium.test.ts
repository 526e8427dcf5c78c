// The browser tests' Chromium lookup: the system's when it is installed, else the headless Chromium that
// @sparticuz/chromium (a dev dependency) unpacks — checked here by pointing the system lookup elsewhere.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { findChromium, launchChromium, npmChromiumDir, SYSTEM_CHROMIUM } from '../helpers/browser.ts';

test('without a system Chromium, the one from the npm registry is unpacked and runs a page with WebAssembly', async () => {
  const found = await findChromium('/nonexistent/chromium');
  assert.equal(found.source, 'npm');
  assert.ok(found.path.startsWith(npmChromiumDir()));
  assert.ok(existsSync(found.path));
  const again = await findChromium('/nonexistent/chromium');
  assert.equal(again.path, found.path, 'unpacked once, then reused');

  const browser = await launchChromium('/nonexistent/chromium');
  try {
    const page = await browser.newPage();
    await page.goto('data:text/html,<title>ok</title>');
    // The smallest valid module: magic number and version.
    const compiled = await page.evaluate(async () => {
      const module = await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      return module instanceof WebAssembly.Module;
    });
    assert.equal(compiled, true);
    assert.match(browser.version(), /^\d+\./);
  } finally {
    await browser.close();
  }
});

test('a system Chromium is preferred when it is installed', async (t) => {
  if (!existsSync(SYSTEM_CHROMIUM)) {
    t.diagnostic(`no Chromium at ${SYSTEM_CHROMIUM}: the lookup falls back, as the other test checks`);
  }
  const found = await findChromium();
  assert.equal(found.source, existsSync(SYSTEM_CHROMIUM) ? 'system' : 'npm');
  if (found.source === 'system') assert.equal(found.path, SYSTEM_CHROMIUM);
});
