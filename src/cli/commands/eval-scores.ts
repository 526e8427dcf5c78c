// `ocsf-embed eval-scores`: detection quality of a scores file (from `score`) against labels: ROC-AUC,
// PR-AUC, precision/recall at the threshold, precision@k, and ROC and PR curves as SVG.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import type { CommandModule } from 'yargs';
import { UserError } from '../../core/errors.ts';
import { readLabelsFile } from '../../detect/labels.node.ts';
import { type Evaluation, evaluate, type ScenarioMetrics, scenarioMetrics } from '../../detect/metrics.ts';
import { formatFromPath } from '../../io/writers.node.ts';
import { curveChartSvg } from '../../report/charts.ts';
import { SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed eval-scores`. */
export interface EvalScoresArgs {
  scores: string;
  labels?: string;
  out?: string;
  plots?: string;
  threshold?: number;
  k?: string;
  quiet: boolean;
  json: boolean;
}

/** Scores read back from a file written by `ocsf-embed score`. */
export interface ScoresFile {
  uids: (string | null)[];
  scores: number[];
  /** The threshold recorded in the file, if any. */
  threshold: number | undefined;
}

/** Splits CSV text into rows of cells (RFC 4180 quoting). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

function toScore(v: unknown, where: string): number {
  const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(x)) {
    throw new UserError(
      `${where}: the score is ${JSON.stringify(v)}, not a number; give a file written by \`ocsf-embed score\``,
    );
  }
  return x;
}

function toUid(v: unknown): string | null {
  return v === null || v === undefined || v === '' ? null : String(v);
}

/** Reads a scores file (JSON lines, CSV or Parquet with `uid` and `score` columns, `threshold` optional). */
export async function readScoresFile(path: string): Promise<ScoresFile> {
  if (!existsSync(path) || statSync(path).isDirectory()) {
    throw new UserError(
      `cannot read the scores file ${path}: check the path (write one with \`ocsf-embed score\`)`,
    );
  }
  const format = formatFromPath(path);
  const uids: (string | null)[] = [];
  const scores: number[] = [];
  let threshold: number | undefined;
  const keep = (uid: unknown, score: unknown, t: unknown, where: string) => {
    uids.push(toUid(uid));
    scores.push(toScore(score, where));
    if (threshold === undefined && t !== undefined && t !== null && t !== '' && Number.isFinite(Number(t)))
      threshold = Number(t);
  };
  if (format === 'parquet') {
    const buf = readFileSync(path);
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({
        file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
      })) as Record<string, unknown>[];
    } catch (e) {
      throw new UserError(`${path} cannot be read as Parquet (${(e as Error).message}): check the file`);
    }
    if (rows.length > 0 && !('score' in rows[0]!)) {
      throw new UserError(`${path} has no "score" column: give a file written by \`ocsf-embed score\``);
    }
    rows.forEach((r, i) => {
      keep(r.uid, r.score, r.threshold, `${path} row ${i}`);
    });
  } else if (format === 'csv') {
    const rows = parseCsv(readFileSync(path, 'utf8')).filter((r) => r.length > 1 || r[0] !== '');
    const header = rows[0] ?? [];
    const at = (name: string) => header.indexOf(name);
    if (at('score') < 0 || at('uid') < 0) {
      throw new UserError(
        `${path} has no "uid" and "score" header columns: give a file written by \`ocsf-embed score\``,
      );
    }
    for (let i = 1; i < rows.length; i++) {
      const r = rows[i]!;
      keep(
        r[at('uid')],
        r[at('score')],
        at('threshold') >= 0 ? r[at('threshold')] : undefined,
        `${path}:${i + 1}`,
      );
    }
  } else if (format === 'jsonl') {
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(line);
        } catch {
          throw new UserError(`${path}:${i + 1} is not JSON; give a file written by \`ocsf-embed score\``);
        }
        keep(r.uid, r.score, r.threshold, `${path}:${i + 1}`);
      });
  } else {
    throw new UserError(
      `cannot tell the format of ${path}: name it .jsonl, .csv or .parquet (as \`ocsf-embed score\` writes)`,
    );
  }
  if (scores.length === 0)
    throw new UserError(`${path} holds no scores: score some events with \`ocsf-embed score\``);
  return { uids, scores, threshold };
}

