// The `iforest` scoring method: an isolation forest on the embeddings (100 trees of 256 rows, seeded);
// a burst is isolated as a whole.
import { fitIsolationForest, isolationScores } from '../iforest.ts';
import { methodOptions } from './shared.ts';
import type { ScoringMethodDef } from './types.ts';

/** Isolation forest: score 2^(−E[h]/c(256)). */
export const iforest: ScoringMethodDef = {
  name: 'iforest',
  meanDistance: false,
  neighbours: () => 0,
  async fit({ ref, n, d, options }) {
    const forest = fitIsolationForest(ref, d, {
      trees: options.trees,
      sampleSize: options.sampleSize,
      seed: options.seed,
    });
    const resolved = methodOptions('iforest', options, true);
    return {
      method: 'iforest',
      options: resolved,
      n,
      d,
      k: 0,
      forest,
      referenceScores: isolationScores(forest, ref, d),
    };
  },
  async score(s, { qs }) {
    return { scores: isolationScores(s.forest!, qs, s.d) };
  },
};
