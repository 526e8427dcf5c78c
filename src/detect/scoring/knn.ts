// The k-NN scoring methods: `knn` (mean cosine distance to the k nearest reference rows) and
// `knn-relative` (the same with k = max(k, ⌈kFraction·n⌉), so groups smaller than k cannot be each
// other's only neighbours).
import { knnScore } from '../knn.ts';
import { effectiveK, firstNeighbours, meanDistances, methodOptions } from './shared.ts';
import { CONTEXT, type ScoringMethod, type ScoringMethodDef } from './types.ts';

function knnMethod(name: Extract<ScoringMethod, 'knn' | 'knn-relative'>): ScoringMethodDef {
  return {
    name,
    meanDistance: true,
    neighbours: (options, n) => effectiveK(methodOptions(name, options), n),
    async fit({ ref, n, d, options, runtime, search }) {
      const resolved = methodOptions(name, options);
      const k = effectiveK(resolved, n);
      const referenceScores = search
        ? meanDistances(search, k, n)
        : (
            await knnScore(
              ref,
              ref,
              d,
              {
                k,
                normalized: true,
                excludeSelf: true,
                explain: 0,
                queryChunk: options.queryChunk,
                referenceChunk: options.referenceChunk,
              },
              runtime,
            )
          ).scores;
      return { method: name, options: resolved, n, d, k, referenceScores };
    },
    async score(s, { ref, qs, q, d, excludeSelf, runtime, search }) {
      if (search) return { scores: meanDistances(search, s.k, q) };
      const r = await knnScore(
        ref,
        qs,
        d,
        {
          k: s.k,
          normalized: true,
          excludeSelf,
          explain: CONTEXT,
          queryChunk: s.options.queryChunk,
          referenceChunk: s.options.referenceChunk,
        },
        runtime,
      );
      return { scores: r.scores, neighbours: firstNeighbours(r.neighbours, r.explain, q) };
    },
  };
}

/** Mean cosine distance to the k nearest reference rows (k = 20). */
export const knn = knnMethod('knn');

/** Mean cosine distance to the max(k, ⌈kFraction·n⌉) nearest reference rows (kFraction 3 %). */
export const knnRelative = knnMethod('knn-relative');
