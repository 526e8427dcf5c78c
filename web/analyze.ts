// What the page computes, without the DOM: parse an events file, embed it with an exported model, score
// it against a run's reference embeddings (or against itself, self excluded), and project it to 2-D.
import { parseEventBytes } from '../src/data/parse.ts';
import type { Reject } from '../src/data/records.ts';
import type { KnnRuntime } from '../src/detect/knn.ts';
import { type FittedScorerJSON, fitScorer, score, scorerFromJSON } from '../src/detect/scorer.ts';
import type { Embedder } from '../src/embed/embedder.ts';
import { decodeSafetensors } from '../src/train/safetensors.ts';
import { eventUids } from './fields.ts';
import { fitPca2, type Pca2, project } from './pca.ts';

/** A file's name and bytes, as a file input gives them. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** What to analyse: the events, and optionally a run's reference embeddings and scorer (both or neither). */
export interface AnalysisInput {
  events: NamedBytes;
  reference?: NamedBytes;
  scorer?: NamedBytes;
}

/** Most reference rows drawn in the plot (a deterministic subsample beyond this). */
export const MAX_REFERENCE_POINTS = 5000;

/** Everything the page shows. */
export interface Analysis {
  /** The events that parsed, in file order. */
  records: object[];
  /** Lines or rows that did not parse. */
  rejects: Reject[];
  uids: string[];
  dimension: number;
  /** `run`: scored against the run's reference embeddings; `self`: against the file's own events, self excluded. */
  mode: 'run' | 'self';
  method: string;
  referenceRows: number;
  threshold: number;
  thresholdPercentile: number;
  /** One score per record; higher = more anomalous. */
  scores: Float32Array;
  /** 1 where the score is above the threshold. */
  isAnomaly: Uint8Array;
  /** Each record's position on the plot, row-major [records, 2]. */
  points: Float32Array;
  /** Reference rows on the same axes (at most {@link MAX_REFERENCE_POINTS}), [m, 2]; empty in `self` mode. */
  referencePoints: Float32Array;
  pca: Pca2;
  /** Milliseconds per stage. */
  timings: { parse: number; embed: number; score: number; project: number };
}

/** An error the page shows as it is: it says what to do. */
export class PageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PageError';
  }
}

function loadReference(reference: NamedBytes, d: number): { rows: number; embeddings: Float32Array } {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(reference.bytes);
  } catch (e) {
    throw new PageError(
      `${reference.name} is not a safetensors file (${(e as Error).message}): choose the run's reference.safetensors.`,
    );
  }
  const t = decoded.tensors.get('embeddings');
  if (t?.dtype !== 'float32' || t.dims.length !== 2) {
    throw new PageError(
      `${reference.name} holds no float32 [rows, dimension] tensor named "embeddings": choose the run's reference.safetensors.`,
    );
  }
  if (t.dims[1] !== d) {
    throw new PageError(
      `${reference.name} holds embeddings of width ${t.dims[1]}, but the model makes width ${d}: choose the reference of the same run as the model.`,
    );
  }
  return { rows: t.dims[0]!, embeddings: t.data as Float32Array };
}

function loadScorer(scorer: NamedBytes) {
  try {
    return scorerFromJSON(JSON.parse(new TextDecoder().decode(scorer.bytes)) as FittedScorerJSON);
  } catch (e) {
    throw new PageError(
      `${scorer.name} is not an ocsf-embed scorer (${(e as Error).message}): choose the run's scorer.json.`,
    );
  }
}

function subsample(x: Float32Array, rows: number, d: number, max: number): { x: Float32Array; rows: number } {
  if (rows <= max) return { x, rows };
  const out = new Float32Array(max * d);
  for (let i = 0; i < max; i++) {
    const r = Math.floor((i * rows) / max);
    out.set(x.subarray(r * d, (r + 1) * d), i * d);
  }
  return { x: out, rows: max };
}

/**
 * Parses `input.events`, embeds the records with `embedder` (unit-length embeddings, as the scorer uses),
 * scores them with k-NN searches on `knn`, and projects them to 2-D. `onStage` hears each stage start.
 */
export async function analyze(
  embedder: Embedder,
  input: AnalysisInput,
  knn: KnnRuntime,
  onStage: (stage: 'parse' | 'embed' | 'score' | 'project') => void | Promise<void> = () => {},
): Promise<Analysis> {
  if (Boolean(input.reference) !== Boolean(input.scorer)) {
    throw new PageError(
      'choose both reference.safetensors and scorer.json from the same run, or neither (then events are scored against each other)',
    );
  }
  const d = embedder.dimension;
  const timings = { parse: 0, embed: 0, score: 0, project: 0 };
  let t = performance.now();
  const lap = (stage: keyof typeof timings) => {
    const now = performance.now();
    timings[stage] = now - t;
    t = now;
  };

  await onStage('parse');
  const rejects: Reject[] = [];
  const { records } = await parseEventBytes(input.events.name, input.events.bytes, {
    onReject: (r) => rejects.push(r),
  });
  if (records.length < 2) {
    throw new PageError(
      `${input.events.name} has ${records.length} readable event${records.length === 1 ? '' : 's'}${rejects.length ? ` (${rejects.length} rejected: ${rejects[0]!.reason})` : ''}: scoring needs at least 2.`,
    );
  }
  const reference = input.reference ? loadReference(input.reference, d) : null;
  const fitted = input.scorer ? loadScorer(input.scorer) : null;
  lap('parse');

  await onStage('embed');
  const queries = await embedder.embed(records, { normalized: true });
  lap('embed');

  await onStage('score');
  let scores: Float32Array;
  let isAnomaly: Uint8Array;
  let scorer = fitted;
  if (reference && fitted) {
    if (fitted.d !== d || fitted.n !== reference.rows) {
      throw new PageError(
        `the scorer was fitted on ${fitted.n} rows of width ${fitted.d}, the reference holds ${reference.rows} of width ${d}: choose both files from the same run.`,
      );
    }
    const result = await score(fitted, reference.embeddings, queries, d, knn);
    scores = result.scores;
    isAnomaly = result.isAnomaly;
  } else {
    scorer = await fitScorer(queries, d, {}, knn);
    scores = scorer.referenceScores;
    isAnomaly = Uint8Array.from(scores, (s) => (s > scorer!.threshold ? 1 : 0));
  }
  lap('score');

  await onStage('project');
  const pca = fitPca2(queries, records.length, d);
  const points = project(pca, queries, records.length);
  let referencePoints: Float32Array = new Float32Array(0);
  if (reference) {
    const sample = subsample(reference.embeddings, reference.rows, d, MAX_REFERENCE_POINTS);
    referencePoints = project(pca, sample.x, sample.rows);
  }
  lap('project');

  return {
    records,
    rejects,
    uids: eventUids(records, embedder.spec.uidPath),
    dimension: d,
    mode: reference ? 'run' : 'self',
    method: scorer!.method,
    referenceRows: reference ? reference.rows : records.length,
    threshold: scorer!.threshold,
    thresholdPercentile: scorer!.options.thresholdPercentile,
    scores,
    isAnomaly,
    points,
    referencePoints,
    pca,
    timings,
  };
}
