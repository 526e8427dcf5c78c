// The `ensemble` scoring method: each member's score mapped to its rank among that member's own reference
// scores, combined by `max` (default) or `mean`. Members whose scores are mean k-NN distances share one
// search with the largest k (the mean of the first k distances is each member's score).
import { ecdfRank, percentile } from '../threshold.ts';
import { METHODS } from './registry.ts';
import { firstNeighbours, methodOptions, searchOnce, sortedScores } from './shared.ts';
import type {
  ComponentMethod,
  FittedScorer,
  ResolvedScorerOptions,
  Scored,
  ScoringMethodDef,
  SharedSearch,
} from './types.ts';

function combineRanks(
  parts: { sorted: Float64Array; scores: Float32Array }[],
  q: number,
  combine: 'mean' | 'max' | 'fisher' | 'grouped',
): Float32Array {
  const out = new Float32Array(q).fill(combine === 'max' ? Number.NEGATIVE_INFINITY : 0);
  for (const { sorted, scores } of parts) {
    for (let i = 0; i < q; i++) {
      const r = ecdfRank(sorted, scores[i]!);
      out[i] = combine === 'max' ? Math.max(out[i]!, r) : out[i]! + r / parts.length;
    }
  }
  return out;
}

/** Whether every member is a mean k-NN distance, so one search serves them all. */
function sharedSearchK(
  members: readonly ComponentMethod[],
  options: ResolvedScorerOptions,
  n: number,
): number {
  if (!members.every((m) => METHODS[m].meanDistance)) return 0;
  return Math.max(...members.map((m) => METHODS[m].neighbours(methodOptions(m, options, true), n)));
}

/** Rank ensemble of `components` (default `knn` and `knn-relative`, combined by `max`). */
export const ensemble: ScoringMethodDef = {
  name: 'ensemble',
  meanDistance: false,
  neighbours: () => 0,
  async fit(ctx) {
    const { ref, n, d, options, runtime } = ctx;
    const members = options.components;
    const k = sharedSearchK(members, options, n);
    const search = k > 0 ? await searchOnce(ref, ref, d, k, true, options, runtime) : undefined;
    const components: FittedScorer[] = [];
    for (const c of members) {
      const part = await METHODS[c].fit({ ...ctx, options: methodOptions(c, options, true), search });
      components.push({ ...part, threshold: percentile(part.referenceScores, options.thresholdPercentile) });
    }
    const referenceScores = combineRanks(
      components.map((c) => ({ sorted: sortedScores(c), scores: c.referenceScores })),
      n,
      options.combine,
    );
    return { method: 'ensemble', options, n, d, k: 0, referenceScores, components };
  },
  async score(s, ctx) {
    const members = s.components!;
    const methods = members.map((c) => c.method as ComponentMethod);
    let search: SharedSearch | undefined;
    let neighbours: Int32Array | undefined;
    if (methods.every((m) => METHODS[m].meanDistance)) {
      const k = Math.max(...members.map((c) => c.k));
      search = await searchOnce(ctx.ref, ctx.qs, ctx.d, k, ctx.excludeSelf, s.options, ctx.runtime);
      neighbours = firstNeighbours(search.indices, search.k, ctx.q);
    }
    const parts = [];
    for (const c of members) {
      const part: Scored = await METHODS[c.method].score(c, { ...ctx, search });
      neighbours ??= part.neighbours;
      parts.push({ sorted: sortedScores(c), scores: part.scores });
    }
    return { scores: combineRanks(parts, ctx.q, s.options.combine), neighbours };
  },
};
