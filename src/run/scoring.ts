// Scoring events against a run, in one place for the CLI, the service and the browser: the run's scoring
// state (reference embeddings, their uids, the fitted scorer) decoded from its files' bytes, event uids,
// and anomaly scores with the nearest reference events.
import { UserError } from '../core/errors.ts';
import { compilePathGetter } from '../data/flatten.ts';
import { permutation } from '../dataset/dataset.ts';
import {
  explainEvent,
  type FieldReason,
  featureCoverage,
  formatReasons,
  type ReferenceFeatures,
  referenceCoverage,
  referenceFeatures,
  type SchemaCoverage,
} from '../detect/explain.ts';
import type { KnnRuntime } from '../detect/knn.ts';
import { reconstructionReason } from '../detect/reconstruction.ts';
import {
  CONTEXT,
  EXPLAIN,
  type FittedScorer,
  type FittedScorerJSON,
  fitScorer,
  score,
  scorerFromJSON,
  scorerToJSON,
} from '../detect/scorer.ts';
import { percentile } from '../detect/threshold.ts';
import type { Embedder } from '../embed/embedder.ts';
import type { Reconstructor } from '../embed/reconstruction.ts';
import { extractRaw } from '../features/encode.ts';
import type { FittedSpec, RawFeatures } from '../features/types.ts';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.ts';
import { RUN_FILES } from './layout.ts';

/** The scoring half of a run, in memory. */
export interface RunScoringState {
  scorer: FittedScorer;
  /** Unit-length reference embeddings, row-major [rows, d]. */
  reference: Float32Array;
  referenceUids: string[];
  d: number;
  /** Stage-1 features of the reference events (runs written before explanations have none). */
  features: ReferenceFeatures | null;
  /** Fewest features a reference event carries (1st percentile; 0 without reference features). */
  expectedCoverage?: number;
}

/**
 * `state` with its threshold moved to the `percentile`-th percentile (above 0, below 100) of the reference
 * events' own scores: how many events get flagged, set where scoring runs (99 flags about 1% of events like
 * the training ones) without fitting the scorer again.
 */
export function withThresholdPercentile(
  state: RunScoringState,
  percentileOfReference: number,
): RunScoringState {
  if (!(percentileOfReference > 0 && percentileOfReference < 100)) {
    throw new RangeError(
      `the threshold percentile must be above 0 and below 100, got ${percentileOfReference}: e.g. 99 flags about 1% of events like the training ones`,
    );
  }
  const scorer = state.scorer;
  return {
    ...state,
    scorer: {
      ...scorer,
      threshold: percentile(scorer.referenceScores, percentileOfReference),
      options: { ...scorer.options, thresholdPercentile: percentileOfReference },
    },
  };
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
  /** Per event: the fields that make it unusual among its nearest reference events (empty without a spec). */
  reasons: FieldReason[][];
  /** Per event: `reasons` as one line, e.g. `http_response.code 504 (never among neighbours), duration 5,012 (z 14)`. */
  why: string[];
  /** How many of the spec's features the events carry; null when no spec was given. */
  coverage: SchemaCoverage | null;
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
  features?: ReferenceFeatures,
): Uint8Array {
  const tensors: Parameters<typeof encodeSafetensors>[0] = new Map([
    ['embeddings', { dtype: 'float32', dims: [rows, d], data: embeddings }],
  ]);
  if (features && features.rows === rows) {
    const fn = features.numerical.length / Math.max(1, rows);
    const fc = features.categorical.length / Math.max(1, rows);
    tensors.set('features.numerical', { dtype: 'float32', dims: [rows, fn], data: features.numerical });
    tensors.set('features.categorical', { dtype: 'int32', dims: [rows, fc], data: features.categorical });
  }
  return encodeSafetensors(tensors, { uids: JSON.stringify(uids) });
}

/** What scoring says when a run's scorer ranks reconstruction surprise and its reconstruction.onnx is not given. */
export const MISSING_RECONSTRUCTION =
  "this run's scorer ranks reconstruction surprise: give the run's reconstruction.onnx besides model.onnx, reference.safetensors and scorer.json";

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
 * Embeds the training events (a seeded sample of at most MAX_REFERENCE_ROWS) into the reference set and
 * fits the scorer on it: the bytes of the run's reference and scorer files, and a summary. With the run's
 * `reconstructor` the scorer also ranks reconstruction surprise.
 */