/** The result of matching scores to labels and evaluating them. */
export interface ScoresEvaluation extends Evaluation {
  /** Scored events with a label (the rows evaluated). */
  matched: number;
  /** Scored events without a label (or without a uid). */
  unlabelled: number;
  /** Labels with no scored event. */
  labelsUnused: number;
  /** Per anomaly scenario (from the labels' `scenario`): events, ROC-AUC against the normal events, recall at the threshold. */
  scenarios: ScenarioMetrics[];
}

/** Matches scores to labels by uid and evaluates them; no match at all is a {@link UserError}. */
export function evaluateScores(
  file: ScoresFile,
  labels: Map<string, boolean>,
  options: {
    threshold?: number;
    ks?: number[];
    scoresPath?: string;
    labelsPath?: string;
    /** uid → anomaly scenario, for per-scenario figures. */
    scenarios?: Map<string, string>;
  } = {},
): ScoresEvaluation {
  const y: number[] = [];
  const s: number[] = [];
  const scenarioOf: (string | undefined)[] = [];
  const seen = new Set<string>();
  file.uids.forEach((uid, i) => {
    if (uid === null) return;
    const label = labels.get(uid);
    if (label === undefined) return;
    y.push(label ? 1 : 0);
    s.push(file.scores[i]!);
    scenarioOf.push(label ? options.scenarios?.get(uid) : undefined);
    seen.add(uid);
  });
  if (y.length === 0) {
    const firstScore = file.uids.find((u) => u !== null);
    const firstLabel = labels.keys().next().value;
    const withUid = file.uids.filter((u) => u !== null).length;
    throw new UserError(
      withUid === 0
        ? `no scored event in ${options.scoresPath ?? 'the scores'} has a uid, so none can be matched to labels: score events that carry metadata.uid`
        : `none of the ${withUid} scored uids appears in ${options.labelsPath ?? 'the labels'} (${labels.size} labels; first scored uid ${JSON.stringify(firstScore)}, first label uid ${JSON.stringify(firstLabel)}): give the labels of the events that were scored`,
    );
  }
  const threshold = options.threshold ?? file.threshold;
  const e = evaluate(s, y, {
    ...(threshold !== undefined ? { threshold } : {}),
    ...(options.ks ? { ks: options.ks } : {}),
  });
  const flagged = threshold === undefined ? undefined : s.map((x) => x > threshold);
  const scenarios = scenarioMetrics(s, y, scenarioOf, flagged);
  return {
    ...e,
    matched: y.length,
    unlabelled: file.scores.length - y.length,
    labelsUnused: labels.size - seen.size,
    scenarios,
  };
}

/** ROC and PR curves of an evaluation as standalone SVG documents. */
export function evaluationCharts(e: Evaluation): { roc: string; pr: string } {
  const at = e.atThreshold;
  const label = at ? `threshold ${at.threshold.toPrecision(4)}` : '';
  return {
    roc: curveChartSvg([{ name: 'ROC', points: e.roc.map((p) => ({ x: p.fpr, y: p.tpr })) }], {
      title: `ROC curve (AUC ${Number.isFinite(e.rocAuc) ? e.rocAuc.toFixed(3) : 'n/a'})`,
      xLabel: 'false positive rate',
      yLabel: 'true positive rate',
      ...(at && { point: { x: at.fp / Math.max(1, at.fp + at.tn), y: at.recall, label } }),
    }),
    pr: curveChartSvg([{ name: 'PR', points: e.pr.map((p) => ({ x: p.recall, y: p.precision })) }], {
      title: `Precision–recall curve (AP ${Number.isFinite(e.prAuc) ? e.prAuc.toFixed(3) : 'n/a'})`,
      xLabel: 'recall',
      yLabel: 'precision',
      reference: { y: e.anomalies / Math.max(1, e.rows), label: 'anomaly rate' },
      ...(at && { point: { x: at.recall, y: at.precision, label } }),
    }),
  };
}

function parseKs(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const ks = String(text)
    .split(',')
    .map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !(Number.isInteger(k) && k >= 1)))
    throw new UserError('--k must be whole numbers ≥ 1 separated by commas, e.g. --k 10,100,500');
  return ks;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** The evaluation as lines for the terminal. */
