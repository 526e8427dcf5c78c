// Standalone SVG line and curve charts as strings: axes with nice ticks, legend, markers, gaps for missing values.

/** One line on a chart; non-finite y values (NaN, ±Infinity) break the line into separate runs. */
export interface Series {
  name: string;
  points: { x: number; y: number }[];
  /** CSS colour; defaults to a palette colour chosen by the series' position. */
  color?: string;
  dashed?: boolean;
  /** Line width in pixels (default 2). */
  strokeWidth?: number;
  /** Line opacity in [0, 1] (default 1). */
  opacity?: number;
  /** Draw a dot on every point; by default dots are drawn when the series has at most 40 points. */
  showPoints?: boolean;
}

/** Layout and axis settings of {@link lineChartSvg}. */
export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Width of the SVG in pixels (default 720). */
  width?: number;
  /** Height of the SVG in pixels (default 340). */
  height?: number;
  /** Logarithmic y axis; points with y ≤ 0 are treated as missing. */
  logY?: boolean;
  /** Vertical reference lines, e.g. the best epoch. */
  markers?: { x: number; label: string }[];
  /** Only integer ticks on the x axis (epochs, steps). */
  integerX?: boolean;
}

/** Settings of {@link curveChartSvg}: both axes are fixed to [0, 1]. */
export interface CurveChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Width of the SVG in pixels (default 420). */
  width?: number;
  /** Height of the SVG in pixels (default 440). */
  height?: number;
  /**
   * Reference line: `'diagonal'` (y = x, chance level of a ROC curve, the default), a horizontal line at `y`
   * (chance level of a precision–recall curve, the positive rate), or `'none'`.
   */
  reference?: 'diagonal' | 'none' | { y: number; label?: string };
  /** An operating point to mark (e.g. the scorer's threshold), drawn as a ring with its label. */
  point?: { x: number; y: number; label: string };
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777', '#4b5563'];
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const CHAR_W = 6.6;
const INK = '#1f2937';
const MUTED = '#6b7280';
const GRID = '#e5e7eb';
const AXIS = '#9ca3af';

/** Escapes text for use in XML/HTML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * A line chart as a standalone SVG document (with `xmlns`), usable as a file or inline in HTML.
 * Empty, all-NaN and one-point series are drawn as far as they can be; a chart without any data says so.
 */
export function lineChartSvg(series: Series[], options: ChartOptions): string {
  const logY = options.logY === true;
  const usable = (p: { x: number; y: number }) =>
    Number.isFinite(p.x) && Number.isFinite(p.y) && (!logY || p.y > 0);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (const p of s.points) {
      if (!usable(p)) continue;
      xs.push(p.x);
      ys.push(p.y);
    }
  }
  const xScale = linearAxis(xs, options.integerX === true, false, true);
  const yScale = logY ? logAxis(ys) : linearAxis(ys, false, true, false);
  return renderChart(series, {
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    width: options.width ?? 720,
    height: options.height ?? 340,
    x: xScale,
    y: yScale,
    usable,
    markers: options.markers ?? [],
    empty: xs.length === 0,
  });
}

/**
 * A ROC- or precision–recall-style chart as a standalone SVG document: both axes span [0, 1], with a chance
 * reference line. Points outside [0, 1] are clamped.
 */
export function curveChartSvg(curves: Series[], options: CurveChartOptions): string {
  const unit: Axis = {
    min: 0,
    max: 1,
    ticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
    log: false,
    format: (v) => v.toFixed(1),
  };
  const usable = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y);
  const clamped = curves.map((s) => ({
    ...s,
    points: s.points.map((p) => ({ x: clamp01(p.x), y: clamp01(p.y) })),
  }));
  const empty = !clamped.some((s) => s.points.some(usable));
  const reference = options.reference ?? 'diagonal';
  let referenceLine: { x1: number; y1: number; x2: number; y2: number; label?: string } | undefined;
  if (reference === 'diagonal') referenceLine = { x1: 0, y1: 0, x2: 1, y2: 1 };
  else if (reference !== 'none' && Number.isFinite(reference.y)) {
    const y = clamp01(reference.y);
    referenceLine = { x1: 0, y1: y, x2: 1, y2: y, label: reference.label };
  }
  return renderChart(clamped, {
    title: options.title,
    xLabel: options.xLabel,
    yLabel: options.yLabel,
    width: options.width ?? 420,
    height: options.height ?? 440,
    x: unit,
    y: unit,
    usable,
    markers: [],
    empty,
    referenceLine,
    ...(options.point && { point: options.point }),
  });
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  log: boolean;
  format: (v: number) => string;
}

