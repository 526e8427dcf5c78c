// Scoring events against a run, in one place for the CLI, the service and the browser: the run's scoring
// state (reference embeddings, their uids, the fitted scorer) decoded from its files' bytes, event uids,
// and anomaly scores with the nearest reference events.
import { UserError } from '../core/errors.ts';
import { compilePathGetter } from '../data/flatten.ts';
import type { KnnRuntime } from '../detect/knn.ts';
import {
  EXPLAIN,
  type FittedScorer,
  type FittedScorerJSON,
  score,
  scorerFromJSON,
} from '../detect/scorer.ts';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.ts';
import { RUN_FILES } from './layout.ts';

/** The scoring half of a run, in memory. */
export interface RunScoringState {
  scorer: FittedScorer;
  /** Unit-length reference embeddings, row-major [rows, d]. */
  reference: Float32Array;
  referenceUids: string[];
  d: number;
}

/** Anomaly scores of a batch of events. */
export interface ScoredBatch {
  /** Each event's uid (the spec's uid path), or `#row` (1-based, counted from `firstRow`) when it has none. */
  uids: string[];
  scores: Float32Array;
  /** 1 where the score is above the threshold. */
  isAnomaly: Uint8Array;
  /** Uids of the nearest reference events, nearest first, per event. */
  nearest: string[][];
  threshold: number;
}

/** Each record's uid at `uidPath`, or `#n` (its 1-based row, counting from `firstRow`) when it has none. */
export function eventUids(records: readonly object[], uidPath: string | null, firstRow = 0): string[] {
  const get = uidPath ? compilePathGetter(uidPath) : null;
  return records.map((r, i) => {
    const v = get?.(r);
    return v === undefined || v === null || v === '' ? `#${firstRow + i + 1}` : String(v);
  });
}

/** The bytes of a run's reference file: unit-length embeddings [rows, d] and their uids. */
export function encodeReference(
  embeddings: Float32Array,
  rows: number,
  d: number,
  uids: readonly string[],
): Uint8Array {
  return encodeSafetensors(
    new Map([['embeddings', { dtype: 'float32', dims: [rows, d], data: embeddings }]]),
    {
      uids: JSON.stringify(uids),
    },
  );
}

/** Names of the two files in messages (a path on disk, a file the user picked in the browser). */
export interface ScoringFileNames {
  reference?: string;
  scorer?: string;
}

/**
 * Decodes a run's reference embeddings and scorer from their files' bytes, checking that they belong
 * together; errors name the file and say which one to give instead.
 */
export function decodeRunScoring(
  referenceBytes: Uint8Array,
  scorerBytes: Uint8Array | string,
  names: ScoringFileNames = {},
): RunScoringState {
  const refName = names.reference ?? RUN_FILES.reference;
  const scorerName = names.scorer ?? RUN_FILES.scorer;
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(referenceBytes);
  } catch (e) {
    throw new UserError(
      `${refName} is not a safetensors file (${(e as Error).message}): give the run's ${RUN_FILES.reference}`,
    );
  }
  const t = decoded.tensors.get('embeddings');
  if (t?.dtype !== 'float32' || t.dims.length !== 2) {
    throw new UserError(
      `${refName} holds no float32 [rows, dimension] tensor named "embeddings": give the run's ${RUN_FILES.reference}`,
    );
  }
  let scorer: FittedScorer;
  try {
    const text = typeof scorerBytes === 'string' ? scorerBytes : new TextDecoder().decode(scorerBytes);
    scorer = scorerFromJSON(JSON.parse(text) as FittedScorerJSON);
  } catch (e) {
    throw new UserError(
      `${scorerName} is not an ocsf-embed scorer (${(e as Error).message}): give the run's ${RUN_FILES.scorer}`,
    );
  }
  const [rows, d] = [t.dims[0]!, t.dims[1]!];
  if (scorer.d !== d || scorer.n !== rows) {
    throw new UserError(
      `${scorerName} was fitted on ${scorer.n} rows of width ${scorer.d}, but ${refName} holds ${rows} of width ${d}: give both files from the same run`,
    );
  }
  const uids = JSON.parse(decoded.metadata.uids ?? '[]') as string[];
  return { scorer, reference: t.data as Float32Array, referenceUids: uids, d };
}

/**
 * Scores unit-length query embeddings [events, d] against the run: scores, flags, and the uids of the
 * nearest reference events. `uids` are the events' own uids (see {@link eventUids}).
 */
export async function scoreEmbeddings(
  state: RunScoringState,
  queries: Float32Array,
  uids: string[],
  knn: KnnRuntime,
): Promise<ScoredBatch> {
  const result = await score(state.scorer, state.reference, queries, state.d, knn);
  const nearest: string[][] = [];
  for (let i = 0; i < uids.length; i++) {
    const row: string[] = [];
    for (let j = 0; j < EXPLAIN; j++) {
      const r = result.neighbours[i * EXPLAIN + j]!;
      if (r >= 0) row.push(state.referenceUids[r] ?? String(r));
    }
    nearest.push(row);
  }
  return {
    uids,
    scores: result.scores,
    isAnomaly: result.isAnomaly,
    nearest,
    threshold: state.scorer.threshold,
  };
}
