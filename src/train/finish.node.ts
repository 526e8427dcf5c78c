// After training: the reference embeddings and the fitted scorer beside model.onnx, detection
// quality when labels are given, and the report (HTML + SVG charts) in the run directory.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Evaluation, evaluate } from '../detect/metrics.ts';
import { loadEmbedder } from '../embed/embedder.node.ts';
import { specTable } from '../features/spec.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { curveChartSvg } from '../report/charts.ts';
import { renderReport, reportCharts } from '../report/report.ts';
import { RUN_FILES } from '../run/layout.ts';
import type { MetricRecord } from '../run/metrics.ts';
import { type RunScoring, scoreAgainstRun, writeRunScorer } from '../run/scoring.node.ts';
import type { RunResult } from './run.node.ts';

export interface FinishOptions {
  /** Labels (uid → is_anomaly, see `readLabels`) for detection quality on the validation events. */
  labels?: Map<string, boolean>;
  /** Held-out events to score and evaluate instead of the validation split. */
  heldOut?: { events: object[]; labels: Map<string, boolean>; name: string };
  verbose?: boolean;
}

export interface FinishSummary {
  reportPath: string;
  scoring: RunScoring | null;
  detection: (Evaluation & { on: string }) | null;
}

function readMetrics(runDir: string): MetricRecord[] {
  const path = join(runDir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricRecord);
}

const pct = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

/** Detection quality in one line for the terminal. */
export function detectionLine(e: Evaluation & { on: string }): string {
  const at = e.atThreshold;
  const flagged = at ? at.tp + at.fp : 0;
  const atText = at
    ? `; at the threshold ${flagged} flagged, precision ${pct(at.precision)}, recall ${pct(at.recall)}`
    : '';
  return `detection on ${e.on} (${e.anomalies} anomalies): ROC-AUC ${pct(e.rocAuc)}, PR-AUC ${pct(e.prAuc)}${atText}`;
}

/** Detection quality as an HTML section with ROC and PR curves. */
function detectionSection(e: Evaluation & { on: string }): { title: string; html: string } {
  const at = e.atThreshold;
  const rows = [
    ['evaluated on', e.on],
    ['events / anomalies', `${e.rows} / ${e.anomalies}`],
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
  const roc = curveChartSvg([{ name: 'ROC', points: e.roc.map((p) => ({ x: p.fpr, y: p.tpr })) }], {
    title: 'ROC curve',
    xLabel: 'false positive rate',
    yLabel: 'true positive rate',
  });
  const pr = curveChartSvg([{ name: 'PR', points: e.pr.map((p) => ({ x: p.recall, y: p.precision })) }], {
    title: 'Precision–recall curve',
    xLabel: 'recall',
    yLabel: 'precision',
    reference: { y: e.anomalies / Math.max(1, e.rows), label: 'anomaly rate' },
  });
  return { title: 'Detection quality', html: `${table}<div class="charts">${roc}${pr}</div>` };
}

/** Writes the reference embeddings, scorer, detection quality and report of a finished run. */
export async function finishRun(r: RunResult, o: FinishOptions = {}): Promise<FinishSummary> {
  const say = (line: string) => {
    if (o.verbose !== false) console.log(line);
  };
  let scoring: RunScoring | null = null;
  let detection: (Evaluation & { on: string }) | null = null;
  if (r.modelPath) {
    const runtime = { device: 'cpu' as const, threads: r.threads };
    const { embedder } = await loadEmbedder(r.modelPath, runtime);
    const trainEvents = Array.from(r.trainIndices, (i) => r.events[i]!);
    scoring = await writeRunScorer(r.runDir, embedder, trainEvents, r.spec.uidPath, runtime);
    say(
      `scorer: ${scoring.method}, threshold ${scoring.threshold.toFixed(4)} (${scoring.thresholdPercentile}th percentile over ${scoring.referenceRows} of ${trainEvents.length} training events)`,
    );
    let labels: Map<string, boolean> | null = null;
    let events: object[] = [];
    let on = '';
    if (o.heldOut) {
      labels = o.heldOut.labels;
      events = o.heldOut.events;
      on = o.heldOut.name;
    } else if (o.labels) {
      labels = o.labels;
      events = Array.from(r.valIndices, (i) => r.events[i]!);
      on = `${events.length} validation events`;
    }
    if (labels && events.length) {
      const scored = await scoreAgainstRun(r.runDir, embedder, events, runtime);
      const y: number[] = [];
      const s: number[] = [];
      scored.uids.forEach((uid, i) => {
        const label = labels!.get(uid);
        if (label === undefined) return;
        y.push(label ? 1 : 0);
        s.push(scored.scores[i]!);
      });
      if (y.length) {
        detection = { ...evaluate(s, y, { threshold: scoring.threshold }), on };
        writeFileSync(join(r.runDir, RUN_FILES.detection), `${JSON.stringify(detection, null, 2)}\n`);
        say(detectionLine(detection));
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