interface Layout {
  title: string;
  xLabel: string;
  yLabel: string;
  width: number;
  height: number;
  x: Axis;
  y: Axis;
  usable: (p: { x: number; y: number }) => boolean;
  markers: { x: number; label: string }[];
  /** An operating point drawn as a ring with its label. */
  point?: { x: number; y: number; label: string };
  empty: boolean;
  referenceLine?: { x1: number; y1: number; x2: number; y2: number; label?: string };
}

/** Where a chart's parts go: the SVG size, the plot area, and the data-to-pixel maps. */
interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  plotW: number;
  plotH: number;
  px: (v: number) => number;
  py: (v: number) => number;
  legend: { svg: string; height: number };
}

function frameOf(series: Series[], L: Layout): Frame {
  const width = Math.max(200, Math.round(finiteOr(L.width, 720)));
  const height = Math.max(160, Math.round(finiteOr(L.height, 340)));
  const yLabelWidth = Math.max(0, ...L.y.ticks.map((t) => L.y.format(t).length * CHAR_W));
  const left = Math.ceil(yLabelWidth + (L.yLabel ? 34 : 16));
  const right = 18;
  const legend = legendLayout(series, L, left, width - right);
  const top = 34 + legend.height + 8;
  const bottom = L.xLabel ? 48 : 30;
  const plotW = Math.max(40, width - left - right);
  const plotH = Math.max(40, height - top - bottom);
  const px = (v: number) => left + ((v - L.x.min) / (L.x.max - L.x.min)) * plotW;
  const py = (v: number) => {
    const t = L.y.log
      ? (Math.log10(v) - Math.log10(L.y.min)) / (Math.log10(L.y.max) - Math.log10(L.y.min))
      : (v - L.y.min) / (L.y.max - L.y.min);
    return top + plotH - t * plotH;
  };
  return { width, height, left, right, top, plotW, plotH, px, py, legend };
}

/** Grid lines, tick labels, the axis lines and the axis titles. */
function axesSvg(L: Layout, F: Frame): string[] {
  const { height, left, top, plotW, plotH, px, py } = F;
  const yLabels = L.y.ticks.map(L.y.format);
  const out: string[] = [];
  out.push('<g>');
  for (let i = 0; i < L.y.ticks.length; i++) {
    const y = fx(py(L.y.ticks[i]!));
    out.push(
      `<line x1="${fx(left)}" y1="${y}" x2="${fx(left + plotW)}" y2="${y}" stroke="${GRID}" stroke-width="1"/>`,
    );
    out.push(
      `<text x="${fx(left - 6)}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="${MUTED}">${escapeXml(yLabels[i]!)}</text>`,
    );
  }
  for (const t of L.x.ticks) {
    const x = fx(px(t));
    out.push(
      `<line x1="${x}" y1="${fx(top)}" x2="${x}" y2="${fx(top + plotH)}" stroke="${GRID}" stroke-width="1" stroke-opacity="0.6"/>`,
    );
    out.push(
      `<line x1="${x}" y1="${fx(top + plotH)}" x2="${x}" y2="${fx(top + plotH + 4)}" stroke="${AXIS}"/>`,
    );
    out.push(
      `<text x="${x}" y="${fx(top + plotH + 17)}" text-anchor="middle" fill="${MUTED}">${escapeXml(L.x.format(t))}</text>`,
    );
  }
  out.push(
    `<polyline points="${fx(left)},${fx(top)} ${fx(left)},${fx(top + plotH)} ${fx(left + plotW)},${fx(top + plotH)}" fill="none" stroke="${AXIS}" stroke-width="1"/>`,
  );
  if (L.xLabel) {
    out.push(
      `<text x="${fx(left + plotW / 2)}" y="${fx(height - 10)}" text-anchor="middle" fill="${INK}">${escapeXml(L.xLabel)}</text>`,
    );
  }
  if (L.yLabel) {
    const cy = fx(top + plotH / 2);
    out.push(
      `<text x="14" y="${cy}" text-anchor="middle" dominant-baseline="middle" transform="rotate(-90 14 ${cy})" fill="${INK}">${escapeXml(L.yLabel)}</text>`,
    );
  }
  out.push('</g>');

  return out;
}

