// The training report and SVG charts: content, escaping, offline-ness, degenerate series, determinism.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { curveChartSvg, lineChartSvg, type Series } from '../../src/report/charts.ts';
import { type ReportInput, renderReport, reportCharts } from '../../src/report/report.ts';
import type { MetricRecord } from '../../src/run/metrics.ts';

function sampleMetrics(epochs = 8, stepsPerEpoch = 40): MetricRecord[] {
  const out: MetricRecord[] = [];
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const total = epochs * stepsPerEpoch;
  const lrAt = (s: number) =>
    s < 40 ? (1e-3 * s) / 40 : 1e-3 * 0.5 * (1 + Math.cos((Math.PI * (s - 40)) / (total - 40)));
  let best = Number.POSITIVE_INFINITY;
  let step = 0;
  for (let e = 1; e <= epochs; e++) {
    for (let i = 0; i < stepsPerEpoch; i++) {
      step++;
      out.push({
        type: 'step',
        epoch: e,
        step,
        loss: 4 * Math.exp(-step / 90) + 1.2 + 0.25 * noise(),
        lr: lrAt(step),
        samples_per_s: 5200 + 600 * noise(),
        time_s: step * 0.05,
      });
    }
    const val = 4 * Math.exp(-step / 90) + 1.35 + (e > 6 ? 0.04 * (e - 6) : 0);
    const isBest = val < best;
    if (isBest) best = val;
    out.push({
      type: 'epoch',
      epoch: e,
      step,
      train_loss: 4 * Math.exp(-step / 90) + 1.2,
      val_loss: val,
      lr: lrAt(step),
      samples_per_s: 5150 + 10 * e,
      time_s: step * 0.05 + 0.4,
      metrics: { mfp_accuracy: 0.5 + 0.05 * e, alignment: 1 / e },
      best: isBest,
    });
  }
  return out;
}

function sampleInput(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    title: 'run-2024-05-01',
    createdAt: '2024-05-01T12:00:00.000Z',
    config: { model: { dim: 128, blocks: 4 }, optimizer: { lr: 0.001, weight_decay: 0.01 }, batch_size: 512 },
    specTable: [
      'feature              kind         size',
      'class_uid            categorical    12',
      'src_endpoint.port    numeric         1',
    ].join('\n'),
    metrics: sampleMetrics(),
    summary: { 'epochs run': 8, 'best val loss': 1.4312, 'stop reason': 'max epochs', device: 'cpu' },
    ...overrides,
  };
}

function assertSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  const opens = svg.match(/<g>/g)?.length ?? 0;
  const closes = svg.match(/<\/g>/g)?.length ?? 0;
  assert.equal(opens, closes);
}

test('the report contains the charts, summary, epochs, config and spec', () => {
  const html = renderReport(sampleInput());
  assert.match(html, /^<!doctype html>/);
  assert.equal(html.match(/<svg /g)?.length, 3);
  for (const title of ['Loss', 'Learning rate', 'Throughput'])
    assert.ok(html.includes(`<title>${title}`), title);
  assert.ok(html.includes('stop reason') && html.includes('max epochs') && html.includes('1.4312'));
  assert.ok(html.includes('&quot;weight_decay&quot;: 0.01'));
  assert.ok(html.includes('src_endpoint.port    numeric'));
  assert.ok(html.includes('mfp accuracy'));
  assert.ok(html.includes('class="best"'));
  assert.ok(html.includes('2024-05-01T12:00:00.000Z'));
});

test('caller text is escaped', () => {
  const evil = '<script>alert("x")</script>';
  const html = renderReport(
    sampleInput({
      title: evil,
      specTable: `feature ${evil}`,
      summary: { [evil]: evil },
      config: { note: evil },
      extraSections: [{ title: evil, html: '<p>trusted</p>' }],
    }),
  );
  assert.ok(!html.includes('<script'));
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(html.includes('<p>trusted</p>'));
});