export function formatEvaluation(e: ScoresEvaluation): string {
  const lines = [
    `matched ${e.matched} scored events to labels (${e.unlabelled} without a label, ${e.labelsUnused} labels without a score)`,
    `events / anomalies   ${e.rows} / ${e.anomalies}`,
    `ROC-AUC              ${fmt(e.rocAuc)}`,
    `PR-AUC (AP)          ${fmt(e.prAuc)}`,
  ];
  const at = e.atThreshold;
  if (at) {
    lines.push(
      `at threshold ${fmt(at.threshold)}: precision ${fmt(at.precision)}, recall ${fmt(at.recall)}, F1 ${fmt(at.f1)} (tp ${at.tp}, fp ${at.fp}, fn ${at.fn}, tn ${at.tn})`,
    );
  }
  for (const p of e.precisionAtK) {
    const over =
      p.rows > 0
        ? ` (${Math.round(p.precision * p.rows)} of ${p.rows}${p.rows > p.k ? `: ${p.rows - p.k} more tie with the ${p.k}th score` : ''})`
        : '';
    lines.push(`precision@${p.k}`.padEnd(21) + fmt(p.precision) + over);
  }
  if (e.scenarios.length > 0) {
    lines.push('per scenario         events  ROC-AUC  recall at the threshold');
    for (const x of e.scenarios) {
      lines.push(
        `  ${x.scenario.padEnd(19)}${String(x.events).padStart(6)}  ${fmt(x.rocAuc).padStart(7)}  ${x.recall === null ? 'n/a' : fmt(x.recall)}`,
      );
    }
  }
  for (const n of e.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export const evalScoresCommand: CommandModule<object, EvalScoresArgs> = {
  command: 'eval-scores <scores>',
  describe: 'Evaluate a scores file against labels: ROC-AUC, PR-AUC, precision/recall, precision@k, curves',
  builder: (y) =>
    y
      .positional('scores', {
        type: 'string',
        demandOption: true,
        describe: 'scores written by `score` (.jsonl, .csv, .parquet)',
      })
      .options({
        labels: {
          type: 'string',
          describe:
            'labels: {"uid": …, "is_anomaly": true|false} per event (.jsonl[.gz] or .parquet, as `generate` writes)',
        },
        out: { ...SHARED_OPTIONS.out, describe: 'write the evaluation (metrics and curve points) as JSON' },
        plots: { type: 'string', describe: 'folder for roc.svg and pr.svg' },
        threshold: { type: 'number', describe: "threshold for precision/recall (default: the file's)" },
        k: {
          type: 'string',
          describe: 'cut-offs for precision@k, e.g. 10,100 (default: 10, 100, #anomalies)',
        },
        quiet: SHARED_OPTIONS.quiet,
        json: {
          ...SHARED_OPTIONS.json,
          describe: 'print the metrics (without curve points) as one JSON object',
        },
      })
      .example('$0 eval-scores scores.jsonl --labels labels.jsonl --plots eval/', 'metrics + ROC/PR SVGs')
      .example('$0 eval-scores scores.parquet --labels events.labels.parquet --json', 'for scripts')
      .check((a) => {
        if (a.quiet && a.json) throw new UserError('--quiet and --json exclude each other: choose one');
        if (!a.labels)
          throw new UserError('give the labels with --labels, e.g. --labels events.labels.jsonl');
        if (a.threshold !== undefined && !Number.isFinite(a.threshold))
          throw new UserError('--threshold must be a number, e.g. --threshold 0.35');
        parseKs(a.k);
        if (a.plots && existsSync(a.plots) && !statSync(a.plots).isDirectory())
          throw new UserError(`--plots ${a.plots} is a file: give a folder, e.g. --plots eval/`);
        return true;
      }),
  handler: async (a) => {
    const file = await readScoresFile(a.scores);
    const { labels, scenarios } = await readLabelsFile(a.labels!);
    const e = evaluateScores(file, labels, {
      scenarios,
      threshold: a.threshold,
      ks: parseKs(a.k),
      scoresPath: a.scores,
      labelsPath: a.labels,
    });
    const say = (line: string) => {
      if (!a.quiet && !a.json) console.log(line);
    };
    say(formatEvaluation(e));
    if (a.json) {
      const { roc: _roc, pr: _pr, ...metrics } = e;
      console.log(JSON.stringify(metrics));
    }
    if (a.out) {
      writeFileSync(a.out, `${JSON.stringify(e, null, 2)}\n`);
      say(`wrote ${a.out}`);
    }
    if (a.plots) {
      mkdirSync(a.plots, { recursive: true });
      const charts = evaluationCharts(e);
      writeFileSync(join(a.plots, 'roc.svg'), charts.roc);
      writeFileSync(join(a.plots, 'pr.svg'), charts.pr);
      say(`wrote ${join(a.plots, 'roc.svg')} and ${join(a.plots, 'pr.svg')}`);
    }
  },
};