/** The reference line, the markers and the operating point. */
function overlaysSvg(L: Layout, F: Frame): string[] {
  const { left, top, plotW, plotH, px, py } = F;
  const out: string[] = [];
  if (L.referenceLine) {
    const r = L.referenceLine;
    out.push(
      `<line x1="${fx(px(r.x1))}" y1="${fx(py(r.y1))}" x2="${fx(px(r.x2))}" y2="${fx(py(r.y2))}" stroke="${AXIS}" stroke-width="1" stroke-dasharray="4 4"/>`,
    );
    if (r.label) {
      const above = py(r.y1) - 6 > top + 12;
      out.push(
        `<text x="${fx(px(r.x1) + 6)}" y="${fx(above ? py(r.y1) - 6 : py(r.y1) + 14)}" font-size="11" fill="${MUTED}">${escapeXml(r.label)}</text>`,
      );
    }
  }

  for (const m of L.markers) {
    if (!Number.isFinite(m.x) || m.x < L.x.min || m.x > L.x.max) continue;
    const x = fx(px(m.x));
    out.push(
      `<line x1="${x}" y1="${fx(top)}" x2="${x}" y2="${fx(top + plotH)}" stroke="${MUTED}" stroke-width="1" stroke-dasharray="3 3"/>`,
    );
    const nearRight = px(m.x) > left + plotW - m.label.length * CHAR_W - 8;
    out.push(
      `<text x="${fx(nearRight ? px(m.x) - 4 : px(m.x) + 4)}" y="${fx(top + 12)}" text-anchor="${nearRight ? 'end' : 'start'}" font-size="11" fill="${MUTED}">${escapeXml(m.label)}</text>`,
    );
  }

  const op = L.point;
  if (op && Number.isFinite(op.x) && Number.isFinite(op.y)) {
    const cx = px(clamp01(op.x));
    const cy = py(clamp01(op.y));
    out.push(`<circle cx="${fx(cx)}" cy="${fx(cy)}" r="5" fill="none" stroke="${INK}" stroke-width="2"/>`);
    const nearRight = cx > left + plotW - op.label.length * CHAR_W - 12;
    out.push(
      `<text x="${fx(nearRight ? cx - 8 : cx + 8)}" y="${fx(cy + 16)}" text-anchor="${nearRight ? 'end' : 'start'}" font-size="11" fill="${INK}">${escapeXml(op.label)}</text>`,
    );
  }

  return out;
}