export async function fitRunScoring(
  embedder: Embedder,
  trainEvents: readonly object[],
  uidPath: string | null,
  knn: KnnRuntime,
  reconstructor?: Reconstructor,
): Promise<{ reference: Uint8Array; scorer: string; summary: RunScoring }> {
  const d = embedder.dimension;
  if (trainEvents.length > MAX_REFERENCE_ROWS) {
    const keep = permutation(trainEvents.length, 0x5eed, 0).subarray(0, MAX_REFERENCE_ROWS).sort();
    trainEvents = Array.from(keep, (i) => trainEvents[i]!);
  }
  const embeddings = await embedder.embed(trainEvents, { normalized: true });
  const features = referenceFeatures(embedder.spec, trainEvents);
  const reconstruction = reconstructor && { reference: await reconstructor.surprise(trainEvents) };
  const scorer = await fitScorer(embeddings, d, {}, knn, {
    spec: embedder.spec,
    reference: features,
    reconstruction,
  });
  const uids = eventUids(trainEvents, uidPath);
  return {
    reference: encodeReference(embeddings, trainEvents.length, d, uids, features),
    scorer: `${JSON.stringify(scorerToJSON(scorer))}\n`,
    summary: {
      method: scorer.method,
      threshold: scorer.threshold,
      thresholdPercentile: scorer.options.thresholdPercentile,
      referenceRows: trainEvents.length,
    },
  };
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
  let uids: string[];
  try {
    uids = JSON.parse(decoded.metadata.uids ?? '[]') as string[];
    if (!Array.isArray(uids)) throw new Error('uids is not a list');
  } catch (e) {
    throw new UserError(
      `${refName} has damaged uids (${(e as Error).message}): give the run's ${RUN_FILES.reference}`,
    );
  }
  if (!(t.data as Float32Array).every(Number.isFinite)) {
    throw new UserError(`${refName} holds non-finite embeddings: it is damaged; train the run again`);
  }
  const num = decoded.tensors.get('features.numerical');
  const cat = decoded.tensors.get('features.categorical');
  const features =
    num?.dtype === 'float32' && cat?.dtype === 'int32' && num.dims[0] === rows && cat.dims[0] === rows
      ? { rows, numerical: num.data as Float32Array, categorical: cat.data as Int32Array }
      : null;
  return { scorer, reference: t.data as Float32Array, referenceUids: uids, d, features };
}

/** The events behind the query embeddings and the spec that encoded them, for explanations and coverage. */
export interface ScoredEvents {
  spec: FittedSpec;
  events: readonly object[];
  /** The events through stage 1 ({@link extractRaw}), when the caller already has them. */
  raws?: readonly RawFeatures[];
  /** The events' reconstruction surprise (the run's reconstruction.onnx), when the scorer ranks it. */
  surprise?: Float32Array;
}

/**
 * The score of an event whose embedding or score is not finite: the largest float32, above any
 * threshold. NaN and Infinity never leave as scores.
 */
export const NON_FINITE_SCORE = 3.4028234663852886e38;

/** 1 for each row of `x` [rows, d] holding NaN or ±Infinity. */
function nonFiniteRows(x: Float32Array, d: number): Uint8Array | null {
  let flags: Uint8Array | null = null;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!)) {
      flags ??= new Uint8Array(Math.floor(x.length / d));
      flags[Math.floor(i / d)] = 1;
    }
  }
  return flags;
}

/**
 * Scores unit-length query embeddings [events, d] against the run: scores, flags, and the uids of the
 * nearest reference events. `uids` are the events' own uids (see {@link eventUids}). With `source` (the
 * events and the model's spec) each event also gets the fields that make it unusual among its nearest
 * reference events, and the batch its schema coverage. A query that is not finite, or whose score is
 * not, gets {@link NON_FINITE_SCORE} and is flagged.
 */
export async function scoreEmbeddings(
  state: RunScoringState,
  queries: Float32Array,
  uids: string[],
  knn: KnnRuntime,
  source?: ScoredEvents,
): Promise<ScoredBatch> {
  const raws = source && (source.raws ?? source.events.map((e) => extractRaw(source.spec, e)));
  const features = state.features;
  if (state.scorer.method === 'conditional' && !(source && features)) {
    throw new UserError(
      "this run's scorer compares fields with the reference events': score the events themselves (ocsf-embed score, serve or the page), with the run's reference file written by this version",
    );
  }
  const bad = nonFiniteRows(queries, state.d);
  if (bad) {
    queries = queries.slice();
    for (let i = 0; i < bad.length; i++) if (bad[i]) queries.fill(0, i * state.d, (i + 1) * state.d);
  }
  if (state.scorer.reconstructionScale && !source?.surprise) {
    throw new UserError(MISSING_RECONSTRUCTION);
  }
  const fields =
    source && features && raws
      ? {
          spec: source.spec,
          reference: features,
          queries: raws,
          reconstruction: source.surprise && { queries: source.surprise },
        }
      : undefined;
  const result = await score(state.scorer, state.reference, queries, state.d, knn, { fields });
  for (let i = 0; i < result.scores.length; i++) {
    if (bad?.[i] || !Number.isFinite(result.scores[i]!)) {
      result.scores[i] = NON_FINITE_SCORE;
      result.isAnomaly[i] = 1;
    }
  }
  const reasons: FieldReason[][] = uids.map(() => []);
  let coverage: SchemaCoverage | null = null;
  if (source && raws) {
    const fits =
      features !== null && features.numerical.length === features.rows * source.spec.numerical.length;
    if (fits && state.expectedCoverage === undefined) {
      state.expectedCoverage = referenceCoverage(source.spec, features);
    }
    coverage = featureCoverage(source.spec, raws, fits ? state.expectedCoverage : 0);
    if (fits) {
      raws.forEach((raw, i) => {
        const near = result.context.subarray(i * CONTEXT, (i + 1) * CONTEXT);
        reasons[i] = explainEvent(source.spec, raw, features, near);
      });
    }
    const scale = state.scorer.reconstructionScale;
    if (scale && source.surprise) {
      const width = scale.length;
      raws.forEach((raw, i) => {
        const r = reconstructionReason(
          source.spec,
          scale,
          source.surprise!.subarray(i * width, (i + 1) * width),
          raw,
        );
        if (r && !reasons[i]!.some((x) => x.field === r.field)) reasons[i]!.push(r);
      });
    }
  }
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
    reasons,
    why: reasons.map(formatReasons),
    coverage,
  };
}
