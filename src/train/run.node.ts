// A training run on disk: load events, fit the feature spec on the training split, encode,
// train with checkpoints and metrics, export model.onnx and the reference embeddings, and
// write the report. `ocsf-embed train` and `npm start` both go through here.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TrainingConfig } from '../../graphs/artifacts.ts';
import { trainingSpecs } from '../../graphs/artifacts.ts';
import { type TrainingChoices, withInputs } from '../../graphs/config.ts';
import { flatLayout } from '../../graphs/optim/adamw.ts';
import { UserError } from '../core/errors.ts';
import { expandInputs, isStdin } from '../data/readers.node.ts';
import {
  checkRejectRate,
  DEFAULT_MAX_REJECT_FRACTION,
  formatLoadSummary,
  type LoadSummary,
  loadEvents,
  rejectUnfit,
} from '../dataset/load.node.ts';
import { specInputWidths } from '../features/encode.ts';
import {
  parseSpec,
  parseSpecOptions,
  type SpecOptions,
  serializeSpec,
  specSummary,
  specTable,
} from '../features/spec.ts';
import type { FittedSpec } from '../features/types.ts';
import { removeStaleTemps, writeError, writeFileAtomic } from '../io/atomic.node.ts';
import { loadCheckpoint, saveCheckpoint } from '../run/checkpoint.node.ts';
import type { Checkpoint, TrainerPosition } from '../run/checkpoint.ts';
import { RUN_FILES } from '../run/layout.ts';
import {
  type EpochRecord,
  formatMetrics,
  metricsUpTo,
  parseMetrics,
  type StepRecord,
} from '../run/metrics.ts';
import { createSession, type Device, graphTargetFor } from '../runtime/session.node.ts';
import { exportModel, exportReconstruction, fittingBatchSize, prepareRecords } from './prepare.ts';
import { createProgress, formatBudget } from './progress.node.ts';
import { FIT_DEFAULTS, type FitCallbacks, type FitOptions, Trainer } from './trainer.ts';

/** Defaults of the run options that are not the fit's or the model's (the CLI shows these). */
export const RUN_DEFAULTS = { batchSize: 256, valFraction: 0.1, seed: 1 } as const;

/** Everything a run needs, as the CLI resolves it. */
export interface RunOptions {
  inputs: string[];
  out: string;
  /** What the user chose (model size, objective, optimizer); the input widths come from the fitted spec. */
  config: TrainingChoices;
  fit: FitOptions;
  batchSize: number;
  valFraction: number;
  seed: number;
  device: Device;
  threads?: number;
  /** A spec file: overrides to fit with (docs/features.md), or a fitted spec used as it is. */
  specPath?: string;
  /** Print progress lines (default true). */
  verbose?: boolean;
  /** Progress within each epoch and each finished epoch, besides (or instead of) the printed lines. */
  callbacks?: Pick<FitCallbacks, 'onBatch' | 'onEpoch'>;
  /** Print the whole feature table instead of its one-line summary (the report always has it). */
  showSpec?: boolean;
  /** Resuming: the fit options given again on the command line, which replace the saved ones. */
  resumeFit?: Partial<Pick<FitOptions, 'epochs' | 'maxSeconds' | 'patience'>>;
  /** Aborting it stops training after the step in flight, with a checkpoint to resume from. */
  stop?: AbortSignal;
  /** Fail when more than this share of the events is rejected (default {@link DEFAULT_MAX_REJECT_FRACTION}). */
  maxRejectFraction?: number;
}

/** The stop reason of a run stopped by Ctrl-C (SIGINT); the command then exits with 130. */
export const INTERRUPTED = 'interrupted by the user';

/** What a finished (or interrupted) run reports. */
export interface RunResult {
  runDir: string;
  spec: FittedSpec;
  load: LoadSummary;
  trainRows: number;
  valRows: number;
  position: Checkpoint['position'];
  seconds: number;
  samplesPerSecond: number;
  device: string;
  /** Intra-op threads asked for (`--threads`); the finishing steps use the same. */
  threads?: number;
  modelPath: string | null;
  /** Metric records of this invocation (metrics.jsonl holds every invocation's). */
  records: (StepRecord | EpochRecord)[];
  /** The events kept after checks, and which of them trained and validated. */
  events: object[];
  trainIndices: Uint32Array;
  valIndices: Uint32Array;
  config: TrainingConfig;
}

