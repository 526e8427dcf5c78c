// Evaluation metrics for anomaly scores against labels: ROC-AUC, average precision (PR-AUC), metrics at a
// threshold, precision@k, and downsampled ROC and PR curve points. Higher score = more anomalous; label 1 = anomaly.

/** Labels per row: 1 (or true) for an anomaly, 0 (or false) for a normal row. */
export type Labels = ArrayLike<number | boolean>;

/** Counts and rates when rows scoring above a threshold are called anomalies. */
export interface ThresholdMetrics {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** tp / (tp + fp); NaN when nothing is called an anomaly. */
  precision: number;
  /** tp / (tp + fn); NaN when there are no anomalies. */
  recall: number;
  /** 2tp / (2tp + fp + fn); NaN when there are neither anomalies nor rows called anomalies. */
  f1: number;
}

/** One ROC curve point: rows with score >= threshold are called anomalies (the first point's threshold is +Infinity). */
export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number;
}

/** One precision–recall point: rows with score >= threshold are called anomalies. */
export interface PrPoint {
  recall: number;
  precision: number;
  threshold: number;
}

/** Everything `evaluate` measures, with a note for each value that is NaN and why. */
export interface Evaluation {
  rows: number;
  anomalies: number;
  rocAuc: number;
  prAuc: number;
  /** Present when a threshold was given. */
  atThreshold?: ThresholdMetrics;
  /** precision@k for each requested k, in increasing k. */
  precisionAtK: PrecisionAtK[];
  roc: RocPoint[];
  pr: PrPoint[];
  /** Why a value is NaN or a curve is empty (one line each); empty when all is defined. */
  notes: string[];
}

interface Sorted {
  /** Scores in descending order. */
  scores: Float64Array;
  /** Labels (0/1) in the same order. */
  labels: Uint8Array;
  positives: number;
}

function checkInputs(scores: ArrayLike<number>, labels: Labels): Uint8Array {
  if (scores.length !== labels.length) {
    throw new RangeError(`scores and labels differ in length: ${scores.length} vs ${labels.length}`);
  }
  const y = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l === 1 || l === true) y[i] = 1;
    else if (l !== 0 && l !== false)
      throw new RangeError(`label ${i} is ${String(l)}; labels must be 0/1 or booleans`);
    if (Number.isNaN(scores[i])) throw new RangeError(`score ${i} is NaN`);
  }
  return y;
}

function sortDescending(scores: ArrayLike<number>, labels: Labels): Sorted {
  const y = checkInputs(scores, labels);
  const order = Array.from({ length: y.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  const s = new Float64Array(order.length);
  const l = new Uint8Array(order.length);
  let positives = 0;
  order.forEach((o, i) => {
    s[i] = scores[o]!;
    l[i] = y[o]!;
    positives += y[o]!;
  });
  return { scores: s, labels: l, positives };
}

/**
 * Why ROC-AUC and average precision are undefined for these labels (no rows, no anomalies, or no normal
 * rows: ROC-AUC needs both), or undefined when both classes are present.
 */
export function labelProblem(labels: Labels): string | undefined {
  const n = labels.length;
  let p = 0;
  for (let i = 0; i < n; i++) if (labels[i] === 1 || labels[i] === true) p++;
  if (n === 0) return 'no rows: ROC-AUC and PR-AUC are undefined';
  if (p === 0) return `no anomalies among the ${n} labels: ROC-AUC and PR-AUC are undefined`;
  if (p === n) return `every one of the ${n} labels is an anomaly: ROC-AUC is undefined (PR-AUC is 1)`;
  return undefined;
}

/** Walks distinct scores from the highest down, calling `step` with cumulative tp, fp after each group. */
function sweep(sorted: Sorted, step: (tp: number, fp: number, threshold: number) => void): void {
  const { scores, labels } = sorted;
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < scores.length; ) {
    const t = scores[i]!;
    while (i < scores.length && scores[i] === t) {
      if (labels[i]) tp++;
      else fp++;
      i++;
    }
    step(tp, fp, t);
  }
}

/**
 * Area under the ROC curve: the probability that a random anomaly scores above a random normal row, ties
 * counting one half (Mann–Whitney U with average ranks). NaN when either class is missing (`labelProblem`).
 */
export function rocAuc(scores: ArrayLike<number>, labels: Labels): number {
  const sorted = sortDescending(scores, labels);
  const n = sorted.scores.length;
  const p = sorted.positives;
  if (p === 0 || p === n) return Number.NaN;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    let pos = 0;
    while (j < n && sorted.scores[j] === sorted.scores[i]) pos += sorted.labels[j++]!;
    const averageAscendingRank = n - (i + j - 1) / 2;
    rankSum += pos * averageAscendingRank;
    i = j;
  }
  return (rankSum - (p * (p + 1)) / 2) / (p * (n - p));
}

