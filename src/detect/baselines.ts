// Raw-feature baselines: an isolation forest and a k-NN on the events' own encoded fields (the field space,
// no model), fitted on the reference events and scoring the same events as the run, so that every
// detection figure is read beside what the raw fields alone reach.
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import type { ReferenceFeatures } from './explain.ts';
import { fitFieldSpace, queryVectors, referenceVectors } from './field-space.ts';
import type { KnnRuntime } from './knn.ts';
import { fitScorer, type ScoreResult, score } from './scorer.ts';

/** The baselines: `knn` (k = 20, cosine, on the field vectors) and `iforest` (100 trees, 256 rows). */
export type BaselineMethod = 'knn' | 'iforest';

/** How the baselines are named in tables and reports. */
export const BASELINE_NAMES: Record<BaselineMethod, string> = {
  knn: 'raw k-NN (k = 20)',
  iforest: 'raw isolation forest',
};

/**
 * Scores `queries` with a raw-feature baseline fitted on the reference events' stage-1 features; the
 * threshold is the scorer's default percentile of the reference rows' own scores, as for the run.
 */
export async function scoreRawBaseline(
  method: BaselineMethod,
  spec: FittedSpec,
  reference: ReferenceFeatures,
  queries: readonly RawFeatures[],
  runtime: KnnRuntime,
  seed = 0,
): Promise<ScoreResult> {
  const space = fitFieldSpace(spec, reference);
  const ref = referenceVectors(spec, space, reference, false);
  const qs = queryVectors(spec, space, queries, false);
  const fitted = await fitScorer(ref, space.width, { method, seed }, runtime);
  return score(fitted, ref, qs, space.width, runtime);
}
