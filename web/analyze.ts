// What the page computes, without the DOM: parse an events file, embed it with an exported model, score
// it against a run's reference embeddings (or against itself, self excluded), and project it to 2-D.
import { parseEventBytes } from '../src/data/parse.ts';
import type { Reject } from '../src/data/records.ts';
import { featureCoverage, referenceFeatures, type SchemaCoverage } from '../src/detect/explain.ts';
import type { KnnRuntime } from '../src/detect/knn.ts';
import { type FittedScorer, fitScorer } from '../src/detect/scorer.ts';
import type { Embedder } from '../src/embed/embedder.ts';
import type { Reconstructor } from '../src/embed/reconstruction.ts';
import { extractRaw } from '../src/features/encode.ts';
import { decodeRunScoring, eventUids, type RunScoringState, scoreEmbeddings } from '../src/run/scoring.ts';
import { fitPca2, type Pca2, project } from './pca.ts';

/** A file's name and bytes, as a file input gives them. */
export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/**
 * What to analyse: the events, and optionally a run's reference embeddings and scorer (both or neither),
 * with its reconstruction model opened when the scorer ranks reconstruction surprise.
 */
export interface AnalysisInput {
  events: NamedBytes;
  reference?: NamedBytes;
  scorer?: NamedBytes;
  reconstructor?: Reconstructor;
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
  /** Per record: the fields that make it unusual among its nearest reference events (empty in `self` mode). */
  why: string[];
  /** Features of the model's spec the events carry, and a warning when they carry too few. */
  coverage: { present: number; total: number; warning: string | null };
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

/** The run's scoring state from the two files the user picked; errors say which files to choose. */
function loadRun(reference: NamedBytes, scorer: NamedBytes, d: number): RunScoringState {
  let run: RunScoringState;
  try {
    run = decodeRunScoring(reference.bytes, scorer.bytes, { reference: reference.name, scorer: scorer.name });
  } catch (e) {
    throw new PageError((e as Error).message);
  }
  if (run.d !== d) {
    throw new PageError(
      `${reference.name} holds embeddings of width ${run.d}, but the model makes width ${d}: choose the reference of the same run as the model.`,
    );
  }
  return run;
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
  const run = input.reference && input.scorer ? loadRun(input.reference, input.scorer, d) : null;
  if (run?.scorer.reconstructionScale && !input.reconstructor) {
    throw new PageError(
      `${input.scorer!.name} ranks reconstruction surprise: choose the run's reconstruction.onnx too (from the same run).`,
    );
  }
  lap('parse');

  await onStage('embed');
  const queries = await embedder.embed(records, { normalized: true });
  const uids = eventUids(records, embedder.spec.uidPath);
  lap('embed');

  await onStage('score');
  let scores: Float32Array;
  let isAnomaly: Uint8Array;
  let scorer: FittedScorer;
  let why: string[] = records.map(() => '');
  let coverage: SchemaCoverage;
  const spec = embedder.spec;
  if (run) {
    const surprise = run.scorer.reconstructionScale
      ? await input.reconstructor!.surprise(records)
      : undefined;
    const result = await scoreEmbeddings(run, queries, uids, knn, { spec, events: records, surprise });
    scores = result.scores;
    isAnomaly = result.isAnomaly;
    scorer = run.scorer;
    why = result.why;
    coverage = result.coverage!;
  } else {
    const fitted = await fitScorer(queries, d, {}, knn, {
      spec,
      reference: referenceFeatures(spec, records),
    });
    scorer = fitted;
    scores = fitted.referenceScores;
    isAnomaly = Uint8Array.from(scores, (s) => (s > fitted.threshold ? 1 : 0));
    coverage = featureCoverage(
      spec,
      records.map((r) => extractRaw(spec, r)),
    );
  }
  lap('score');

  await onStage('project');
  const pca = fitPca2(queries, records.length, d);
  const points = project(pca, queries, records.length);
  let referencePoints: Float32Array = new Float32Array(0);
  if (run) {
    const sample = subsample(run.reference, run.scorer.n, d, MAX_REFERENCE_POINTS);
    referencePoints = project(pca, sample.x, sample.rows);
  }
  lap('project');

  return {
    records,
    rejects,
    uids,
    dimension: d,
    mode: run ? 'run' : 'self',
    method: scorer.method,
    referenceRows: run ? run.scorer.n : records.length,
    threshold: scorer.threshold,
    thresholdPercentile: scorer.options.thresholdPercentile,
    scores,
    isAnomaly,
    points,
    referencePoints,
    pca,
    why,
    coverage: { present: coverage.present, total: coverage.total, warning: coverage.warning },
    timings,
  };
}
