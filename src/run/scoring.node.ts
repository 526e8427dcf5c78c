// A run's scoring state on disk: the reference set and scorer fitted on the training events, written into
// the run; read back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { releaseKnnSession } from '../detect/knn.ts';
import type { Embedder } from '../embed/embedder.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import type { RuntimeOptions } from '../runtime/session.ts';
import { RUN_FILES } from './layout.ts';
import {
  decodeRunScoring,
  eventUids,
  fitRunScoring,
  type RunScoring,
  type RunScoringState,
  type ScoredBatch,
  scoreEmbeddings,
} from './scoring.ts';

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
  const knn = nodeKnnRuntime(runtime);
  let fitted: Awaited<ReturnType<typeof fitRunScoring>>;
  try {
    fitted = await fitRunScoring(embedder, trainEvents, uidPath, knn);
  } finally {
    await releaseKnnSession(knn);
  }
  writeFileAtomic(join(runDir, RUN_FILES.reference), fitted.reference);
  writeFileAtomic(join(runDir, RUN_FILES.scorer), fitted.scorer);
  return fitted.summary;
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
