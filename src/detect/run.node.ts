// A run's scoring state on disk: the training events' embeddings (the reference set), their
// uids, and the fitted scorer; and scoring new events against them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/errors.ts';
import { permutation } from '../data/dataset.ts';
import { compilePathGetter } from '../data/flatten.ts';
import type { Embedder } from '../embed/embedder.ts';
import { writeFileAtomic } from '../train/checkpoint.node.ts';
import { decodeSafetensors, encodeSafetensors } from '../train/safetensors.ts';
import { nodeKnnRuntime } from './knn.node.ts';
import { EXPLAIN, type FittedScorer, fitScorer, score, scorerFromJSON, scorerToJSON } from './scorer.ts';

export const SCORER_FILE = 'scorer.json';
/** Training events kept in the reference set at most (a seeded sample beyond that). */
export const MAX_REFERENCE_ROWS = 16384;
export const REFERENCE_FILE = 'reference.safetensors';

/** What a run's scorer is, in a line. */
export interface RunScoring {
  method: string;
  threshold: number;
  thresholdPercentile: number;
  referenceRows: number;
}

function uidsOf(events: readonly object[], uidPath: string | null): string[] {
  if (!uidPath) return events.map((_, i) => String(i));
  const get = compilePathGetter(uidPath);
  return events.map((e, i) => {
    const v = get(e);
    return v === undefined || v === null ? String(i) : String(v);
  });
}

/** Embeds the training events (a seeded sample of at most MAX_REFERENCE_ROWS), fits the scorer on them, and writes both into the run. */
export async function writeRunScorer(
  runDir: string,
  embedder: Embedder,
  trainEvents: readonly object[],
  uidPath: string | null,
): Promise<RunScoring> {
  const d = embedder.dimension;
  if (trainEvents.length > MAX_REFERENCE_ROWS) {
    const keep = permutation(trainEvents.length, 0x5eed, 0).subarray(0, MAX_REFERENCE_ROWS).sort();
    trainEvents = Array.from(keep, (i) => trainEvents[i]!);
  }
  const reference = await embedder.embed(trainEvents, { normalized: true });
  const runtime = nodeKnnRuntime({ device: 'cpu' });
  const scorer = await fitScorer(reference, d, {}, runtime);
  const uids = uidsOf(trainEvents, uidPath);
  writeFileAtomic(
    join(runDir, REFERENCE_FILE),
    encodeSafetensors(
      new Map([['embeddings', { dtype: 'float32', dims: [trainEvents.length, d], data: reference }]]),
      {
        uids: JSON.stringify(uids),
      },
    ),
  );
  writeFileAtomic(join(runDir, SCORER_FILE), `${JSON.stringify(scorerToJSON(scorer))}\n`);
  return {
    method: scorer.method,
    threshold: scorer.threshold,
    thresholdPercentile: scorer.options.thresholdPercentile,
    referenceRows: trainEvents.length,
  };
}

/** A run's reference embeddings, their uids and the scorer. */
export function loadRunScorer(runDir: string): {
  reference: Float32Array;
  uids: string[];
  d: number;
  scorer: FittedScorer;
} {
  const refPath = join(runDir, REFERENCE_FILE);
  const scorerPath = join(runDir, SCORER_FILE);
  if (!existsSync(refPath) || !existsSync(scorerPath)) {
    throw new UserError(
      `${runDir} has no scorer (${REFERENCE_FILE}, ${SCORER_FILE}); it is written when training finishes: finish the run with \`ocsf-embed train --resume ${runDir}\``,
    );
  }
  const { tensors, metadata } = decodeSafetensors(readFileSync(refPath));
  const emb = tensors.get('embeddings')!;
  return {
    reference: emb.data as Float32Array,
    uids: JSON.parse(metadata.uids ?? '[]') as string[],
    d: emb.dims[1]!,
    scorer: scorerFromJSON(JSON.parse(readFileSync(scorerPath, 'utf8'))),
  };
}

/** Scores events against a run: anomaly scores, the threshold, and the nearest reference events. */
export async function scoreAgainstRun(runDir: string, embedder: Embedder, events: readonly object[]) {
  const { reference, uids: refUids, d, scorer } = loadRunScorer(runDir);
  const queries = await embedder.embed(events, { normalized: true });
  const result = await score(scorer, reference, queries, d, nodeKnnRuntime({ device: 'cpu' }));
  const uids = uidsOf(events, embedder.spec.uidPath);
  return {
    uids,
    scores: result.scores,
    isAnomaly: result.isAnomaly,
    threshold: scorer.threshold,
    nearest: (i: number) =>
      Array.from(result.neighbours.subarray(i * EXPLAIN, (i + 1) * EXPLAIN))
        .filter((j) => j >= 0)
        .map((j) => refUids[j] ?? String(j)),
  };
}
