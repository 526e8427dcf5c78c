// The `conditional` scoring method: an event scored against its own kind — the higher of its k-NN rank
// and the rank of its field surprise (how unusual its most unusual field is among its 20 nearest reference
// events), each rank among the reference rows' own. Needs the events' fields.
import type { RawFeatures } from '../../features/types.ts';
import { neighbourSurprise, referenceRaw } from '../explain.ts';
import { ecdfRank, percentile } from '../threshold.ts';
import { knn } from './knn.ts';
import {
  effectiveK,
  firstNeighbours,
  meanDistances,
  methodOptions,
  searchOnce,
  sortedOf,
  sortedScores,
} from './shared.ts';
import { CONTEXT, type FieldContext, type FittedScorer, type ScoringMethodDef } from './types.ts';

/** Fields that count towards the field surprise (its strongest one; docs/scoring.md). */
export const SURPRISE_FIELDS = 1;

/** The fields, checked against the reference (and the queries when scoring). */
export function checkFields(fields: FieldContext | undefined, n: number, q: number | null): FieldContext {
  if (!fields) throw new RangeError("conditional scoring needs the events' fields (a FieldContext)");
  if (fields.reference.rows !== n) {
    throw new RangeError(`the reference features hold ${fields.reference.rows} rows; the reference has ${n}`);
  }
  if (q !== null && fields.queries?.length !== q) {
    throw new RangeError(
      `conditional scoring needs the ${q} queries' features, got ${fields.queries?.length ?? 0}`,
    );
  }
  return fields;
}

function surprises(f: FieldContext, raws: readonly RawFeatures[], context: Int32Array): Float32Array {
  return Float32Array.from(raws, (raw, i) =>
    neighbourSurprise(
      f.spec,
      raw,
      f.reference,
      context.subarray(i * CONTEXT, (i + 1) * CONTEXT),
      SURPRISE_FIELDS,
    ),
  );
}

function combined(
  knnScores: Float32Array,
  surprise: Float32Array,
  base: FittedScorer,
  sortedSurprise: Float64Array,
) {
  const sortedKnn = sortedScores(base);
  return Float32Array.from(knnScores, (x, i) =>
    Math.max(ecdfRank(sortedKnn, x), ecdfRank(sortedSurprise, surprise[i]!)),
  );
}

/** k-NN rank or field-surprise rank, whichever is higher. */
export const conditional: ScoringMethodDef = {
  name: 'conditional',
  meanDistance: false,
  neighbours: () => 0,
  async fit({ ref, n, d, options, runtime, fields }) {
    const f = checkFields(fields, n, null);
    const knnOptions = methodOptions('knn', options, true);
    const k = effectiveK(knnOptions, n);
    const search = await searchOnce(ref, ref, d, Math.max(k, CONTEXT), true, options, runtime);
    const base = await knn.fit({ ref, n, d, options: knnOptions, runtime, search });
    const fitted: FittedScorer = {
      ...base,
      threshold: percentile(base.referenceScores, options.thresholdPercentile),
    };
    const raws = Array.from({ length: n }, (_, i) => referenceRaw(f.spec, f.reference, i));
    const fieldSurprise = surprises(f, raws, firstNeighbours(search.indices, search.k, n));
    const referenceScores = combined(base.referenceScores, fieldSurprise, fitted, sortedOf(fieldSurprise));
    return {
      method: 'conditional',
      options,
      n,
      d,
      k: 0,
      referenceScores,
      components: [fitted],
      fieldSurprise,
    };
  },
  async score(s, { ref, qs, q, d, excludeSelf, runtime, fields }) {
    const f = checkFields(fields, s.n, q);
    const base = s.components![0]!;
    const search = await searchOnce(ref, qs, d, Math.max(base.k, CONTEXT), excludeSelf, s.options, runtime);
    const context = firstNeighbours(search.indices, search.k, q);
    const surprise = surprises(f, f.queries!, context);
    const knnScores = meanDistances(search, base.k, q);
    return { scores: combined(knnScores, surprise, base, sortedOf(s.fieldSurprise!)), neighbours: context };
  },
};