/** Each series as polylines over its runs of usable points, with dots where few or lone. */
function seriesSvg(series: Series[], L: Layout, F: Frame): string[] {
  const { plotW, px, py } = F;
  const out: string[] = [];
  series.forEach((s, i) => {
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
    const strokeWidth = fx(finiteOr(s.strokeWidth, 2));
    const opacity = Math.min(1, Math.max(0, finiteOr(s.opacity, 1)));
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const op = opacity < 1 ? ` stroke-opacity="${fx(opacity)}"` : '';
    const runs = splitRuns(s.points, L.usable).map((run) => downsample(run, Math.ceil(plotW)));
    const showAll = s.showPoints ?? s.points.length <= 40;
    const parts: string[] = [];
    for (const run of runs) {
      if (run.length > 1) {
        const pts = run.map((p) => `${fx(px(p.x))},${fx(py(p.y))}`).join(' ');
        parts.push(
          `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${strokeWidth}"${op}${dash} stroke-linejoin="round" stroke-linecap="round"/>`,
        );
      }
      if (showAll || run.length === 1) {
        for (const p of run) {
          parts.push(
            `<circle cx="${fx(px(p.x))}" cy="${fx(py(p.y))}" r="2.75" fill="${color}"${opacity < 1 ? ` fill-opacity="${fx(opacity)}"` : ''}/>`,
          );
        }
      }
    }
    if (parts.length) out.push(`<g>${parts.join('')}</g>`);
  });

  return out;
}

