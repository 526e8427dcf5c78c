// The `conditional` scoring method: an event scored against its own kind and its own fields — the rank of
// its field surprise (how unusual its most unusual field is among its 20 nearest reference events in
// embedding space), of its k-NN distance in field space (its own fields against the reference events')
// and, with the run's reconstruction model, of its summed reconstruction surprise (`../reconstruction.ts`),
// each among the reference rows' own, combined by Fisher's method over two pieces of evidence: how far the
// event's fields lie from the reference events' (field-space k-NN), and how unexpected its field values
// are in their context (field surprise and reconstruction surprise, averaged). Scorers saved before: the
// three parts summed alike (`fisher`), or the highest rank, the embedding k-NN rank included (`max`).
// Needs the events' fields.
import type { FittedSpec, RawFeatures } from '../../features/types.ts';
import { neighbourSurprise, type ReferenceFeatures, referenceRaw } from '../explain.ts';
import { type FieldSpace, fitFieldSpace, queryVectors, referenceVectors } from '../field-space.ts';
import { fitReconstruction, reconstructionScores } from '../reconstruction.ts';
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
import {
  CONTEXT,
  type FieldContext,
  type FittedScorer,
  type ScorerOptions,
  type ScoringMethodDef,
} from './types.ts';

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

/** A part's scores ranked among its reference scores (sorted). */
function ranked(part: { scores: Float32Array; sorted: Float64Array }): Float32Array {
  return Float32Array.from(part.scores, (x) => ecdfRank(part.sorted, x));
}

/** Each row's highest rank over the parts' ranks (`combine: 'max'`). */
function highest(ranks: readonly Float32Array[]): Float32Array {
  return Float32Array.from(ranks[0]!, (_, i) => {
    let best = Number.NEGATIVE_INFINITY;
    for (const r of ranks) best = Math.max(best, r[i]!);
    return best;
  });
}

/**
 * Each row's summed tail surprise over groups of parts (Fisher's method): a part's tail surprise is −log
 * of the share of reference rows that rank above it (at least half a row of `n`), plus how far it lies
 * beyond all of them, in reference ranges; a group's is the mean over its parts (parts that measure the
 * same thing count once); the groups' are summed.
 */
function tailSums(groups: readonly (readonly Float32Array[])[], n: number): Float32Array {
  const floor = 1 / (2 * n);
  const tail = (x: number) => -Math.log(Math.max(1 - x, floor)) + Math.max(x - 1, 0);
  return Float32Array.from(groups[0]![0]!, (_, i) => {
    let sum = 0;
    for (const group of groups) {
      let g = 0;
      for (const r of group) g += tail(r[i]!);
      sum += g / group.length;
    }
    return sum;
  });
}

/** The parts a `conditional` scorer combines, by name, each a rank among the reference rows' own. */
type PartRanks = Partial<Record<'knn' | 'fieldSurprise' | 'fieldKnn' | 'reconstruction', Float32Array>>;

/**
 * The groups Fisher's method sums: `grouped` (the default) counts the field-space distance once and the
 * two measures of unexpected field values (field surprise, reconstruction surprise) once together;
 * `fisher` (scorers saved before `grouped`) counts the three parts alike.
 */
function fisherGroups(parts: PartRanks, how: 'grouped' | 'fisher'): Float32Array[][] {
  const present = (rs: (Float32Array | undefined)[]) => rs.filter((r) => r !== undefined);
  if (how === 'fisher')
    return present([parts.fieldSurprise, parts.fieldKnn, parts.reconstruction]).map((r) => [r]);
  return [present([parts.fieldKnn]), present([parts.fieldSurprise, parts.reconstruction])].filter(
    (g) => g.length > 0,
  );
}

/**
 * The combined score of rows from their parts' ranks. `max` (scorers saved before Fisher's method): the
 * highest rank over every part. `grouped` and `fisher`: the rank, among the reference rows' own sums
 * (`sortedSums`; the rows' own sums when omitted), of the tail-surprise sum over the parts that read the
 * events' fields (docs/scoring.md: the embedding k-NN distance part ranked worse on later windows).
 */
function combine(
  parts: PartRanks,
  how: ScorerOptions['combine'],
  n: number,
  sortedSums?: Float64Array,
): Float32Array {
  if (how !== 'fisher' && how !== 'grouped') {
    return highest(
      [parts.knn, parts.fieldSurprise, parts.fieldKnn, parts.reconstruction].filter((r) => r !== undefined),
    );
  }
  const sums = tailSums(fisherGroups(parts, how), n);
  return ranked({ scores: sums, sorted: sortedSums ?? sortedOf(sums) });
}

const referenceSums = new WeakMap<FittedScorer, Float64Array>();

/** The reference rows' own tail-surprise sums, sorted, from the per-part reference scores a fitted scorer keeps. */
function sortedReferenceSums(s: FittedScorer): Float64Array {
  let sorted = referenceSums.get(s);
  if (!sorted) {
    const own = (scores: Float32Array | undefined) => scores && ranked({ scores, sorted: sortedOf(scores) });
    const parts: PartRanks = {
      fieldSurprise: own(s.fieldSurprise),
      fieldKnn: own(s.fieldKnn),
      reconstruction: own(s.reconstructionScores),
    };
    sorted = sortedOf(
      tailSums(fisherGroups(parts, s.options.combine === 'fisher' ? 'fisher' : 'grouped'), s.n),
    );
    referenceSums.set(s, sorted);
  }
  return sorted;
}

