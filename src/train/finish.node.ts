// After training: the reference embeddings and the fitted scorer beside model.onnx, detection
// quality when labels are given, and the report (HTML + SVG charts) in the run directory.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASELINE_NAMES, scoreRawBaseline } from '../detect/baselines.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { releaseKnnSession } from '../detect/knn.ts';
import {
  averagePrecision,
  type Evaluation,
  evaluate,
  rocAuc,
  type ScenarioMetrics,
  scenarioMetrics,
} from '../detect/metrics.ts';
import { loadEmbedder } from '../embed/embedder.node.ts';
import { extractRaw } from '../features/encode.ts';
import { specTable } from '../features/spec.ts';
import type { FittedSpec } from '../features/types.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { curveChartSvg } from '../report/charts.ts';
import { renderReport, reportCharts } from '../report/report.ts';
import { RUN_FILES } from '../run/layout.ts';
import { type MetricRecord, parseMetrics } from '../run/metrics.ts';
import { loadRunScorer, scoreAgainstRun, writeRunScorer } from '../run/scoring.node.ts';
import type { RunScoring } from '../run/scoring.ts';
import type { RuntimeOptions } from '../runtime/session.ts';
import type { RunResult } from './run.node.ts';

export interface FinishOptions {
  /** Labels (uid → is_anomaly, see `readLabels`) for detection quality on the validation events. */
  labels?: Map<string, boolean>;
  /** uid → anomaly scenario, for per-scenario figures (see `readLabelsFile`). */
  scenarios?: Map<string, string>;
  /** Held-out events to score and evaluate instead of the validation split. */
  heldOut?: { events: object[]; labels: Map<string, boolean>; name: string; scenarios?: Map<string, string> };
  verbose?: boolean;
}

/** Detection quality on the evaluated events, with what the report shows beside the curves. */
export type Detection = Evaluation & {
  on: string;
  /** Share of the evaluated events above the threshold, and the share the threshold percentile intends. */
  flagged: number;
  intended: number;
  /** Per anomaly scenario: events, ROC-AUC against the normal events, recall at the threshold. */
  scenarios: ScenarioMetrics[];
  /** The highest-scoring events with the fields that make them unusual. */
  top: { uid: string; score: number; label: string; why: string }[];
  /** Raw-feature baselines fitted on the same reference events and scored on the same events. */
  baselines: { method: string; rocAuc: number; prAuc: number; flagged: number }[];
};

export interface FinishSummary {
  reportPath: string;
  scoring: RunScoring | null;
  detection: Detection | null;
}