function renderChart(series: Series[], L: Layout): string {
  const F = frameOf(series, L);
  const { width, height, left, right, top, plotW, plotH } = F;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(L.title)}" font-family="${escapeXml(FONT)}" font-size="12">`,
  );
  out.push(`<title>${escapeXml(L.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="${left}" y="22" font-size="14" font-weight="600" fill="${INK}">${escapeXml(fit(L.title, (width - left - right) / 8))}</text>`,
  );
  out.push(F.legend.svg);
  out.push(...axesSvg(L, F), ...overlaysSvg(L, F), ...seriesSvg(series, L, F));
  if (L.empty) {
    out.push(
      `<text x="${fx(left + plotW / 2)}" y="${fx(top + plotH / 2)}" text-anchor="middle" dominant-baseline="middle" font-size="13" fill="${MUTED}">No data</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

function legendLayout(series: Series[], L: Layout, x0: number, x1: number): { svg: string; height: number } {
  if (series.length === 0) return { svg: '', height: 0 };
  const rowH = 18;
  const items: string[] = [];
  let x = x0;
  let row = 0;
  series.forEach((s, i) => {
    const hasData = s.points.some(L.usable);
    const label = fit(hasData ? s.name : `${s.name} (no data)`, (x1 - x0 - 40) / CHAR_W);
    const w = 22 + label.length * CHAR_W + 18;
    if (x > x0 && x + w > x1) {
      x = x0;
      row++;
    }
    const y = 40 + row * rowH;
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    const opacity = Math.min(1, Math.max(0.35, finiteOr(s.opacity, 1)));
    items.push(
      `<line x1="${fx(x)}" y1="${fx(y)}" x2="${fx(x + 16)}" y2="${fx(y)}" stroke="${color}" stroke-width="2.5"${opacity < 1 ? ` stroke-opacity="${fx(opacity)}"` : ''}${dash}/>`,
    );
    items.push(
      `<text x="${fx(x + 22)}" y="${fx(y)}" dominant-baseline="middle" fill="${hasData ? INK : MUTED}">${escapeXml(label)}</text>`,
    );
    x += w;
  });
  return { svg: `<g>${items.join('')}</g>`, height: (row + 1) * rowH };
}

function splitRuns(
  points: { x: number; y: number }[],
  usable: (p: { x: number; y: number }) => boolean,
): { x: number; y: number }[][] {
  const runs: { x: number; y: number }[][] = [];
  let run: { x: number; y: number }[] = [];
  for (const p of points) {
    if (p && usable(p)) run.push(p);
    else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

function downsample(run: { x: number; y: number }[], buckets: number): { x: number; y: number }[] {
  if (run.length <= buckets * 2) return run;
  const size = Math.ceil(run.length / buckets);
  const out: { x: number; y: number }[] = [];
  for (let b = 0; b < run.length; b += size) {
    const end = Math.min(run.length, b + size);
    let lo = b;
    let hi = b;
    for (let i = b + 1; i < end; i++) {
      if (run[i]!.y < run[lo]!.y) lo = i;
      if (run[i]!.y > run[hi]!.y) hi = i;
    }
    const keep = [...new Set([b, lo, hi, end - 1])].sort((p, q) => p - q);
    for (const i of keep) out.push(run[i]!);
  }
  return out;
}

function linearAxis(values: number[], integer: boolean, pad: boolean, tight: boolean): Axis {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) {
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    const d = integer ? 1 : lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  } else if (pad) {
    const d = (hi - lo) * 0.04;
    lo = lo >= 0 && lo - d < 0 ? 0 : lo - d;
    hi = hi <= 0 && hi + d > 0 ? 0 : hi + d;
  }
  let step = niceStep((hi - lo) / 5);
  if (integer && step < 1) step = 1;
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const snap = !tight || last - first < 2;
  const min = snap ? Math.floor(lo / step + 1e-9) * step : lo;
  const max = snap ? Math.ceil(hi / step - 1e-9) * step : hi;
  const ticks: number[] = [];
  for (let i = Math.ceil(min / step - 1e-9); i <= Math.floor(max / step + 1e-9); i++)
    ticks.push(clean(i * step));
  const biggest = Math.max(Math.abs(min), Math.abs(max));
  return { min: clean(min), max: clean(max), ticks, log: false, format: (v) => formatTick(v, step, biggest) };
}

function logAxis(values: number[]): Axis {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) {
    lo = 0.1;
    hi = 10;
  }
  if (lo === hi) {
    lo /= 2;
    hi *= 2;
  }
  const candidates = (e: number) => [1, 2, 5].map((m) => clean(m * 10 ** e));
  const eLo = Math.floor(Math.log10(lo));
  const eHi = Math.ceil(Math.log10(hi));
  const all: number[] = [];
  for (let e = eLo - 1; e <= eHi; e++) all.push(...candidates(e));
  const min = all.filter((v) => v <= lo * (1 + 1e-9)).at(-1) ?? 10 ** eLo;
  const max = all.find((v) => v >= hi * (1 - 1e-9)) ?? 10 ** eHi;
  const decades = Math.log10(max / min);
  let ticks = all.filter((v) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9));
  if (decades > 2.5) ticks = ticks.filter((v) => isPowerOfTen(v));
  if (ticks.length > 8) {
    const every = Math.ceil(ticks.length / 7);
    ticks = ticks.filter((_, i) => i % every === 0);
  }
  if (ticks.length < 2) ticks = [min, max];
  return { min, max, ticks, log: true, format: formatLogTick };
}

function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const m = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return clean(m * mag);
}

function formatTick(v: number, step: number, biggest: number): string {
  if (v === 0) return '0';
  const stepExp = Math.floor(Math.log10(step) + 1e-9);
  if (biggest < 1e-3 || biggest >= 1e9)
    return expo(v, Math.max(0, Math.floor(Math.log10(biggest)) - stepExp));
  if (biggest >= 1e4) {
    const [div, suffix] = biggest >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
    const digits = Math.max(0, -Math.floor(Math.log10(step / div) + 1e-9));
    return `${trimZeros((v / div).toFixed(digits))}${suffix}`;
  }
  return v.toFixed(Math.min(12, Math.max(0, -stepExp)));
}

function formatLogTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return expo(v, 2);
  return String(Number(v.toPrecision(3)));
}

function expo(v: number, fractionDigits: number): string {
  const [mant, exp] = v.toExponential(Math.min(10, fractionDigits)).split('e');
  return `${trimZeros(mant!)}e${Number(exp)}`;
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function fit(text: string, maxChars: number): string {
  const n = Math.max(4, Math.floor(maxChars));
  return text.length <= n ? text : `${text.slice(0, n - 1)}…`;
}

function isPowerOfTen(v: number): boolean {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
}

function clean(v: number): number {
  return Number(v.toPrecision(12));
}

function clamp01(v: number): number {
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : v;
}

function finiteOr(v: number | undefined, fallback: number): number {
  return v !== undefined && Number.isFinite(v) ? v : fallback;
}

function fx(v: number): string {
  const r = Math.round(v * 10) / 10;
  return Object.is(r, -0) ? '0' : String(r);
}
