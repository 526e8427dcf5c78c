// Training for library callers: a run directory from events (in memory or files), or a model in memory
// from an encoded dataset, with progress callbacks and nothing printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainingConfig } from '../../graphs/artifacts.ts';
import { resolveTrainingChoices, type TrainingChoices, withInputs } from '../../graphs/config.ts';
import { UserError } from '../core/errors.ts';
import type { EncodedDataset } from '../dataset/dataset.ts';
import { specInputWidths } from '../features/encode.ts';
import type { FittedSpec } from '../features/types.ts';
import type { Checkpoint } from '../run/checkpoint.ts';
import type { EpochRecord } from '../run/metrics.ts';
import { createSession, type Device, graphTargetFor } from '../runtime/session.node.ts';
import { type FinishSummary, finishRun } from './finish.node.ts';
import { exportModel, type RunResult, trainRun } from './run.node.ts';
import { FIT_DEFAULTS, type FitCallbacks, type FitOptions, type FitResult, Trainer } from './trainer.ts';

/** Progress within an epoch, as `onProgress` receives it. */
export type BatchProgress = Parameters<NonNullable<FitCallbacks['onBatch']>>[0];

/** A training configuration as JSON: any of `model`, `objective`, `optimizer`, each partial. */
export interface TrainingConfigInput {
  model?: Record<string, unknown>;
  objective?: Record<string, unknown>;
  optimizer?: Record<string, unknown>;
}

/** What both ways of training share. */
export interface CommonTrainOptions {
  /** Model, objective and optimizer settings over the defaults (see docs/api.md). */
  config?: TrainingConfigInput;
  /** Epochs, learning rate, schedule, early stopping over `FIT_DEFAULTS`. */
  fit?: Partial<FitOptions>;
  /** Rows per training step (default 256; lowered to fit a small training split). */
  batchSize?: number;
  /** Seed of the split, the initial weights and the augmentations (default 1). */
  seed?: number;
  /** ONNX Runtime device (default `cpu`). */
  device?: Device;
  /** Intra-op threads (default: ONNX Runtime's choice for this host). */
  threads?: number;
  /** Called after every training batch. */
  onProgress?(p: BatchProgress): void;
  /** Called after every epoch with its losses and throughput. */
  onEpoch?(r: EpochRecord): void;
}

/** Options of {@link train}. */
export interface TrainOptions extends CommonTrainOptions {
  /**
   * The events: OCSF event objects in memory (written to `<out>/events.jsonl` so the run can be resumed),
   * or files, directories and globs (JSONL, JSON, Parquet, Arrow).
   */
  events: readonly object[] | readonly string[];
  /** The run directory to create. */
  out: string;
  /** Fraction of the events held out for validation (default 0.1). */
  valFraction?: number;
  /** Also embed the training events and fit the scorer, so that the run can score (default true). */
  scorer?: boolean;
}

/** A finished training run on disk. */
export interface TrainedRun {
  runDir: string;
  /** The exported model, or null when training stopped before it finished. */
  modelPath: string | null;
  /** Steps, throughput, the fitted spec, the resolved config. */
  result: RunResult;
  /** The scorer's summary and the report path (absent with `scorer: false`). */
  finish: FinishSummary | null;
}

/** The user's choices over the defaults; the input widths come from the fitted spec. */
function resolveChoices(config: TrainingConfigInput = {}): TrainingChoices {
  return resolveTrainingChoices(config);
}

/**
 * Trains a model on OCSF events into a run directory — checkpoints, metrics, `model.onnx`, and (unless
 * `scorer: false`) the reference embeddings and scorer that {@link LoadedModel.score} needs — exactly as
 * `ocsf-embed train` does, but silent and with callbacks.
 */
export async function train(o: TrainOptions): Promise<TrainedRun> {
  if (o.events.length === 0) throw new UserError('train: give some events (objects or file paths)');
  let inputs: string[];
  if (o.events.every((e) => typeof e === 'string')) {
    inputs = [...(o.events as readonly string[])];
  } else if (o.events.every((e) => typeof e === 'object' && e !== null)) {
    mkdirSync(o.out, { recursive: true });
    const file = join(o.out, 'events.jsonl');
    writeFileSync(file, `${o.events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    inputs = [file];
  } else {
    throw new UserError('train: `events` must be all event objects or all file paths');
  }
  const result = await trainRun({
    inputs,
    out: o.out,
    config: resolveChoices(o.config),
    fit: { ...FIT_DEFAULTS, ...o.fit },
    batchSize: o.batchSize ?? 256,
    valFraction: o.valFraction ?? 0.1,
    seed: o.seed ?? 1,
    device: o.device ?? 'cpu',
    threads: o.threads,
    verbose: false,
    callbacks: { onBatch: o.onProgress, onEpoch: o.onEpoch },
  });
  const finish = o.scorer !== false && result.modelPath ? await finishRun(result, { verbose: false }) : null;
  return { runDir: result.runDir, modelPath: result.modelPath, result, finish };
}

/** Options of {@link trainDataset}. */
export interface TrainDatasetOptions extends CommonTrainOptions {
  /** The fitted feature spec the datasets were encoded with (it travels in the exported model). */
  spec: FittedSpec;
  train: EncodedDataset;
  /** Validation rows: early stopping and the best checkpoint use their loss. */
  val?: EncodedDataset | null;
}

/** A model trained in memory. */
export interface TrainedModel {
  /** model.onnx bytes: raw event fields in, embeddings out (open with `Embedder.fromBytes` or `loadEmbedder`). */
  model: Uint8Array;
  /** The checkpoint exported: the best by validation loss, else the last. */
  checkpoint: Checkpoint;
  config: TrainingConfig;
  fit: FitResult;
}

/**
 * Trains on an encoded dataset in memory (see `fitSpec` and `encodeDataset`) and returns model.onnx
 * bytes; nothing is written to disk.
 */
export async function trainDataset(o: TrainDatasetOptions): Promise<TrainedModel> {
  const config = withInputs(resolveChoices(o.config), specInputWidths(o.spec));
  let batchSize = o.batchSize ?? 256;
  if (o.train.rows < batchSize) {
    if (o.train.rows < 2) throw new UserError(`only ${o.train.rows} training rows: give more events`);
    batchSize = 2 ** Math.floor(Math.log2(o.train.rows));
  }
  const trainer = await Trainer.create({
    config,
    batchSize,
    seed: o.seed ?? 1,
    createSession: async (bytes) =>
      (await createSession(bytes, { device: o.device ?? 'cpu', threads: o.threads })).session,
    target: graphTargetFor(o.device ?? 'cpu'),
  });
  let best: Checkpoint | null = null;
  let last: Checkpoint | null = null;
  let fit: FitResult;
  try {
    fit = await trainer.fit(
      o.train,
      o.val ?? null,
      { ...FIT_DEFAULTS, ...o.fit },
      {
        onBatch: o.onProgress,
        onEpoch: o.onEpoch,
        checkpoint: (kind, c) => {
          if (kind === 'best') best = c;
          else last = c;
        },
      },
    );
  } finally {
    await trainer.release();
  }
  const checkpoint = best ?? last ?? (await trainer.snapshot());
  return { model: exportModel(o.spec, config, checkpoint), checkpoint, config, fit };
}