/**
 * Average precision, the step-wise area under the precision–recall curve as scikit-learn's
 * `average_precision_score` computes it: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct score thresholds, tied scores
 * entering together. NaN when there are no anomalies (`labelProblem`); 1 when every row is one.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: Labels): number {
  const sorted = sortDescending(scores, labels);
  const p = sorted.positives;
  if (p === 0) return Number.NaN;
  let ap = 0;
  let lastRecall = 0;
  sweep(sorted, (tp, fp) => {
    const recall = tp / p;
    ap += (recall - lastRecall) * (tp / (tp + fp));
    lastRecall = recall;
  });
  return ap;
}

/** PR-AUC: the same as `averagePrecision` (step-wise, no interpolation). */
export const prAuc = averagePrecision;

/** Precision, recall and F1 when rows with score > threshold are called anomalies (the scorer's rule). */
export function metricsAtThreshold(
  scores: ArrayLike<number>,
  labels: Labels,
  threshold: number,
): ThresholdMetrics {
  const y = checkInputs(scores, labels);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    const called = scores[i]! > threshold;
    if (y[i]) called ? tp++ : fn++;
    else called ? fp++ : tn++;
  }
  return {
    threshold,
    tp,
    fp,
    tn,
    fn,
    precision: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    recall: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    f1: 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : Number.NaN,
  };
}

/** precision@k and the rows it was measured over. */
export interface PrecisionAtK {
  k: number;
  /** Anomalies among the `rows` highest-scoring rows; NaN for k < 1 or no rows. */
  precision: number;
  /**
   * The rows counted: k, or more when rows tie with the k-th score (all of a tie group at the cut are in,
   * so the value is a real count over real rows); capped at the row count.
   */
  rows: number;
}

/**
 * Anomalies among the k highest-scoring rows. A tie group that straddles the k-th place is counted
 * whole, so the value is hits / rows over the rows whose score is at least the k-th highest
 * (docs/decisions.md, "precision@k with ties"). k is capped at the row count.
 */
export function precisionAtKRows(scores: ArrayLike<number>, labels: Labels, k: number): PrecisionAtK {
  const sorted = sortDescending(scores, labels);
  const n = sorted.scores.length;
  const kk = Math.min(Math.floor(k), n);
  if (!(kk >= 1)) return { k, precision: Number.NaN, rows: 0 };
  const cut = sorted.scores[kk - 1]!;
  let rows = kk;
  while (rows < n && sorted.scores[rows] === cut) rows++;
  let hits = 0;
  for (let i = 0; i < rows; i++) hits += sorted.labels[i]!;
  return { k, precision: hits / rows, rows };
}

/** The precision of {@link precisionAtKRows}. */
export function precisionAtK(scores: ArrayLike<number>, labels: Labels, k: number): number {
  return precisionAtKRows(scores, labels, k).precision;
}

function downsample<T>(points: T[], maxPoints: number): T[] {
  const m = Math.max(2, Math.floor(maxPoints));
  if (points.length <= m) return points;
  const out: T[] = [];
  for (let i = 0; i < m; i++) out.push(points[Math.round((i * (points.length - 1)) / (m - 1))]!);
  return out;
}

/**
 * ROC curve points from (0, 0) to (1, 1), one per distinct score, collinear points dropped, then evenly
 * downsampled to at most `maxPoints` (default 200, endpoints kept). Empty when either class is missing.
 */
export function rocCurve(scores: ArrayLike<number>, labels: Labels, maxPoints = 200): RocPoint[] {
  const sorted = sortDescending(scores, labels);
  const p = sorted.positives;
  const neg = sorted.scores.length - p;
  if (p === 0 || neg === 0) return [];
  const all: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Number.POSITIVE_INFINITY }];
  sweep(sorted, (tp, fp, threshold) => all.push({ fpr: fp / neg, tpr: tp / p, threshold }));
  const kept = all.filter((pt, i) => {
    if (i === 0 || i === all.length - 1) return true;
    const prev = all[i - 1]!;
    const next = all[i + 1]!;
    return !((prev.fpr === pt.fpr && pt.fpr === next.fpr) || (prev.tpr === pt.tpr && pt.tpr === next.tpr));
  });
  return downsample(kept, maxPoints);
}