interface SavedRun {
  format: 'ocsf-embed.run/1';
  createdAt: string;
  inputs: string[];
  /** The user's choices; once the spec is fitted, config.json holds them with the input widths. */
  config: TrainingChoices;
  fit: FitOptions;
  batchSize: number;
  valFraction: number;
  seed: number;
  specPath: string | null;
}

function versions(): Record<string, string> {
  // The package's own package.json by name (its `exports` lists it), from the sources and from dist/ alike.
  const pkg = createRequire(import.meta.url)('ocsf-embed/package.json') as { version: string };
  return {
    'ocsf-embed': pkg.version,
    onnxruntime: ort.env.versions.node ?? 'unknown',
    node: process.version,
  };
}

function log(o: RunOptions, line: string): void {
  if (o.verbose !== false) console.log(line);
}

/**
 * A `--spec` file: a fitted spec (`ocsf-embed features --out`, or a run's spec.json) is used as it is,
 * vocabulary frozen; anything else is read as overrides to fit a new spec with (docs/features.md).
 */
export function readSpecFile(path: string): { fitted: FittedSpec } | { options: SpecOptions } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(
      existsSync(path)
        ? `--spec ${path} is not valid JSON (${(e as Error).message}); see docs/features.md for the format`
        : `--spec ${path} does not exist: check the path`,
    );
  }
  if (json && typeof json === 'object' && 'version' in json) return { fitted: parseSpec(json) };
  return { options: parseSpecOptions(json) };
}

async function prepareData(o: RunOptions, saved: SavedRun, spec: FittedSpec | null) {
  const rejectsPath = join(o.out, RUN_FILES.rejects);
  let loaded = await loadEvents(saved.inputs, { rejectsPath });
  const file = !spec && saved.specPath ? readSpecFile(saved.specPath) : null;
  const prepared = prepareRecords(loaded.records, {
    valFraction: saved.valFraction,
    seed: saved.seed,
    spec: spec ?? (file && 'fitted' in file ? file.fitted : null),
    specOptions: file && !('fitted' in file) ? file.options : undefined,
    dropUnfit: (_, fitted) => {
      loaded = rejectUnfit(loaded, fitted, rejectsPath);
      checkRejectRate(loaded.summary, o.maxRejectFraction ?? DEFAULT_MAX_REJECT_FRACTION);
      return loaded.records;
    },
  });
  return { ...prepared, load: loaded.summary };
}

/** The saved run in `dir`, for resuming; errors say what to do instead. */
function readSavedRun(dir: string): SavedRun {
  const configPath = join(dir, RUN_FILES.config);
  if (!existsSync(configPath) || !existsSync(join(dir, RUN_FILES.last))) {
    throw new UserError(
      `${dir} holds no run to resume (no ${RUN_FILES.config} or ${RUN_FILES.last}); start one with \`ocsf-embed train <inputs> --out ${dir}\``,
    );
  }
  return readRunFile(configPath, (t) => {
    const s = JSON.parse(t) as SavedRun;
    if (s?.format !== 'ocsf-embed.run/1' || !s.config || !s.fit) throw new Error('not a run config');
    return s;
  });
}

/**
 * Where a resumed run picks up. A finished run continues only when given more epochs than it has done
 * (early stopping starts counting afresh); anything else is refused with the flag to give.
 */
export function resumePosition(
  dir: string,
  position: TrainerPosition,
  fit: FitOptions,
  epochsGiven: boolean,
): TrainerPosition {
  if (fit.epochs <= position.epoch && (position.finished || epochsGiven)) {
    throw new UserError(
      `${dir} has done ${position.epoch} epochs (${position.stopReason ?? 'stopped'}); to train on, give more: \`ocsf-embed train --resume ${dir} --epochs ${position.epoch + Math.max(1, Math.min(10, position.epoch))}\``,
    );
  }
  if (!position.finished) return position;
  return { ...position, finished: false, stopReason: null, badEpochs: 0 };
}

