// The training report: one self-contained, script-free HTML page and the standalone SVG charts behind it.

import type { EpochRecord, MetricRecord, StepRecord } from '../run/metrics.ts';
import { escapeXml, lineChartSvg, type Series } from './charts.ts';

/** One line of `metrics.jsonl`: a logged optimiser step or a finished epoch. */

/** Everything {@link renderReport} shows; the page depends on nothing else, so equal inputs give equal pages. */
export interface ReportInput {
  /** Page heading, e.g. the run directory name. */
  title: string;
  /** ISO time the report was made, shown as given. */
  createdAt: string;
  /** The training configuration, shown as pretty JSON. */
  config: unknown;
  /** The feature spec as a fixed-width text table. */
  specTable: string;
  /** The records of `metrics.jsonl`, in file order. */
  metrics: MetricRecord[];
  /** Headline facts in display order, e.g. epochs run, best validation loss, stop reason, wall time, device. */
  summary: Record<string, string | number>;
  /** Further sections; `title` is escaped, `html` is inserted as is and must itself be self-contained. */
  extraSections?: { title: string; html: string }[];
}

const SMALL = { width: 480, height: 300 };
const COLORS = { train: '#2563eb', val: '#dc2626', step: '#93c5fd', lr: '#9333ea', speed: '#0891b2' };

/**
 * The report's charts as standalone SVG documents: `loss.svg` (per-step loss with per-epoch train and
 * validation loss, best epoch marked), `lr.svg` (learning rate) and `throughput.svg` (samples per second).
 */
export function reportCharts(metrics: MetricRecord[]): { name: string; svg: string }[] {
  const { steps, epochs, stepX, epochX, xLabel, integerX } = axes(metrics);
  const markers = epochs
    .filter((e) => e.best)
    .slice(-1)
    .map((e) => ({ x: epochX(e), label: `best · epoch ${formatNumber(e.epoch)}` }));

  const loss: Series[] = [];
  if (steps.length) {
    loss.push({
      name: 'train loss (step)',
      points: steps.map((s) => ({ x: stepX(s), y: num(s.loss) })),
      color: COLORS.step,
      strokeWidth: 1.25,
      showPoints: steps.length <= 3,
    });
  }
  loss.push({
    name: 'train loss (epoch)',
    points: epochs.map((e) => ({ x: epochX(e), y: num(e.train_loss) })),
    color: COLORS.train,
  });
  if (epochs.some((e) => e.val_loss !== null && e.val_loss !== undefined)) {
    loss.push({
      name: 'validation loss (epoch)',
      points: epochs.map((e) => ({ x: epochX(e), y: num(e.val_loss) })),
      color: COLORS.val,
      dashed: true,
    });
  }
  const lossValues = loss.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
  const logY =
    lossValues.length > 1 &&
    lossValues.every((v) => v > 0) &&
    Math.max(...lossValues) / Math.min(...lossValues) > 30;

  const lrSource = steps.length ? steps : epochs;
  const lr: Series[] = [
    {
      name: steps.length ? 'learning rate (step)' : 'learning rate (epoch)',
      points: lrSource.map((r) => ({ x: r.type === 'step' ? stepX(r) : epochX(r), y: num(r.lr) })),
      color: COLORS.lr,
      showPoints: lrSource.length <= 3,
    },
  ];

  const speed: Series[] = [];
  if (steps.length) {
    speed.push({
      name: 'samples/s (step)',
      points: steps.map((s) => ({ x: stepX(s), y: num(s.samples_per_s) })),
      color: '#a5d8e6',
      strokeWidth: 1.25,
      showPoints: steps.length <= 3,
    });
  }
  speed.push({
    name: 'samples/s (epoch)',
    points: epochs.map((e) => ({ x: epochX(e), y: num(e.samples_per_s) })),
    color: COLORS.speed,
  });

  return [
    {
      name: 'loss.svg',
      svg: lineChartSvg(loss, {
        title: logY ? 'Loss (log scale)' : 'Loss',
        xLabel,
        yLabel: 'loss',
        logY,
        markers,
        integerX,
        width: 960,
        height: 380,
      }),
    },
    {
      name: 'lr.svg',
      svg: lineChartSvg(lr, {
        title: 'Learning rate',
        xLabel,
        yLabel: 'learning rate',
        markers,
        integerX,
        ...SMALL,
      }),
    },
    {
      name: 'throughput.svg',
      svg: lineChartSvg(speed, {
        title: 'Throughput',
        xLabel,
        yLabel: 'samples / s',
        markers,
        integerX,
        ...SMALL,
      }),
    },
  ];
}

