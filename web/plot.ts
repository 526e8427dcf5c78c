// The scatter plot of projected embeddings on a <canvas>: points coloured by anomaly score (above-threshold
// points outlined and drawn last), the reference events in grey beneath, axes, a colour legend, and
// point lookup for hover and selection.

/** What the plot draws. */
export interface PlotData {
  /** Event positions, row-major [n, 2]. */
  points: Float32Array;
  scores: ArrayLike<number>;
  isAnomaly: ArrayLike<number>;
  threshold: number;
  /** Reference positions, [m, 2] (may be empty). */
  referencePoints: Float32Array;
  /** Axis titles. */
  xLabel: string;
  yLabel: string;
}

/** Where data coordinates land on the canvas (CSS pixels). */
export interface PlotLayout {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const RAMP: [number, number, number][] = [
  [49, 54, 149],
  [69, 117, 180],
  [171, 217, 233],
  [254, 224, 144],
  [244, 109, 67],
  [165, 0, 38],
];

/** The colour of a position `t` in [0, 1] on the score ramp (blue = low, red = high), as `rgb(…)`. */
export function rampColour(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [RAMP[i]!, RAMP[i + 1]!];
  const c = a.map((v, k) => Math.round(v + (b[k]! - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Lowest and highest finite value. */
export function extent(values: ArrayLike<number>): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function padded([lo, hi]: [number, number]): [number, number] {
  const pad = (hi - lo || 1) * 0.05;
  return [lo - pad, hi + pad];
}

/** The layout for a plot of `width` × `height` CSS pixels covering the points and the reference points. */
export function layoutFor(data: PlotData, width: number, height: number): PlotLayout {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const p of [data.points, data.referencePoints]) {
    for (let i = 0; i < p.length; i += 2) {
      xs.push(p[i]!);
      ys.push(p[i + 1]!);
    }
  }
  const [x0, x1] = padded(extent(xs));
  const [y0, y1] = padded(extent(ys));
  return { width, height, left: 48, top: 12, right: width - 12, bottom: height - 40, x0, x1, y0, y1 };
}

/** Canvas position (CSS pixels) of a data point. */
export function toCanvas(l: PlotLayout, x: number, y: number): [number, number] {
  return [
    l.left + ((x - l.x0) / (l.x1 - l.x0)) * (l.right - l.left),
    l.bottom - ((y - l.y0) / (l.y1 - l.y0)) * (l.bottom - l.top),
  ];
}

/** The event drawn nearest to canvas position (cx, cy) within `radius` pixels, or null. */
export function pointAt(data: PlotData, l: PlotLayout, cx: number, cy: number, radius = 6): number | null {
  let best: number | null = null;
  let bestD = radius * radius;
  for (let i = 0; i < data.points.length / 2; i++) {
    const [px, py] = toCanvas(l, data.points[i * 2]!, data.points[i * 2 + 1]!);
    const dd = (px - cx) ** 2 + (py - cy) ** 2;
    if (dd <= bestD) {
      bestD = dd;
      best = i;
    }
  }
  return best;
}

/** Radius of an event's dot: smaller as the plot fills up. */
export function pointRadius(n: number): number {
  return n <= 1000 ? 2.5 : n <= 10_000 ? 1.8 : 1.3;
}

/** Draws the plot on `canvas` at its CSS size (sharp on high-DPI screens); returns the layout used. */
export function drawPlot(
  canvas: HTMLCanvasElement,
  data: PlotData,
  selected: number | null = null,
): PlotLayout {
  const width = canvas.clientWidth || 640;
  const height = canvas.clientHeight || 440;
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const l = layoutFor(data, width, height);

  g.strokeStyle = '#c8ccd2';
  g.lineWidth = 1;
  g.strokeRect(l.left + 0.5, l.top + 0.5, l.right - l.left, l.bottom - l.top);
  g.fillStyle = '#444b55';
  g.font = '12px system-ui, sans-serif';
  g.textAlign = 'center';
  g.fillText(data.xLabel, (l.left + l.right) / 2, height - 12);
  g.save();
  g.translate(16, (l.top + l.bottom) / 2);
  g.rotate(-Math.PI / 2);
  g.fillText(data.yLabel, 0, 0);
  g.restore();

  g.save();
  g.beginPath();
  g.rect(l.left, l.top, l.right - l.left, l.bottom - l.top);
  g.clip();
  g.fillStyle = 'rgba(110, 118, 130, 0.4)';
  for (let i = 0; i < data.referencePoints.length; i += 2) {
    const [x, y] = toCanvas(l, data.referencePoints[i]!, data.referencePoints[i + 1]!);
    g.fillRect(x - 1, y - 1, 2, 2);
  }
  const n = data.points.length / 2;
  const [lo, hi] = extent(data.scores);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => data.scores[a]! - data.scores[b]!);
  const radius = pointRadius(n);
  for (const i of order) {
    const [x, y] = toCanvas(l, data.points[i * 2]!, data.points[i * 2 + 1]!);
    const anomaly = data.isAnomaly[i] === 1;
    g.beginPath();
    g.arc(x, y, anomaly ? radius + 1.5 : radius, 0, 2 * Math.PI);
    g.fillStyle = rampColour((data.scores[i]! - lo) / (hi - lo || 1));
    g.fill();
    if (anomaly) {
      g.strokeStyle = '#111';
      g.lineWidth = n > 5000 ? 0.6 : 1;
      g.stroke();
    }
  }
  if (selected !== null && selected < n) {
    const [x, y] = toCanvas(l, data.points[selected * 2]!, data.points[selected * 2 + 1]!);
    g.beginPath();
    g.arc(x, y, 9, 0, 2 * Math.PI);
    g.strokeStyle = '#0a58ca';
    g.lineWidth = 2.5;
    g.stroke();
  }
  g.restore();
  return l;
}

/** Draws the colour legend on `canvas`: the ramp from the lowest to the highest score, the threshold marked. */
export function drawLegend(canvas: HTMLCanvasElement, scores: ArrayLike<number>, threshold: number): void {
  const width = canvas.clientWidth || 320;
  const height = canvas.clientHeight || 46;
  const ratio = globalThis.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d')!;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const [lo, hi] = extent(scores);
  const x0 = 8;
  const x1 = width - 8;
  for (let x = x0; x < x1; x++) {
    g.fillStyle = rampColour((x - x0) / (x1 - x0));
    g.fillRect(x, 16, 1, 12);
  }
  g.fillStyle = '#444b55';
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'alphabetic';
  g.textAlign = 'left';
  g.fillText(`${lo.toFixed(3)} (low)`, x0, 42);
  g.textAlign = 'right';
  g.fillText(`${hi.toFixed(3)} (high)`, x1, 42);
  if (threshold >= lo && threshold <= hi) {
    const x = x0 + ((threshold - lo) / (hi - lo || 1)) * (x1 - x0);
    g.fillStyle = '#111';
    g.fillRect(Math.round(x) - 1, 13, 2, 18);
    const label = `threshold ${threshold.toFixed(3)}`;
    const half = g.measureText(label).width / 2;
    g.textAlign = 'center';
    g.fillText(label, Math.min(Math.max(x, x0 + half), x1 - half), 10);
  }
}
