// The events' own fields as vectors, for a k-NN in field space beside the one in embedding space: the
// encoder's stage-2 numbers (scaled numericals, then the missing indicators), then each categorical column
// one-hot when it has few ids, else its value's standardised −log frequency among the reference rows.
// Fitted on the reference's stage-1 features, plain JSON, portable.
import { encodeRaw, numNumericalFeatures } from '../features/encode.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import { type ReferenceFeatures, referenceRaw } from './explain.ts';

/** Categorical columns with at most this many ids (reserved ids included) are one-hot encoded. */
export const ONE_HOT_MAX_IDS = 32;

/** How the fields become a vector, fitted on the reference rows. */
export interface FieldSpace {
  /** Per categorical column: its id count when one-hot, 0 when it is a −log frequency. */
  oneHotIds: number[];
  /** Per categorical column that is not one-hot: `[id, reference rows holding it]` pairs, else empty. */
  counts: [number, number][][];
  /** Per categorical column that is not one-hot: mean and std of −log frequency over the reference rows. */
  logFrequency: { mean: number; std: number }[];
  /** Reference rows the frequencies were counted on. */
  rows: number;
  /** Vector width. */
  width: number;
}

function logFrequency(counts: Map<number, number>, rows: number, id: number): number {
  return -Math.log(((counts.get(id) ?? 0) + 1) / (rows + 1));
}

/** Fits the field space on the reference rows' stage-1 features. */
export function fitFieldSpace(spec: FittedSpec, reference: ReferenceFeatures): FieldSpace {
  const fc = spec.categorical.length;
  const rows = reference.rows;
  const oneHotIds = spec.categorical.map((c) => {
    const ids = c.vocabulary.length + 3;
    return ids <= ONE_HOT_MAX_IDS ? ids : 0;
  });
  const counts: [number, number][][] = [];
  const logFreq: { mean: number; std: number }[] = [];
  for (let j = 0; j < fc; j++) {
    if (oneHotIds[j]! > 0) {
      counts.push([]);
      logFreq.push({ mean: 0, std: 1 });
      continue;
    }
    const m = new Map<number, number>();
    for (let r = 0; r < rows; r++) {
      const id = reference.categorical[r * fc + j]!;
      m.set(id, (m.get(id) ?? 0) + 1);
    }
    let s = 0;
    let s2 = 0;
    for (let r = 0; r < rows; r++) {
      const v = logFrequency(m, rows, reference.categorical[r * fc + j]!);
      s += v;
      s2 += v * v;
    }
    const mean = rows > 0 ? s / rows : 0;
    const std = rows > 0 ? Math.sqrt(Math.max(s2 / rows - mean * mean, 0)) : 0;
    counts.push([...m].sort((a, b) => a[0] - b[0]));
    logFreq.push({ mean, std: std > 0 ? std : 1 });
  }
  const width = numNumericalFeatures(spec) + oneHotIds.reduce((a, k) => a + (k > 0 ? k : 1), 0);
  return { oneHotIds, counts, logFrequency: logFreq, rows, width };
}

/** Rows' field vectors [rows, space.width], scaled to unit length when `unit` (all-zero rows stay zero). */
function vectors(
  spec: FittedSpec,
  space: FieldSpace,
  rows: number,
  raw: (i: number) => RawFeatures,
  unit: boolean,
) {
  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const w = space.width;
  const maps = space.counts.map((c) => new Map(c));
  const out = new Float32Array(rows * w);
  const num = new Float32Array(fn);
  const cat = new Int32Array(fc);
  for (let i = 0; i < rows; i++) {
    encodeRaw(spec, raw(i), num, 0, cat, 0);
    const o = i * w;
    out.set(num, o);
    let p = o + fn;
    for (let j = 0; j < fc; j++) {
      const k = space.oneHotIds[j]!;
      if (k > 0) {
        out[p + Math.min(cat[j]!, k - 1)] = 1;
        p += k;
      } else {
        const { mean, std } = space.logFrequency[j]!;
        out[p++] = (logFrequency(maps[j]!, space.rows, cat[j]!) - mean) / std;
      }
    }
    let s = 0;
    for (let t = o; t < o + w; t++) s += out[t]! * out[t]!;
    if (unit && s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let t = o; t < o + w; t++) out[t]! *= inv;
    }
  }
  return out;
}

/** Field vectors of the reference rows, unit length unless `unit` is false. */
export function referenceVectors(
  spec: FittedSpec,
  space: FieldSpace,
  reference: ReferenceFeatures,
  unit = true,
): Float32Array {
  return vectors(spec, space, reference.rows, (i) => referenceRaw(spec, reference, i), unit);
}

/** Field vectors of query events' stage-1 features, unit length unless `unit` is false. */
export function queryVectors(
  spec: FittedSpec,
  space: FieldSpace,
  raws: readonly RawFeatures[],
  unit = true,
): Float32Array {
  return vectors(spec, space, raws.length, (i) => raws[i]!, unit);
}
