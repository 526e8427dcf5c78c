// Training in the page, without the DOM: parse a dropped events file, prepare it as `ocsf-embed train`
// does (split, spec, encoding), train with the library's Trainer on onnxruntime-web, export model.onnx,
// and fit the run's reference embeddings and scorer — the files `ocsf-embed score --model <dir>` reads.
import type { GraphTarget } from '../graphs/artifacts.ts';
import { resolveTrainingChoices, type TrainingChoices, withInputs } from '../graphs/config.ts';
import { parseEventBytes } from '../src/data/parse.ts';
import type { KnnRuntime } from '../src/detect/knn.ts';
import { Embedder } from '../src/embed/embedder.ts';
import { Reconstructor } from '../src/embed/reconstruction.ts';
import { specInputWidths } from '../src/features/encode.ts';
import { serializeSpec } from '../src/features/spec.ts';
import type { Checkpoint } from '../src/run/checkpoint.ts';
import { RUN_FILES } from '../src/run/layout.ts';
import type { EpochRecord, StepRecord } from '../src/run/metrics.ts';
import { fitRunScoring, type RunScoring } from '../src/run/scoring.ts';
import type { SessionFactory } from '../src/runtime/session.ts';
import {
  DEFAULT_VAL_FRACTION,
  exportModel,
  exportReconstruction,
  fittingBatchSize,
  prepareRecords,
} from '../src/train/prepare.ts';
import { FIT_DEFAULTS, Trainer } from '../src/train/trainer.ts';
import { type NamedBytes, PageError } from './analyze.ts';

/** What the page lets the user choose; everything else is the command line's default. */
export interface TrainSettings {
  objective: 'contrastive' | 'mfp' | 'both';
  epochs: number;
  batchSize: number;
  dModel: number;
  blocks: number;
  seed: number;
}

/** The page's defaults: a small model that trains in a minute or two on a laptop CPU. */
export const PAGE_TRAIN_DEFAULTS: TrainSettings = {
  objective: 'contrastive',
  epochs: 5,
  batchSize: 128,
  dModel: 64,
  blocks: 2,
  seed: 1,
};

/** The `ocsf-embed train` command that trains the same model from the same file (same seed, same numbers). */
export function equivalentCommand(file: string, s: TrainSettings, device: string): string {
  return [
    'ocsf-embed train',
    /^[\w./-]+$/.test(file) ? file : JSON.stringify(file),
    '--out run',
    `--objective ${s.objective}`,
    `--epochs ${s.epochs}`,
    `--batch-size ${s.batchSize}`,
    `--d-model ${s.dModel}`,
    `--blocks ${s.blocks}`,
    `--seed ${s.seed}`,
    `--device ${device === 'webgpu' ? 'webgpu' : 'cpu'}`,
  ].join(' ');
}

/** Progress as training goes. */
export interface TrainProgress {
  onStage?(stage: 'parse' | 'prepare' | 'train' | 'export' | 'reference'): void | Promise<void>;
  onBatch?(p: {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    step: number;
    loss: number;
  }): void | Promise<void>;
  onEpoch?(r: EpochRecord): void | Promise<void>;
}

/** A trained run, in memory. */
export interface TrainedRun {
  /** The run's files by name (model.onnx, reference.safetensors, scorer.json, spec.json, metrics.jsonl). */
  files: Map<string, Uint8Array>;
  records: object[];
  rejected: number;
  trainRows: number;
  valRows: number;
  batchSize: number;
  /** The loss of every step, in order. */
  losses: number[];
  metrics: (StepRecord | EpochRecord)[];
  stopReason: string;
  scoring: RunScoring;
  notes: string[];
  seconds: number;
}

const text = (s: string) => new TextEncoder().encode(s);

/**
 * Trains on `events` as `ocsf-embed train` does with the same settings: the same split, spec, batches
 * and schedule from the same seed. `train` opens the training sessions (WebGPU or wasm; `trainTarget`
 * shapes their graphs for it), `embed` the embedding sessions for the reference set, and `knn` runs the
 * scorer's searches.
 */
