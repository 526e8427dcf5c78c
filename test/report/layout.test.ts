// The report as a reader sees it, in headless Chromium: the epochs table of a real run's metrics fits the
// page without scrolling sideways, and the configuration lists the cardinalities compactly.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { renderReport } from '../../src/report/report.ts';
import type { MetricRecord } from '../../src/run/metrics.ts';
import { launchChromium } from '../helpers/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'ocsf-report-layout-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Epoch records as `train --objective both` writes them: every metric of both objectives, train and val. */
function bothObjectiveEpochs(n: number): MetricRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const train = 3.5 - i * 0.1;
    const val = 2.8 - i * 0.05;
    return {
      type: 'epoch',
      epoch: i + 1,
      step: 281 * (i + 1),
      train_loss: train,
      val_loss: val,
      lr: 9.87654e-4 * (1 - i / n),
      samples_per_s: 6123.4567,
      time_s: 12.3 * (i + 1),
      metrics: {
        contrastive_loss: train * 0.6,
        positive_similarity: 0.61234,
        mfp_loss: train * 0.4,
        mfp_numerical_loss: 0.123456,
        mfp_categorical_loss: 1.234567,
        val_contrastive_loss: val * 0.6,
        val_positive_similarity: 0.80123,
        val_mfp_loss: val * 0.4,
        val_mfp_numerical_loss: 0.1123,
        val_mfp_categorical_loss: 1.0123,
      },
      best: i === n - 1,
    };
  });
}

const config = resolveTrainingConfig({
  model: { numNumerical: 28, cardinalities: Array.from({ length: 68 }, (_, i) => 3 + ((i * 37) % 900)) },
  objective: { kind: 'both' },
});

test('the epochs table fits the page and the configuration is compact', async () => {
  const path = join(dir, 'report.html');
  writeFileSync(
    path,
    renderReport({
      title: 'runs/both',
      createdAt: '2026-01-01T00:00:00.000Z',
      config: { training: config },
      specTable: 'Feature spec: 68 categorical',
      metrics: bothObjectiveEpochs(12),
      summary: { device: 'cpu' },
    }),
  );
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${path}`);
    const m = await page.evaluate(() => {
      const scroll = document.querySelector('#epochs .scroll')!;
      return {
        tableRight: document.querySelector('#epochs table')!.getBoundingClientRect().right,
        scrollRight: scroll.getBoundingClientRect().right,
        sideways: scroll.scrollWidth - scroll.clientWidth,
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        configLines: document.querySelector('#config pre')!.textContent!.split('\n').length,
      };
    });
    assert.equal(m.page, 0, 'the page does not scroll sideways');
    assert.ok(m.sideways <= 0, `the epochs table scrolls ${m.sideways} px sideways`);
    assert.ok(m.tableRight <= m.scrollRight + 1);
    // 68 cardinalities, one per line, would make this well over 100 lines.
    assert.ok(m.configLines < 60, `${m.configLines} lines of configuration`);
  } finally {
    await browser.close();
  }
});