/**
 * Precision–recall points in order of decreasing threshold, one per distinct score, starting from
 * (recall 0, precision 1) at threshold +Infinity as scikit-learn does, evenly downsampled to at most
 * `maxPoints` (default 200, endpoints kept). Empty when there are no anomalies.
 */
export function prCurve(scores: ArrayLike<number>, labels: Labels, maxPoints = 200): PrPoint[] {
  const sorted = sortDescending(scores, labels);
  const p = sorted.positives;
  if (p === 0) return [];
  const all: PrPoint[] = [{ recall: 0, precision: 1, threshold: Number.POSITIVE_INFINITY }];
  sweep(sorted, (tp, fp, threshold) => all.push({ recall: tp / p, precision: tp / (tp + fp), threshold }));
  return downsample(all, maxPoints);
}

/** Options for `evaluate`. */
export interface EvaluateOptions {
  /** A threshold to report precision/recall/F1 at (rows with score > threshold are anomalies). */
  threshold?: number;
  /** Cut-offs for precision@k (default: 10, 100, and the number of anomalies). */
  ks?: number[];
  /** Curve points at most (default 200). */
  maxPoints?: number;
}

/** All metrics at once, with one-line notes explaining every NaN or empty curve. */
export function evaluate(
  scores: ArrayLike<number>,
  labels: Labels,
  options: EvaluateOptions = {},
): Evaluation {
  const y = checkInputs(scores, labels);
  const anomalies = y.reduce((a, v) => a + v, 0);
  const notes: string[] = [];
  const problem = labelProblem(y);
  if (problem) notes.push(problem);
  const ks = [...new Set(options.ks ?? [10, 100, ...(anomalies > 0 ? [anomalies] : [])])].sort(
    (a, b) => a - b,
  );
  const result: Evaluation = {
    rows: y.length,
    anomalies,
    rocAuc: rocAuc(scores, y),
    prAuc: averagePrecision(scores, y),
    precisionAtK: ks.map((k) => precisionAtKRows(scores, y, k)),
    roc: rocCurve(scores, y, options.maxPoints),
    pr: prCurve(scores, y, options.maxPoints),
    notes,
  };
  if (options.threshold !== undefined) {
    const at = metricsAtThreshold(scores, y, options.threshold);
    result.atThreshold = at;
    if (Number.isNaN(at.precision))
      notes.push(`no row scores above the threshold ${at.threshold}: precision is undefined`);
    if (Number.isNaN(at.recall))
      notes.push('no anomalies among the labels: recall at the threshold is undefined');
  }
  return result;
}

/** One anomaly scenario's figures. */
export interface ScenarioMetrics {
  scenario: string;
  /** The scenario's anomalies among the rows. */
  events: number;
  /** ROC-AUC of the scenario's anomalies against every normal row (other scenarios left out). */
  rocAuc: number;
  /** Share of the scenario's anomalies that were flagged; null when no flags were given. */
  recall: number | null;
}

/**
 * Figures per anomaly scenario, in scenario-name order: `scenarioOf[i]` names row i's scenario
 * (undefined for normal rows and unnamed anomalies); `flagged[i]` says whether row i was called an
 * anomaly (for example score > threshold), for the recall.
 */
export function scenarioMetrics(
  scores: ArrayLike<number>,
  labels: Labels,
  scenarioOf: ArrayLike<string | undefined>,
  flagged?: ArrayLike<boolean | number>,
): ScenarioMetrics[] {
  const y = checkInputs(scores, labels);
  const names = new Set<string>();
  for (let i = 0; i < scenarioOf.length; i++)
    if (y[i] && scenarioOf[i] !== undefined) names.add(scenarioOf[i]!);
  return [...names].sort().map((scenario) => {
    const rows: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === 0 || scenarioOf[i] === scenario) rows.push(i);
    const members = rows.filter((i) => y[i] === 1);
    return {
      scenario,
      events: members.length,
      rocAuc: rocAuc(
        rows.map((i) => scores[i]!),
        rows.map((i) => y[i]!),
      ),
      recall: flagged === undefined ? null : members.filter((i) => flagged[i]).length / members.length,
    };
  });
}