export async function trainOnEvents(
  events: NamedBytes,
  settings: TrainSettings,
  sessions: { train: SessionFactory; trainTarget?: GraphTarget; embed: SessionFactory; knn: KnnRuntime },
  progress: TrainProgress = {},
): Promise<TrainedRun> {
  const started = performance.now();
  const notes: string[] = [];
  await progress.onStage?.('parse');
  let rejected = 0;
  const { records } = await parseEventBytes(events.name, events.bytes, { onReject: () => void rejected++ });

  await progress.onStage?.('prepare');
  const choices: TrainingChoices = resolveTrainingChoices({
    model: { dModel: settings.dModel, numBlocks: settings.blocks },
    objective: { kind: settings.objective },
  });
  if (records.length < 4) {
    throw new PageError(
      `${events.name} has ${records.length} readable events: training needs a few hundred.`,
    );
  }
  const data = prepareRecords(records, { valFraction: DEFAULT_VAL_FRACTION, seed: settings.seed });
  rejected += records.length - data.records.length;
  const config = withInputs(choices, specInputWidths(data.spec));
  const fitted = fittingBatchSize(data.train.rows, settings.batchSize);
  if (!fitted) {
    throw new PageError(
      `only ${data.train.rows} training rows in ${events.name}: training needs a few hundred events.`,
    );
  }
  if (fitted.note) notes.push(fitted.note);

  await progress.onStage?.('train');
  const fit = { ...FIT_DEFAULTS, epochs: settings.epochs };
  const trainer = await Trainer.create({
    config,
    batchSize: fitted.batchSize,
    seed: settings.seed,
    createSession: sessions.train,
    target: sessions.trainTarget,
  });
  const metrics: (StepRecord | EpochRecord)[] = [];
  const losses: number[] = [];
  let best: Checkpoint | null = null;
  let last: Checkpoint | null = null;
  let step = 0;
  let result: Awaited<ReturnType<Trainer['fit']>>;
  try {
    result = await trainer.fit(data.train, data.val, fit, {
      onStep: (r) => metrics.push(r),
      onEpoch: (r) => {
        metrics.push(r);
        void progress.onEpoch?.(r);
      },
      onBatch: (p) => {
        step++;
        losses.push(p.loss);
        void progress.onBatch?.({ ...p, epochs: fit.epochs, step });
      },
      checkpoint: (kind, c) => {
        if (kind === 'best') best = c;
        else last = c;
      },
    });
  } finally {
    await trainer.release();
  }
  const chosen = (best ?? last) as Checkpoint | null;
  if (!chosen) throw new PageError('training stopped before the first epoch ended: no model to export');

  await progress.onStage?.('export');
  const model = exportModel(data.spec, config, chosen, { trainedIn: 'browser' });
  const reconstruction = exportReconstruction(data.spec, config, chosen);

  await progress.onStage?.('reference');
  const embedder = await Embedder.fromBytes(model, sessions.embed);
  const reconstructor = reconstruction && (await Reconstructor.fromBytes(reconstruction, sessions.embed));
  let scoring: Awaited<ReturnType<typeof fitRunScoring>>;
  try {
    const trainEvents = Array.from(data.trainIndices, (i) => data.records[i]!);
    scoring = await fitRunScoring(
      embedder,
      trainEvents,
      data.spec.uidPath,
      sessions.knn,
      reconstructor ?? undefined,
    );
  } finally {
    await embedder.release();
    await reconstructor?.release();
  }

  const files = new Map<string, Uint8Array>([
    [RUN_FILES.model, model],
    ...(reconstruction ? ([[RUN_FILES.reconstruction, reconstruction]] as const) : []),
    [RUN_FILES.reference, scoring.reference],
    [RUN_FILES.scorer, text(scoring.scorer)],
    [RUN_FILES.spec, text(serializeSpec(data.spec))],
    [RUN_FILES.metrics, text(metrics.map((m) => `${JSON.stringify(m)}\n`).join(''))],
  ]);
  return {
    files,
    records: data.records,
    rejected,
    trainRows: data.train.rows,
    valRows: data.val?.rows ?? 0,
    batchSize: fitted.batchSize,
    losses,
    metrics,
    stopReason: result.position.stopReason ?? 'stopped',
    scoring: scoring.summary,
    notes,
    seconds: (performance.now() - started) / 1000,
  };
}