test('the report references nothing outside itself', () => {
  const html = renderReport(sampleInput({ extraSections: [{ title: 'Detection', html: '<p>ok</p>' }] }));
  const refs = html.match(/https?:\/\/[^\s"'<>)]*/g) ?? [];
  assert.ok(refs.length > 0);
  for (const ref of refs) assert.equal(ref, 'http://www.w3.org/2000/svg');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
});

test('the same input gives the same output', () => {
  assert.equal(renderReport(sampleInput()), renderReport(sampleInput()));
  assert.deepEqual(reportCharts(sampleMetrics()), reportCharts(sampleMetrics()));
});

test('standalone charts are loss, lr and throughput', () => {
  const charts = reportCharts(sampleMetrics());
  assert.deepEqual(
    charts.map((c) => c.name),
    ['loss.svg', 'lr.svg', 'throughput.svg'],
  );
  for (const c of charts) assertSvg(c.svg);
  assert.ok(charts[0]!.svg.includes('best · epoch'));
});

test('reports with no, few or epoch-only metrics still render', () => {
  const cases: MetricRecord[][] = [
    [],
    sampleMetrics(1, 1),
    sampleMetrics(3, 5).filter((m) => m.type === 'epoch'),
    sampleMetrics(2, 3).map((m) =>
      m.type === 'epoch' ? { ...m, val_loss: null, train_loss: Number.NaN } : { ...m, loss: Number.NaN },
    ),
  ];
  for (const metrics of cases) {
    const html = renderReport(sampleInput({ metrics, summary: {} }));
    assert.equal(html.match(/<svg /g)?.length, 3);
    for (const c of reportCharts(metrics)) assertSvg(c.svg);
  }
});

test('line charts survive empty, NaN and one-point series', () => {
  const cases: Series[][] = [
    [],
    [{ name: 'empty', points: [] }],
    [
      {
        name: 'nan',
        points: [
          { x: Number.NaN, y: Number.NaN },
          { x: 1, y: Number.NaN },
        ],
      },
    ],
    [{ name: 'one', points: [{ x: 3, y: 0.5 }] }],
    [
      {
        name: 'flat',
        points: [
          { x: 0, y: 2 },
          { x: 1, y: 2 },
        ],
      },
    ],
    [
      {
        name: 'gaps',
        points: [
          { x: 0, y: 1 },
          { x: 1, y: Number.NaN },
          { x: 2, y: 3 },
          { x: 3, y: Number.POSITIVE_INFINITY },
          { x: 4, y: 2 },
        ],
      },
    ],
  ];
  for (const series of cases) {
    for (const logY of [false, true]) {
      const svg = lineChartSvg(series, {
        title: 'T',
        xLabel: 'x',
        yLabel: 'y',
        logY,
        markers: [{ x: 1, label: 'm' }],
      });
      assertSvg(svg);
    }
  }
  assert.ok(lineChartSvg([], { title: 'T', xLabel: 'x', yLabel: 'y' }).includes('No data'));
  assert.ok(
    lineChartSvg([{ name: 'one', points: [{ x: 3, y: 0.5 }] }], {
      title: 'T',
      xLabel: '',
      yLabel: '',
    }).includes('<circle'),
  );
  const gaps = lineChartSvg(cases[5]!, { title: 'T', xLabel: 'x', yLabel: 'y' });
  assert.equal(gaps.match(/stroke-linejoin/g)?.length ?? 0, 0);
  assert.equal(gaps.match(/<circle/g)?.length, 3);
});

test('long series are thinned and ticks are readable', () => {
  const points = Array.from({ length: 50_000 }, (_, i) => ({ x: i, y: Math.sin(i / 500) * 1e-4 }));
  const svg = lineChartSvg([{ name: 'long', points }], { title: 'T', xLabel: 'x', yLabel: 'y' });
  assertSvg(svg);
  assert.ok(svg.length < 100_000, `svg is ${svg.length} chars`);
  assert.ok(svg.includes('>40k<'));
  assert.match(svg, />-?1e-4</);
});

test('curve charts draw a reference line and clamp to the unit square', () => {
  const roc = curveChartSvg(
    [
      {
        name: 'ROC (AUC 0.91)',
        points: [
          { x: 0, y: 0 },
          { x: 0.1, y: 0.7 },
          { x: 1, y: 1.2 },
        ],
      },
    ],
    { title: 'ROC', xLabel: 'false positive rate', yLabel: 'true positive rate' },
  );
  assertSvg(roc);
  assert.ok(roc.includes('stroke-dasharray="4 4"'));
  const pr = curveChartSvg([{ name: 'empty', points: [] }], {
    title: 'PR',
    xLabel: 'recall',
    yLabel: 'precision',
    reference: { y: 0.05, label: 'base rate' },
  });
  assertSvg(pr);
  assert.ok(pr.includes('base rate') && pr.includes('No data'));
});