/** Reads and parses a file of a run directory; a damaged one is a one-line {@link UserError}. */
export function readRunFile<T>(path: string, parse: (text: string) => T): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(
      `cannot read ${path} (${(e as { code?: string }).code ?? (e as Error).message}): check the run directory`,
    );
  }
  try {
    return parse(text);
  } catch (e) {
    throw new UserError(
      `${path} is damaged (${(e as Error).message.split('\n')[0]}): restore it, or start the run again in a new --out`,
    );
  }
}

/**
 * Creates the run directory (or checks the one to resume) and removes temporaries of killed writers. A new
 * run refuses a folder holding files a run writes unless they are a run's own (its config.json): user files
 * named model.onnx or report.html are never overwritten.
 */
function prepareRunDir(out: string, resume: boolean): void {
  if (existsSync(out) && !statSync(out).isDirectory()) {
    throw new UserError(`--out ${out} is a file: give a folder for the run, e.g. --out runs/first`);
  }
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw writeError(out, e);
  }
  removeStaleTemps(out);
  if (resume || existsSync(join(out, RUN_FILES.config))) return;
  const names = new Set<string>(Object.values(RUN_FILES));
  const clash = readdirSync(out).filter((f) => names.has(f));
  if (clash.length > 0) {
    throw new UserError(
      `--out ${out} already holds ${clash.join(', ')} that no run wrote: choose a new or empty folder for the run`,
    );
  }
}

/** What a run starts from: its saved settings and, when resuming, its spec and checkpoint. */
interface RunStart {
  saved: SavedRun;
  spec: FittedSpec | null;
  checkpoint?: Checkpoint;
}

/** Reads the run to resume, with the fit options given again applied and its position checked. */
function resumeRun(o: RunOptions): RunStart {
  const read = readSavedRun(o.out);
  const saved = { ...read, fit: { ...read.fit, ...o.resumeFit } };
  const spec = readRunFile(join(o.out, RUN_FILES.spec), parseSpec);
  const layout = flatLayout(trainingSpecs(withInputs(saved.config, specInputWidths(spec))));
  const checkpoint = loadCheckpoint(join(o.out, RUN_FILES.last), layout);
  const position = resumePosition(o.out, checkpoint.position, saved.fit, o.resumeFit?.epochs !== undefined);
  return { saved, spec, checkpoint: { ...checkpoint, position } };
}

/** The settings of a new run, after checking what can be checked before the run directory exists. */
async function newRun(o: RunOptions): Promise<RunStart> {
  if (existsSync(join(o.out, RUN_FILES.last))) {
    throw new UserError(
      `${o.out} already holds a run; continue it with \`ocsf-embed train --resume ${o.out}\`, or choose another --out`,
    );
  }
  if (o.inputs.some(isStdin)) {
    throw new UserError(
      'train reads its events again to resume a run: give event files, not - (standard input); e.g. save them first with `cat > events.jsonl`',
    );
  }
  // So that a typo leaves nothing behind.
  await expandInputs(o.inputs);
  if (o.specPath) readSpecFile(o.specPath);
  const saved: SavedRun = {
    format: 'ocsf-embed.run/1',
    createdAt: new Date().toISOString(),
    inputs: o.inputs,
    config: o.config,
    fit: o.fit,
    batchSize: o.batchSize,
    valFraction: o.valFraction,
    seed: o.seed,
    specPath: o.specPath ?? null,
  };
  return { saved, spec: null };
}