/**
 * The training report as one HTML page with inline CSS and inline SVG: summary, loss / learning-rate /
 * throughput charts, per-epoch table, extra sections, configuration and feature spec. It references no
 * external resource and needs no script; all caller text except `extraSections[].html` is escaped.
 */
export function renderReport(input: ReportInput): string {
  const charts = new Map(reportCharts(input.metrics).map((c) => [c.name, c.svg]));
  const epochs = input.metrics.filter((m): m is EpochRecord => m?.type === 'epoch');
  const extras = input.extraSections ?? [];
  const nav: [string, string][] = [
    ['summary', 'Summary'],
    ['charts', 'Charts'],
    ['epochs', 'Epochs'],
    ...extras.map((s, i): [string, string] => [`section-${i + 1}`, s.title]),
    ['config', 'Configuration'],
    ['spec', 'Feature spec'],
  ];
  const configText = compactArrays(prettyJson(input.config));
  const specText = input.specTable.replace(/\s+$/, '');

  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light">',
    `<title>${esc(input.title)} · training report</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<header>',
    '<p class="kicker">Training report</p>',
    `<h1>${esc(input.title)}</h1>`,
    `<p class="meta">Created <time datetime="${esc(input.createdAt)}">${esc(input.createdAt)}</time></p>`,
    `<nav>${nav.map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`).join('')}</nav>`,
    '</header>',
    '<section id="summary">',
    '<h2>Summary</h2>',
    summaryTable(input.summary, input.metrics),
    '</section>',
    '<section id="charts">',
    '<h2>Charts</h2>',
    `<figure class="chart wide">${charts.get('loss.svg')}</figure>`,
    '<div class="pair">',
    `<figure class="chart">${charts.get('lr.svg')}</figure>`,
    `<figure class="chart">${charts.get('throughput.svg')}</figure>`,
    '</div>',
    '</section>',
    '<section id="epochs">',
    '<h2>Epochs</h2>',
    epochTable(epochs),
    '</section>',
    ...extras.flatMap((s, i) => [
      `<section id="section-${i + 1}">`,
      `<h2>${esc(s.title)}</h2>`,
      s.html,
      '</section>',
    ]),
    '<section id="config">',
    '<h2>Configuration</h2>',
    `<pre class="code config">${esc(configText)}</pre>`,
    '</section>',
    '<section id="spec">',
    '<h2>Feature spec</h2>',
    specText ? `<pre class="code">${esc(specText)}</pre>` : '<p class="empty">No feature spec.</p>',
    '</section>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ];
  return html.join('\n');
}

function axes(metrics: MetricRecord[]) {
  const records = metrics.filter((m) => m && (m.type === 'step' || m.type === 'epoch'));
  const steps = records.filter((m): m is StepRecord => m.type === 'step');
  const epochs = records.filter((m): m is EpochRecord => m.type === 'epoch');
  if (!steps.length) {
    const byEpoch = (e: EpochRecord) => num(e.epoch);
    return {
      steps,
      epochs,
      stepX: (s: StepRecord) => num(s.step),
      epochX: byEpoch,
      xLabel: 'epoch',
      integerX: true,
    };
  }
  const globalSteps = steps.every(
    (s, i) => Number.isFinite(s.step) && (i === 0 || s.step >= steps[i - 1]!.step),
  );
  const epochStepIndex = new Map<EpochRecord, number>();
  const stepIndex = new Map<StepRecord, number>();
  let seen = 0;
  for (const r of records) {
    if (r.type === 'step') stepIndex.set(r, ++seen);
    else epochStepIndex.set(r, seen);
  }
  const stepX = (s: StepRecord) => (globalSteps ? s.step : stepIndex.get(s)!);
  const epochX = (e: EpochRecord) =>
    globalSteps && Number.isFinite(e.step) ? e.step : epochStepIndex.get(e)!;
  return { steps, epochs, stepX, epochX, xLabel: 'step', integerX: true };
}

function summaryTable(summary: Record<string, string | number>, metrics: MetricRecord[]): string {
  let rows = Object.entries(summary ?? {});
  if (!rows.length) rows = derivedSummary(metrics);
  if (!rows.length) return '<p class="empty">No summary.</p>';
  const body = rows
    .map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${esc(formatValue(v))}</td></tr>`)
    .join('');
  return `<table class="kv"><tbody>${body}</tbody></table>`;
}

function derivedSummary(metrics: MetricRecord[]): [string, string | number][] {
  const epochs = metrics.filter((m): m is EpochRecord => m?.type === 'epoch');
  const steps = metrics.filter((m): m is StepRecord => m?.type === 'step');
  const rows: [string, string | number][] = [];
  if (epochs.length) rows.push(['epochs', epochs.length]);
  const last = metrics.at(-1);
  if (last) rows.push(['steps', last.step]);
  else if (steps.length) rows.push(['steps', steps.length]);
  const best = epochs.filter((e) => e.best).at(-1);
  if (best) {
    rows.push(['best epoch', best.epoch]);
    if (best.val_loss !== null) rows.push(['best validation loss', best.val_loss]);
  }
  const final = epochs.at(-1);
  if (final) rows.push(['final train loss', final.train_loss]);
  return rows;
}

function gridTable(head: string[], rows: string[][], best: number): string {
  const body = rows.map((cells, r) => {
    const mark = r === best ? ' <span class="badge">best</span>' : '';
    return `<tr${r === best ? ' class="best"' : ''}>${cells.map((c, i) => `<td>${esc(c)}${i === 0 ? mark : ''}</td>`).join('')}</tr>`;
  });
  return [
    '<div class="scroll"><table class="grid">',
    `<thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${body.join('')}</tbody>`,
    '</table></div>',
  ].join('');
}

/**
 * The epochs as two tables that fit the page: losses, learning rate and pace; then the objective's own
 * metrics, training and validation side by side in one cell. A metric that only repeats the training or
 * validation loss (a single objective's loss) is left out.
 */
function epochTable(epochs: EpochRecord[]): string {
  if (!epochs.length) return '<p class="empty">No completed epochs.</p>';
  const hasVal = epochs.some((e) => e.val_loss !== null && e.val_loss !== undefined);
  const best = epochs.indexOf(epochs.filter((e) => e.best).at(-1)!);
  const main = gridTable(
    ['epoch', 'step', 'train loss', ...(hasVal ? ['val loss'] : []), 'lr', 'samples/s', 'time'],
    epochs.map((e) => [
      formatNumber(e.epoch),
      formatNumber(e.step),
      formatNumber(e.train_loss),
      ...(hasVal ? [e.val_loss === null || e.val_loss === undefined ? '—' : formatNumber(e.val_loss)] : []),
      formatNumber(e.lr, 3),
      formatNumber(e.samples_per_s, 4),
      formatDuration(e.time_s),
    ]),
    best,
  );
  const same = (a: number | undefined, b: number | null | undefined) =>
    a !== undefined && b !== null && b !== undefined && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
  const keys = [...new Set(epochs.flatMap((e) => Object.keys(e.metrics ?? {})))]
    .filter((k) => !k.startsWith('val_'))
    .sort()
    .filter((k) => !epochs.every((e) => same(e.metrics?.[k], e.train_loss)));
  if (!keys.length) return main;
  const cell = (v: number | undefined) => (v === undefined ? '—' : formatNumber(v, 4));
  const metrics = gridTable(
    ['epoch', ...keys.map((k) => k.replaceAll('_', ' '))],
    epochs.map((e) => [
      formatNumber(e.epoch),
      ...keys.map((k) => {
        const val = e.metrics?.[`val_${k}`];
        return val === undefined ? cell(e.metrics?.[k]) : `${cell(e.metrics?.[k])} / ${cell(val)}`;
      }),
    ]),
    best,
  );
  return `${main}<p class="note">Objective metrics per epoch${keys.some((k) => epochs.some((e) => e.metrics?.[`val_${k}`] !== undefined)) ? ', training / validation' : ''}:</p>${metrics}`;
}

/** Puts each array of plain values (numbers, strings, booleans) of indented JSON on one line. */
export function compactArrays(json: string): string {
  const plain = String.raw`-?\d[\d.eE+-]*|"(?:[^"\\]|\\.)*"|true|false|null`;
  const array = new RegExp(String.raw`\[\s*((?:(?:${plain})\s*,\s*)*(?:${plain}))\s*\]`, 'g');
  return json.replace(array, (_m, items: string) => `[${items.split(/,\s*\n\s*/).join(', ')}]`);
}