function readMetrics(runDir: string): MetricRecord[] {
  const path = join(runDir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  return parseMetrics(readFileSync(path, 'utf8'));
}

const pct = (x: number | null) => (x !== null && Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** Detection quality in one line for the terminal. */
export function detectionLine(e: Evaluation & { on: string }): string {
  const at = e.atThreshold;
  const flagged = at ? at.tp + at.fp : 0;
  const atText = at
    ? `; at the threshold ${flagged} flagged, precision ${pct(at.precision)}, recall ${pct(at.recall)}`
    : '';
  return `detection on ${e.on} (${e.anomalies} anomalies): ROC-AUC ${pct(e.rocAuc)}, PR-AUC ${pct(e.prAuc)}${atText}`;
}

/** The raw-feature baselines in one line for the terminal. */
function baselinesLine(baselines: Detection['baselines']): string {
  const parts = baselines.map((b) => `${b.method} ${pct(b.rocAuc)} / ${pct(b.prAuc)}`);
  return `  beside raw-feature baselines on the same events (ROC-AUC / PR-AUC): ${parts.join(', ')}`;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Detection quality as an HTML section: figures, ROC and PR curves with the operating point, per-scenario figures, top anomalies. */
function detectionSection(e: Detection): { title: string; html: string } {
  const at = e.atThreshold;
  const rows = [
    ['evaluated on', e.on],
    ['events / anomalies', `${e.rows} / ${e.anomalies}`],
    [
      'flagged at the threshold',
      `${(100 * e.flagged).toFixed(1)}% (intended ${(100 * e.intended).toFixed(0)}%)`,
    ],
    ['ROC-AUC', pct(e.rocAuc)],
    ['PR-AUC (average precision)', pct(e.prAuc)],
    ...(at
      ? [
          [
            'precision / recall / F1 at the threshold',
            `${pct(at.precision)} / ${pct(at.recall)} / ${pct(at.f1)}`,
          ],
        ]
      : []),
    ...e.precisionAtK.map((p) => [`precision@${p.k}`, pct(p.precision)]),
  ];
  const table = `<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>`;
  const baselines = e.baselines.length
    ? `<h3>Beside raw-feature baselines</h3><p>Fitted on the same reference events' fields (no model) and scored on the same events.</p><table><tr><th>method</th><th>ROC-AUC</th><th>PR-AUC</th><th>flagged</th></tr><tr><td>this run</td><td>${pct(e.rocAuc)}</td><td>${pct(e.prAuc)}</td><td>${(100 * e.flagged).toFixed(1)}%</td></tr>${e.baselines
        .map(
          (b) =>
            `<tr><td>${esc(b.method)}</td><td>${pct(b.rocAuc)}</td><td>${pct(b.prAuc)}</td><td>${(100 * b.flagged).toFixed(1)}%</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const label = at ? `threshold (${(100 * e.flagged).toFixed(1)}% flagged)` : '';
  const roc = curveChartSvg([{ name: 'ROC', points: e.roc.map((p) => ({ x: p.fpr, y: p.tpr })) }], {
    title: 'ROC curve',
    xLabel: 'false positive rate',
    yLabel: 'true positive rate',
    ...(at && { point: { x: at.fp / Math.max(1, at.fp + at.tn), y: at.recall, label } }),
  });
  const pr = curveChartSvg([{ name: 'PR', points: e.pr.map((p) => ({ x: p.recall, y: p.precision })) }], {
    title: 'Precision–recall curve',
    xLabel: 'recall',
    yLabel: 'precision',
    reference: { y: e.anomalies / Math.max(1, e.rows), label: 'anomaly rate' },
    ...(at && { point: { x: at.recall, y: at.precision, label } }),
  });
  const scenarios = e.scenarios.length
    ? `<h3>Per scenario</h3><table><tr><th>scenario</th><th>events</th><th>ROC-AUC</th><th>recall at the threshold</th></tr>${e.scenarios
        .map(
          (x) =>
            `<tr><td>${esc(x.scenario)}</td><td>${x.events}</td><td>${pct(x.rocAuc)}</td><td>${pct(x.recall)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const top = e.top.length
    ? `<h3>Top anomalies</h3><table><tr><th>#</th><th>uid</th><th>score</th><th>label</th><th>why unusual</th></tr>${e.top
        .map(
          (x, i) =>
            `<tr><td>${i + 1}</td><td>${esc(x.uid)}</td><td>${x.score.toFixed(4)}</td><td>${esc(x.label)}</td><td>${esc(x.why)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  return {
    title: 'Detection quality',
    html: `${table}<div class="charts">${roc}${pr}</div>${baselines}${scenarios}${top}`,
  };
}

/** Top anomalies shown in the report. */
const TOP_ANOMALIES = 20;

/** The scored events that have a label: their row indices and their labels (1 anomaly, 0 normal). */
function labelledRows(
  uids: readonly string[],
  labels: Map<string, boolean>,
): { rows: number[]; y: number[] } {
  const rows: number[] = [];
  const y: number[] = [];
  uids.forEach((uid, i) => {
    const label = labels.get(uid);
    if (label === undefined) return;
    rows.push(i);
    y.push(label ? 1 : 0);
  });
  return { rows, y };
}

/** Evaluates scored events against labels (and scenarios) for the report. */
function detectionOf(
  scored: Awaited<ReturnType<typeof scoreAgainstRun>>,
  labels: Map<string, boolean>,
  scenarioOf: Map<string, string>,
  threshold: number,
  intended: number,
  on: string,
): Detection | null {
  const { rows, y } = labelledRows(scored.uids, labels);
  const s = rows.map((i) => scored.scores[i]!);
  const names = rows.map((i, j) => (y[j] ? scenarioOf.get(scored.uids[i]!) : undefined));
  if (y.length === 0) return null;
  const flags = s.map((x) => x > threshold);
  const flagged = flags.filter(Boolean).length;
  const scenarios = scenarioMetrics(s, y, names, flags);
  const order = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || a - b);
  const top = order.slice(0, TOP_ANOMALIES).map((i) => ({
    uid: scored.uids[rows[i]!]!,
    score: s[i]!,
    label: y[i] ? (names[i] ?? 'anomaly') : 'normal',
    why: scored.why[rows[i]!]!,
  }));
  return {
    ...evaluate(s, y, { threshold }),
    on,
    flagged: flagged / y.length,
    intended,
    scenarios,
    top,
    baselines: [],
  };
}

/**
 * The raw-feature baselines on the evaluated events: fitted on the run's reference events' fields, scored
 * on `events`, evaluated on the labelled ones.
 */
async function baselineFigures(
  runDir: string,
  spec: FittedSpec,
  events: readonly object[],
  uids: readonly string[],
  labels: Map<string, boolean>,
  runtime: RuntimeOptions,
): Promise<Detection['baselines']> {
  const reference = loadRunScorer(runDir).features;
  if (!reference) return [];
  const { rows, y } = labelledRows(uids, labels);
  const raws = events.map((e) => extractRaw(spec, e));
  const knn = nodeKnnRuntime(runtime);
  const out: Detection['baselines'] = [];
  try {
    for (const method of ['knn', 'iforest'] as const) {
      const scored = await scoreRawBaseline(method, spec, reference, raws, knn);
      if (y.length === 0) break;
      const s = rows.map((i) => scored.scores[i]!);
      const flagged = rows.reduce((n, i) => n + scored.isAnomaly[i]!, 0);
      out.push({
        method: BASELINE_NAMES[method],
        rocAuc: rocAuc(s, y),
        prAuc: averagePrecision(s, y),
        flagged: flagged / y.length,
      });
    }
  } finally {
    await releaseKnnSession(knn);
  }
  return out;
}

/** Writes the reference embeddings, scorer, detection quality and report of a finished run. */
export async function finishRun(r: RunResult, o: FinishOptions = {}): Promise<FinishSummary> {
  const say = (line: string) => {
    if (o.verbose !== false) console.log(line);
  };
  let scoring: RunScoring | null = null;
  let detection: Detection | null = null;
  if (r.modelPath) {
    const runtime = { device: 'cpu' as const, threads: r.threads };
    const { embedder } = await loadEmbedder(r.modelPath, runtime);
    const trainEvents = Array.from(r.trainIndices, (i) => r.events[i]!);
    scoring = await writeRunScorer(r.runDir, embedder, trainEvents, r.spec.uidPath, runtime);
    say(
      `scorer: ${scoring.method}, threshold ${scoring.threshold.toFixed(4)} (${scoring.thresholdPercentile}th percentile over ${scoring.referenceRows} of ${trainEvents.length} training events)`,
    );
    let labels: Map<string, boolean> | null = null;
    let scenarioOf = new Map<string, string>();
    let events: object[] = [];
    let on = '';
    if (o.heldOut) {
      labels = o.heldOut.labels;
      scenarioOf = o.heldOut.scenarios ?? scenarioOf;
      events = o.heldOut.events;
      on = o.heldOut.name;
    } else if (o.labels) {
      labels = o.labels;
      scenarioOf = o.scenarios ?? scenarioOf;
      events = Array.from(r.valIndices, (i) => r.events[i]!);
      on = `${events.length} validation events`;
    }
    if (labels && events.length) {
      const scored = await scoreAgainstRun(r.runDir, embedder, events, runtime);
      const intended = 1 - scoring.thresholdPercentile / 100;
      detection = detectionOf(scored, labels, scenarioOf, scoring.threshold, intended, on);
      if (detection) {
        detection.baselines = await baselineFigures(r.runDir, r.spec, events, scored.uids, labels, runtime);
        writeFileSync(join(r.runDir, RUN_FILES.detection), `${JSON.stringify(detection, null, 2)}\n`);
        say(detectionLine(detection));
        if (detection.baselines.length) say(baselinesLine(detection.baselines));
      } else say('note: no scored event has a label (labels are matched by metadata.uid)');
    }
    await embedder.release();
  }

  const metrics = readMetrics(r.runDir);
  const last = [...metrics].reverse().find((m) => m.type === 'epoch');
  const summary: Record<string, string | number> = {
    'stopped because': r.position.stopReason ?? 'interrupted',
    'epochs / steps': `${r.position.epoch} / ${r.position.step}`,
    'best validation loss': r.position.best
      ? `${r.position.best.valLoss.toFixed(4)} (epoch ${r.position.best.epoch})`
      : 'n/a',
    'training / validation events': `${r.trainRows} / ${r.valRows}`,
    'events rejected': r.load.rejected,
    'wall time (s)': r.seconds.toFixed(1),
    'training samples/s': Math.round(r.samplesPerSecond),
    device: r.device,
  };
  if (last)
    summary['last train / val loss'] =
      `${last.train_loss.toFixed(4)} / ${last.val_loss?.toFixed(4) ?? 'n/a'}`;
  if (scoring) summary.scorer = `${scoring.method} (threshold ${scoring.threshold.toFixed(4)})`;
  if (detection) summary['ROC-AUC / PR-AUC'] = `${pct(detection.rocAuc)} / ${pct(detection.prAuc)}`;
  const html = renderReport({
    title: r.runDir,
    createdAt: new Date().toISOString(),
    config: { training: r.config },
    specTable: specTable(r.spec),
    metrics,
    summary,
    extraSections: detection ? [detectionSection(detection)] : [],
  });
  const reportPath = join(r.runDir, RUN_FILES.report);
  writeFileAtomic(reportPath, html);
  mkdirSync(join(r.runDir, RUN_FILES.charts), { recursive: true });
  for (const c of reportCharts(metrics)) writeFileSync(join(r.runDir, RUN_FILES.charts, c.name), c.svg);
  say(`report: ${reportPath}`);
  return { reportPath, scoring, detection };
}