/** A new run's spec.json, config.json and empty metrics.jsonl, and the spec's summary. */
function writeNewRunFiles(o: RunOptions, saved: SavedRun, spec: FittedSpec, config: TrainingConfig): void {
  writeFileAtomic(join(o.out, RUN_FILES.spec), serializeSpec(spec));
  writeFileAtomic(join(o.out, RUN_FILES.config), `${JSON.stringify({ ...saved, config }, null, 2)}\n`);
  writeFileAtomic(join(o.out, RUN_FILES.metrics), '');
  log(o, o.showSpec ? specTable(spec) : `${specSummary(spec)} (the table: --show-spec, or report.html)`);
}

/** Drops the metric records logged after the checkpoint (by the process that stopped): they are logged again. */
function rewindMetrics(o: RunOptions, checkpoint: Checkpoint, epochs: number, batches: number): void {
  const metricsPath = join(o.out, RUN_FILES.metrics);
  const text = existsSync(metricsPath) ? readFileSync(metricsPath, 'utf8') : '';
  writeFileAtomic(metricsPath, formatMetrics(metricsUpTo(parseMetrics(text), checkpoint.position.step)));
  const p = checkpoint.position;
  log(
    o,
    `resuming ${o.out} at epoch ${p.epoch + 1}/${epochs}, batch ${p.batchInEpoch + 1}/${batches} (after step ${p.step})`,
  );
}

/** Runs the trainer: metrics appended to metrics.jsonl, progress printed, checkpoints saved, Ctrl-C heard. */
async function fitRun(
  o: RunOptions,
  trainer: Trainer,
  data: Awaited<ReturnType<typeof prepareData>>,
  fit: FitOptions,
  info: Record<string, unknown>,
) {
  const metricsPath = join(o.out, RUN_FILES.metrics);
  const records: (StepRecord | EpochRecord)[] = [];
  const keep = (r: StepRecord | EpochRecord) => {
    records.push(r);
    try {
      appendFileSync(metricsPath, `${JSON.stringify(r)}\n`);
    } catch (e) {
      throw writeError(metricsPath, e);
    }
  };
  const onStop = () => trainer.requestStop(INTERRUPTED);
  o.stop?.addEventListener('abort', onStop, { once: true });
  const progress = createProgress(o.verbose === false, { budgetSeconds: fit.maxSeconds });
  const result = await trainer.fit(data.train, data.val, fit, {
    onStep: keep,
    onBatch: (p) => {
      progress.update({ ...p, epochs: fit.epochs });
      o.callbacks?.onBatch?.(p);
    },
    onEpoch: (r) => {
      keep(r);
      o.callbacks?.onEpoch?.(r);
      progress.line(
        `epoch ${r.epoch}/${fit.epochs}  step ${r.step}  train ${r.train_loss.toFixed(4)}  val ${r.val_loss?.toFixed(4) ?? '-'}  lr ${r.lr.toExponential(2)}  ${Math.round(r.samples_per_s)} samples/s${r.best ? '  (best)' : ''}`,
      );
    },
    checkpoint: (kind, c) => {
      saveCheckpoint(join(o.out, kind === 'best' ? RUN_FILES.best : RUN_FILES.last), {
        ...c,
        info: { ...c.info, ...info },
      });
    },
  });
  progress.stop();
  o.stop?.removeEventListener('abort', onStop);
  return { result, records };
}

/** The one line that says what is being trained, on what, for how long and where. */
function trainingLine(
  config: TrainingConfig,
  data: Awaited<ReturnType<typeof prepareData>>,
  fit: FitOptions,
  batchSize: number,
  device: string,
  threads: number | undefined,
): string {
  const cores = availableParallelism();
  const budget =
    fit.maxSeconds !== undefined
      ? `, stopping after the epoch in which ${formatBudget(fit.maxSeconds)} have passed`
      : '';
  return `training ${config.objective.kind} on ${data.train.rows} rows (validation ${data.val?.rows ?? 0}) for up to ${fit.epochs} epochs${budget}, batch ${batchSize}, device ${device}, ${threads ?? (cores <= 2 ? 1 : Math.min(4, cores))} thread(s)`;
}

/**
 * Writes model.onnx (and, when the objective trained the MFP heads, reconstruction.onnx) from the best
 * checkpoint (else the last) of a finished run; the model's path, null for an unfinished run.
 */
