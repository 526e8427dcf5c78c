// The reconstruction part of `conditional` scoring: an event's per-field surprise under the MFP heads
// (reconstruction.onnx of its run: each field predicted from the event's other fields) summed into one
// negative log-likelihood. Categorical fields give −log p of their value; numerical ones half their
// squared error, divided by the reference events' mean squared error of that field (a Gaussian with the
// field's own residual variance, floored), so that a field the model predicts well weighs more.
import { indicatorColumns, numNumericalFeatures } from '../features/encode.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import { type FieldReason, numericValueText } from './explain.ts';

/** The least residual variance a numerical field is given (in scaled units²): a tenth of its spread, squared. */
export const MIN_RESIDUAL_VARIANCE = 0.01;

/** What the scorer keeps of the reference events' reconstruction. */
export interface ReconstructionFit {
  /** Per surprise column: the factor its surprise is multiplied by before the sum. */
  scale: number[];
  /** Each reference event's summed surprise. */
  scores: Float32Array;
}

/** Checks that `surprise` holds `rows` rows of the spec's surprise columns; its width. */
export function surpriseWidth(spec: FittedSpec, surprise: Float32Array, rows: number): number {
  const width = numNumericalFeatures(spec) + spec.categorical.length;
  if (surprise.length !== rows * width) {
    throw new RangeError(
      `reconstruction surprise holds ${surprise.length} values; ${rows} events of ${width} fields need ${rows * width}`,
    );
  }
  return width;
}

/** The column scales fitted on the reference events' surprise [n, columns], and their summed scores. */
export function fitReconstruction(spec: FittedSpec, surprise: Float32Array, n: number): ReconstructionFit {
  const width = surpriseWidth(spec, surprise, n);
  const numerical = numNumericalFeatures(spec);
  const mean = new Float64Array(width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) mean[j]! += surprise[i * width + j]!;
  const scale = Array.from(mean, (total, j) =>
    // 0.5·err² / σ², σ² = the mean of err² = 2 · the mean of 0.5·err².
    j < numerical ? 1 / Math.max((2 * total) / Math.max(1, n), MIN_RESIDUAL_VARIANCE) : 1,
  );
  return { scale, scores: reconstructionScores(spec, scale, surprise, n) };
}

/** Each event's summed, scaled surprise; rows [rows, columns]. */
export function reconstructionScores(
  spec: FittedSpec,
  scale: readonly number[],
  surprise: Float32Array,
  rows: number,
): Float32Array {
  const width = surpriseWidth(spec, surprise, rows);
  if (scale.length !== width) {
    throw new RangeError(
      `the scorer's reconstruction has ${scale.length} fields; these events have ${width}`,
    );
  }
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let total = 0;
    for (let j = 0; j < width; j++) total += surprise[i * width + j]! * scale[j]!;
    out[i] = total;
  }
  return out;
}

/** The least scaled surprise (nats) a field needs to be named as unexpected given the event's other fields. */
export const MIN_REASON_SURPRISE = 6;

/**
 * The field the reconstruction finds most unexpected in one event, as an explanation — e.g.
 * `http_request.http_method GET (unexpected given its other fields, surprise 9.1)` — or null when no
 * field reaches {@link MIN_REASON_SURPRISE}. `surprise` is the event's row of per-column surprise.
 */
export function reconstructionReason(
  spec: FittedSpec,
  scale: readonly number[],
  surprise: ArrayLike<number>,
  raw: RawFeatures,
): FieldReason | null {
  let best = -1;
  let strength = MIN_REASON_SURPRISE;
  for (let j = 0; j < scale.length; j++) {
    const x = surprise[j]! * scale[j]!;
    if (x >= strength) {
      strength = x;
      best = j;
    }
  }
  if (best < 0) return null;
  const fn = spec.numerical.length;
  const indicators = indicatorColumns(spec);
  const numerical = fn + indicators.length;
  // A numerical column, its is-missing indicator, or a categorical column.
  const j = best < fn ? best : best < numerical ? indicators[best - fn]! : -1;
  const field = j >= 0 ? spec.numerical[j]!.name : spec.categorical[best - numerical]!.name;
  const value =
    j >= 0
      ? Number.isNaN(raw.num[j]!)
        ? '(missing)'
        : numericValueText(spec, raw, j)
      : (raw.cat[best - numerical] ?? '(missing)');
  return {
    field,
    value,
    reason: `unexpected given its other fields, surprise ${strength.toFixed(1)}`,
    strength,
  };
}
