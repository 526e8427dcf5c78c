// A run's scoring state on disk: the reference set and scorer fitted on the training events, written into
// the run; read back.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { nodeKnnRuntime } from '../detect/knn.node.ts';
import { releaseKnnSession } from '../detect/knn.ts';
import { loadReconstructor } from '../embed/embedder.node.ts';
import type { Embedder } from '../embed/embedder.ts';
import type { Reconstructor } from '../embed/reconstruction.ts';
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

/** The run's reconstruction model when it has one (runs trained with masked feature prediction). */
async function runReconstructor(runDir: string, runtime: RuntimeOptions): Promise<Reconstructor | undefined> {
  const path = join(runDir, RUN_FILES.reconstruction);
  return existsSync(path) ? loadReconstructor(path, runtime) : undefined;
}

/** The run's reconstruction model, which its scorer needs: one clear error when it is missing. */
export async function loadRunReconstructor(runDir: string, runtime: RuntimeOptions): Promise<Reconstructor> {
  const reconstructor = await runReconstructor(runDir, runtime);
  if (!reconstructor) {
    throw new UserError(
      `${runDir} holds no ${RUN_FILES.reconstruction}, which its scorer needs: it is written when training finishes; train the run again`,
    );
  }
  return reconstructor;
}

/**
 * Embeds the training events (a seeded sample of at most MAX_REFERENCE_ROWS), fits the scorer on them
 * (with their reconstruction surprise when the run has a reconstruction.onnx), and writes both into the
 * run. The k-NN search runs with `runtime` (default: the CPU, default threads).
 */
export async function writeRunScorer(
  runDir: string,
  embedder: Embedder,
  trainEvents: readonly object[],
  uidPath: string | null,
  runtime: RuntimeOptions = { device: 'cpu' },
): Promise<RunScoring> {
  const knn = nodeKnnRuntime(runtime);
  const reconstructor = await runReconstructor(runDir, runtime);
  let fitted: Awaited<ReturnType<typeof fitRunScoring>>;
  try {
    fitted = await fitRunScoring(embedder, trainEvents, uidPath, knn, reconstructor);
  } finally {
    await releaseKnnSession(knn);
    await reconstructor?.release();
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

/**
 * Scores events against the run in `runDir` with `embedder` (its model.onnx) and, when its scorer ranks
 * reconstruction surprise, the run's reconstruction.onnx; k-NN with `runtime`.
 */
export async function scoreAgainstRun(
  runDir: string,
  embedder: Embedder,
  events: readonly object[],
  runtime: RuntimeOptions = { device: 'cpu' },
): Promise<ScoredBatch> {
  const state = loadRunScorer(runDir);
  const queries = await embedder.embed(events, { normalized: true });
  let surprise: Float32Array | undefined;
  if (state.scorer.reconstructionScale) {
    const reconstructor = await loadRunReconstructor(runDir, runtime);
    surprise = await reconstructor.surprise(events).finally(() => reconstructor.release());
  }
  const knn = nodeKnnRuntime(runtime);
  try {
    return await scoreEmbeddings(state, queries, eventUids(events, embedder.spec.uidPath), knn, {
      spec: embedder.spec,
      events,
      surprise,
    });
  } finally {
    await releaseKnnSession(knn);
  }
}