function prettyJson(value: unknown): string {
  const replacer = (_key: string, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (v instanceof Map) return Object.fromEntries(v);
    if (v instanceof Set) return [...v];
    return v;
  };
  try {
    return JSON.stringify(value, replacer, 2) ?? String(value);
  } catch {
    const seen = new WeakSet<object>();
    return (
      JSON.stringify(
        value,
        (k, v) => {
          if (v && typeof v === 'object') {
            if (seen.has(v)) return '[Circular]';
            seen.add(v);
          }
          return replacer(k, v);
        },
        2,
      ) ?? String(value)
    );
  }
}

function formatValue(v: string | number): string {
  return typeof v === 'number' ? formatNumber(v) : String(v);
}

function formatNumber(v: number | null | undefined, digits = 5): string {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e9)) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${m!.includes('.') ? m!.replace(/\.?0+$/, '') : m}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(digits)));
}

function formatDuration(s: number): string {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '—';
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}m ${String(sec).padStart(2, '0')}s`;
}

function num(v: number | null | undefined): number {
  return typeof v === 'number' ? v : Number.NaN;
}

function esc(text: string): string {
  return escapeXml(String(text));
}

const CSS = `
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--soft:#f9fafb;--accent:#2563eb}
*{box-sizing:border-box}
html{background:#f3f4f6}
body{margin:0;color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1040px;margin:24px auto;padding:28px 36px 40px;background:#fff;border:1px solid var(--line);border-radius:10px}
header{border-bottom:1px solid var(--line);padding-bottom:14px;margin-bottom:8px}
.kicker{margin:0;color:var(--muted);font-size:12px;letter-spacing:.06em;text-transform:uppercase}
h1{margin:2px 0 4px;font-size:24px;line-height:1.25;overflow-wrap:anywhere}
h2{margin:28px 0 10px;font-size:17px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.meta{margin:0;color:var(--muted);font-size:13px}
nav{margin-top:10px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
nav a{color:var(--accent);text-decoration:none}
nav a:hover{text-decoration:underline}
table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.kv th{color:var(--muted);font-weight:500;white-space:nowrap;padding-left:0}
table.kv td{font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
table.grid{width:100%}
table.grid th{background:var(--soft);font-weight:600;position:sticky;top:0;vertical-align:bottom}
table.grid td{font-variant-numeric:tabular-nums;white-space:nowrap}
table.grid td:not(:first-child),table.grid th:not(:first-child){text-align:right}
tr.best td{background:#eff6ff}
.badge{display:inline-block;margin-left:6px;padding:0 6px;border-radius:8px;background:var(--accent);color:#fff;font-size:11px;line-height:16px}
.scroll{overflow:auto;max-height:520px;border:1px solid var(--line);border-radius:6px}
.scroll table.grid th,.scroll table.grid td{border-bottom-color:var(--line)}
figure.chart{margin:0 0 14px;border:1px solid var(--line);border-radius:6px;overflow:hidden}
figure.chart svg{display:block;width:100%;height:auto}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px}
.pair figure.chart{margin:0}
pre.code.config{white-space:pre-wrap;overflow-wrap:anywhere}
pre.code{margin:0;padding:12px 14px;background:var(--soft);border:1px solid var(--line);border-radius:6px;font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;overflow:auto;max-height:640px;white-space:pre}
.empty{color:var(--muted);font-style:italic}
p.note{margin:12px 0 6px;color:var(--muted);font-size:13px}
@media print{html{background:#fff}main{border:0;margin:0;padding:0;max-width:none}.scroll,pre.code{max-height:none;overflow:visible}nav{display:none}}
`
  .trim()
  .replace(/\n/g, '');