const fieldVectorCache = new WeakMap<ReferenceFeatures, { space: FieldSpace; vectors: Float32Array }>();

/** The reference rows' field vectors under `space` (kept per reference while it is in use). */
function referenceFieldVectors(spec: FittedSpec, space: FieldSpace, reference: ReferenceFeatures) {
  const cached = fieldVectorCache.get(reference);
  if (cached?.space === space) return cached.vectors;
  const vectors = referenceVectors(spec, space, reference);
  fieldVectorCache.set(reference, { space, vectors });
  return vectors;
}

/** Scores an event against its own kind and its own fields: the parts' ranks combined as `options.combine` says. */
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
    const fieldSpace = fitFieldSpace(f.spec, f.reference);
    const vectors = referenceFieldVectors(f.spec, fieldSpace, f.reference);
    const fieldSearch = await searchOnce(vectors, vectors, fieldSpace.width, k, true, options, runtime);
    const fieldKnn = meanDistances(fieldSearch, k, n);
    const surprise = f.reconstruction?.reference;
    const reconstruction = surprise && fitReconstruction(f.spec, surprise, n);
    const own = (scores: Float32Array) => ranked({ scores, sorted: sortedOf(scores) });
    const parts: PartRanks = {
      knn: ranked({ scores: base.referenceScores, sorted: sortedScores(fitted) }),
      fieldSurprise: own(fieldSurprise),
      fieldKnn: own(fieldKnn),
      reconstruction: reconstruction ? own(reconstruction.scores) : undefined,
    };
    const referenceScores = combine(parts, options.combine, n);
    return {
      method: 'conditional',
      options,
      n,
      d,
      k: 0,
      referenceScores,
      components: [fitted],
      fieldSurprise,
      fieldSpace,
      fieldKnn,
      ...(reconstruction && {
        reconstructionScale: reconstruction.scale,
        reconstructionScores: reconstruction.scores,
      }),
    };
  },
  async score(s, { ref, qs, q, d, excludeSelf, runtime, fields }) {
    const f = checkFields(fields, s.n, q);
    const fisher = s.options.combine !== 'max';
    const reconstructed = excludeSelf ? f.reconstruction?.reference : f.reconstruction?.queries;
    if (s.reconstructionScale && !reconstructed) {
      throw new RangeError(
        "this scorer ranks reconstruction surprise: give the events' surprise from the run's reconstruction model",
      );
    }
    const base = s.components![0]!;
    const search = await searchOnce(ref, qs, d, Math.max(base.k, CONTEXT), excludeSelf, s.options, runtime);
    const context = firstNeighbours(search.indices, search.k, q);
    const surprise = surprises(f, f.queries!, context);
    const parts: PartRanks = {
      // The embedding k-NN rank counts only in the highest-rank combination of scorers saved before.
      knn: fisher
        ? undefined
        : ranked({ scores: meanDistances(search, base.k, q), sorted: sortedScores(base) }),
      fieldSurprise: ranked({ scores: surprise, sorted: sortedOf(s.fieldSurprise!) }),
    };
    if (s.fieldSpace && s.fieldKnn) {
      // Scorers saved before the field-space part have neither and combine the other two.
      const vectors = referenceFieldVectors(f.spec, s.fieldSpace, f.reference);
      const queries = excludeSelf ? vectors : queryVectors(f.spec, s.fieldSpace, f.queries!);
      const width = s.fieldSpace.width;
      const k = Math.max(base.k, CONTEXT);
      const fieldSearch = await searchOnce(vectors, queries, width, k, excludeSelf, s.options, runtime);
      const fieldRank = ranked({
        scores: meanDistances(fieldSearch, base.k, q),
        sorted: sortedOf(s.fieldKnn),
      });
      // Where the field-space rank is above the embedding-side ranks, the event is explained against (and
      // shown with) its nearest events in field space when a field stands out more strongly among those
      // than among its embedding neighbours (a combination of common values; not a numeric extreme, whose
      // nearest events in field space share it).
      const fieldContext = firstNeighbours(fieldSearch.indices, fieldSearch.k, q);
      const other = fisher ? parts.fieldSurprise! : highest([parts.knn!, parts.fieldSurprise!]);
      for (let i = 0; i < q; i++) {
        if (!(fieldRank[i]! > other[i]!)) continue;
        const near = fieldContext.subarray(i * CONTEXT, (i + 1) * CONTEXT);
        const strength = neighbourSurprise(f.spec, f.queries![i]!, f.reference, near, SURPRISE_FIELDS);
        if (strength > surprise[i]!) context.set(near, i * CONTEXT);
      }
      parts.fieldKnn = fieldRank;
    }
    if (s.reconstructionScale && s.reconstructionScores) {
      const scores = reconstructionScores(f.spec, s.reconstructionScale, reconstructed!, q);
      parts.reconstruction = ranked({ scores, sorted: sortedOf(s.reconstructionScores) });
    }
    const sums = fisher ? sortedReferenceSums(s) : undefined;
    return { scores: combine(parts, s.options.combine, s.n, sums), neighbours: context };
  },
};