function exportFinished(
  o: RunOptions,
  trainer: Trainer,
  spec: FittedSpec,
  config: TrainingConfig,
  finished: boolean,
  info: Record<string, unknown>,
): string | null {
  if (!finished) return null;
  const best = loadCheckpoint(
    join(o.out, existsSync(join(o.out, RUN_FILES.best)) ? RUN_FILES.best : RUN_FILES.last),
    trainer.artifacts.manifest.optimizerLayout,
  );
  const modelPath = join(o.out, RUN_FILES.model);
  writeFileAtomic(modelPath, exportModel(spec, config, best, info));
  const reconstruction = exportReconstruction(spec, config, best);
  if (reconstruction) writeFileAtomic(join(o.out, RUN_FILES.reconstruction), reconstruction);
  return modelPath;
}

/** Trains a model from events into a run directory (or continues one with `resume`). */
export async function trainRun(o: RunOptions, resume = false): Promise<RunResult> {
  const started = performance.now();
  removeStaleTemps(o.out);
  const { saved, spec: savedSpec, checkpoint } = resume ? resumeRun(o) : await newRun(o);
  prepareRunDir(o.out, resume);

  const data = await prepareData(o, saved, savedSpec);
  const spec = data.spec;
  log(o, formatLoadSummary(data.load));
  const config = withInputs(saved.config, specInputWidths(spec));
  if (!resume) writeNewRunFiles(o, saved, spec, config);
  const fitted = fittingBatchSize(data.train.rows, saved.batchSize);
  if (!fitted)
    throw new UserError(`only ${data.train.rows} training rows: give more events (at least a few hundred)`);
  const batchSize = fitted.batchSize;
  if (fitted.note) log(o, `note: ${fitted.note}`);

  let device = 'cpu';
  const threads = o.threads;
  const factory = async (bytes: Uint8Array) => {
    const created = await createSession(bytes, { device: o.device, threads });
    if (created.notice && device !== created.device) log(o, `note: ${created.notice}`);
    device = created.device;
    return created.session;
  };
  if (checkpoint) rewindMetrics(o, checkpoint, saved.fit.epochs, Math.floor(data.train.rows / batchSize));
  const trainer = await Trainer.create({
    config,
    batchSize,
    seed: saved.seed,
    createSession: factory,
    resume: checkpoint,
    target: graphTargetFor(o.device),
  });
  if (o.stop?.aborted) throw new UserError('interrupted before training began: nothing to resume');
  const info = { versions: versions(), spec: basename(RUN_FILES.spec) };
  log(o, trainingLine(config, data, saved.fit, batchSize, device, threads));
  const { result, records } = await fitRun(o, trainer, data, saved.fit, info);
  await trainer.release();
  if (result.diverged) {
    throw new UserError(
      `training diverged: ${result.diverged}; nothing of that state was saved. Lower --lr (e.g. --lr ${saved.fit.lr / 10}) or check the input features, then start again${existsSync(join(o.out, RUN_FILES.last)) ? ` or continue from the last good checkpoint with \`ocsf-embed train --resume ${o.out}\`` : ''}`,
      'config',
    );
  }
  const modelPath = exportFinished(o, trainer, spec, config, result.position.finished, info);
  log(o, `stopped: ${result.position.stopReason}`);
  if (!result.position.finished) {
    log(
      o,
      `checkpoint saved at step ${result.position.step}; continue with \`ocsf-embed train --resume ${o.out}\``,
    );
  }
  return {
    runDir: o.out,
    spec,
    load: data.load,
    trainRows: data.train.rows,
    valRows: data.val?.rows ?? 0,
    position: result.position,
    seconds: (performance.now() - started) / 1000,
    samplesPerSecond: result.samplesPerSecond,
    device,
    threads,
    modelPath,
    records,
    events: data.records,
    trainIndices: data.trainIndices,
    valIndices: data.valIndices,
    config,
  };
}

export { exportModel, FIT_DEFAULTS };
