// A run's scoring state on disk: embeds the training events into the reference set, fits the scorer and
// writes both into the run; reads them back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { permutation } from '../dataset/dataset.ts';
import { referenceFeatures } from '../detect/explain.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { releaseKnnSession } from '../detect/knn.ts';
import { fitScorer, scorerToJSON } from '../detect/scorer.ts';
import type { Embedder } from '../embed/embedder.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import type { RuntimeOptions } from '../runtime/session.ts';
import { RUN_FILES } from './layout.ts';
import {
  decodeRunScoring,
  encodeReference,
  eventUids,
  type RunScoringState,
  type ScoredBatch,
  scoreEmbeddings,
} from './scoring.ts';

/** Training events kept in the reference set at most (a seeded sample beyond that). */
export const MAX_REFERENCE_ROWS = 16384;

/** What a run's scorer is, in a line. */
export interface RunScoring {
  method: string;
  threshold: number;
  thresholdPercentile: number;
  referenceRows: number;
}

/**
 * Embeds the training events (a seeded sample of at most MAX_REFERENCE_ROWS), fits the scorer on them, and
 * writes both into the run. The k-NN search runs with `runtime` (default: the CPU, default threads).
 */
export async function writeRunScorer(
  runDir: string,
  embedder: Embedder,
  trainEvents: readonly object[],
  uidPath: string | null,
  runtime: RuntimeOptions = { device: 'cpu' },
): Promise<RunScoring> {
  const d = embedder.dimension;
  if (trainEvents.length > MAX_REFERENCE_ROWS) {
    const keep = permutation(trainEvents.length, 0x5eed, 0).subarray(0, MAX_REFERENCE_ROWS).sort();
    trainEvents = Array.from(keep, (i) => trainEvents[i]!);
  }
  const reference = await embedder.embed(trainEvents, { normalized: true });
  const features = referenceFeatures(embedder.spec, trainEvents);
  const knn = nodeKnnRuntime(runtime);
  let scorer: Awaited<ReturnType<typeof fitScorer>>;
  try {
    scorer = await fitScorer(reference, d, {}, knn, { spec: embedder.spec, reference: features });
  } finally {
    await releaseKnnSession(knn);
  }
  const uids = eventUids(trainEvents, uidPath);
  writeFileAtomic(
    join(runDir, RUN_FILES.reference),
    encodeReference(reference, trainEvents.length, d, uids, features),
  );
  writeFileAtomic(join(runDir, RUN_FILES.scorer), `${JSON.stringify(scorerToJSON(scorer))}\n`);
  return {
    method: scorer.method,
    threshold: scorer.threshold,
    thresholdPercentile: scorer.options.thresholdPercentile,
    referenceRows: trainEvents.length,
  };
}

/** A run's reference embeddings, their uids and the scorer. */
export function loadRunScorer(runDir: string): RunScoringState {
  const refPath = join(runDir, RUN_FILES.reference);
  const scorerPath = join(runDir, RUN_FILES.scorer);
  if (!existsSync(refPath) || !existsSync(scorerPath)) {
    throw new UserError(
      `${runDir} has no scorer (${RUN_FILES.reference}, ${RUN_FILES.scorer}); it is written when training finishes: finish the run with \`ocsf-embed train --resume ${runDir}\``,
    );
  }
  return decodeRunScoring(readFileSync(refPath), readFileSync(scorerPath), {
    reference: refPath,
    scorer: scorerPath,
  });
}

/** Scores events against the run in `runDir` with `embedder` (its model.onnx); k-NN with `runtime`. */
export async function scoreAgainstRun(
  runDir: string,
  embedder: Embedder,
  events: readonly object[],
  runtime: RuntimeOptions = { device: 'cpu' },
): Promise<ScoredBatch> {
  const state = loadRunScorer(runDir);
  const queries = await embedder.embed(events, { normalized: true });
  const knn = nodeKnnRuntime(runtime);
  try {
    return await scoreEmbeddings(state, queries, eventUids(events, embedder.spec.uidPath), knn, {
      spec: embedder.spec,
      events,
    });
  } finally {
    await releaseKnnSession(knn);
  }
}
