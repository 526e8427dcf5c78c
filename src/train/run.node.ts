// A training run on disk: load events, fit the feature spec on the training split, encode,
// train with checkpoints and metrics, export model.onnx and the reference embeddings, and
// write the report. `ocsf-embed train` and `npm start` both go through here.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { TrainingConfig } from '../../graphs/artifacts.ts';
import { trainingSpecs } from '../../graphs/artifacts.ts';
import { type TrainingChoices, withInputs } from '../../graphs/config.ts';
import { flatLayout } from '../../graphs/optim/adamw.ts';
import { UserError } from '../core/errors.ts';
import { encodeDataset, splitTrainVal, subsetDataset } from '../dataset/dataset.ts';
import { formatLoadSummary, type LoadSummary, loadEvents, rejectUnfit } from '../dataset/load.node.ts';
import { buildInferenceModel } from '../embed/export.ts';
import { specInputWidths } from '../features/encode.ts';
import { fitSpec, parseSpec, parseSpecOptions, serializeSpec, specTable } from '../features/spec.ts';
import type { FittedSpec } from '../features/types.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { loadCheckpoint, saveCheckpoint } from '../run/checkpoint.node.ts';
import type { Checkpoint } from '../run/checkpoint.ts';
import { RUN_FILES } from '../run/layout.ts';
import type { EpochRecord, StepRecord } from '../run/metrics.ts';
import { createSession, type Device } from '../runtime/session.node.ts';
import { createProgress } from './progress.node.ts';
import { FIT_DEFAULTS, type FitCallbacks, type FitOptions, Trainer } from './trainer.ts';

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
  /** Spec overrides file (see docs/features.md). */
  specPath?: string;
  /** Print progress lines (default true). */
  verbose?: boolean;
  /** Progress within each epoch and each finished epoch, besides (or instead of) the printed lines. */
  callbacks?: Pick<FitCallbacks, 'onBatch' | 'onEpoch'>;
  /** Ctrl-C saves a checkpoint and stops (default true; a library caller may handle signals itself). */
  interruptible?: boolean;
}

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

async function prepareData(o: RunOptions, saved: SavedRun, spec: FittedSpec | null) {
  const rejectsPath = join(o.out, RUN_FILES.rejects);
  let loaded = await loadEvents(saved.inputs, { rejectsPath });
  const split = splitTrainVal(loaded.records.length, saved.valFraction, saved.seed);
  if (!spec) {
    const specOptions = saved.specPath
      ? parseSpecOptions(JSON.parse(readFileSync(saved.specPath, 'utf8')))
      : undefined;
    spec = fitSpec(
      Array.from(split.train, (i) => loaded.records[i]!),
      specOptions,
    );
  }
  const before = loaded.records.length;
  loaded = rejectUnfit(loaded, spec, rejectsPath);
  const resplit =
    loaded.records.length === before
      ? split
      : splitTrainVal(loaded.records.length, saved.valFraction, saved.seed);
  const all = encodeDataset(spec, loaded.records);
  return {
    spec,
    load: loaded.summary,
    records: loaded.records,
    train: subsetDataset(all, resplit.train),
    trainIndices: resplit.train,
    valIndices: resplit.val,
    val: resplit.val.length ? subsetDataset(all, resplit.val) : null,
  };
}

/** Trains a model from events into a run directory (or continues one with `resume`). */
export async function trainRun(o: RunOptions, resume = false): Promise<RunResult> {
  const started = performance.now();
  mkdirSync(o.out, { recursive: true });
  const configPath = join(o.out, RUN_FILES.config);
  let saved: SavedRun;
  let spec: FittedSpec | null = null;
  let checkpoint: Checkpoint | undefined;
  if (resume) {
    if (!existsSync(configPath) || !existsSync(join(o.out, RUN_FILES.last))) {
      throw new UserError(
        `${o.out} holds no run to resume (no ${RUN_FILES.config} or ${RUN_FILES.last}); start one with \`ocsf-embed train <inputs> --out ${o.out}\``,
      );
    }
    saved = JSON.parse(readFileSync(configPath, 'utf8')) as SavedRun;
    spec = parseSpec(readFileSync(join(o.out, RUN_FILES.spec), 'utf8'));
  } else {
    if (existsSync(join(o.out, RUN_FILES.last))) {
      throw new UserError(
        `${o.out} already holds a run; continue it with \`ocsf-embed train --resume ${o.out}\`, or choose another --out`,
      );
    }
    saved = {
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
  }

  const data = await prepareData(o, saved, spec);
  spec = data.spec;
  log(o, formatLoadSummary(data.load));
  const config = withInputs(saved.config, specInputWidths(spec));
  if (!resume) {
    writeFileAtomic(join(o.out, RUN_FILES.spec), serializeSpec(spec));
    writeFileAtomic(configPath, `${JSON.stringify({ ...saved, config }, null, 2)}\n`);
    writeFileSync(join(o.out, RUN_FILES.metrics), '');
    log(o, specTable(spec));
  }
  let batchSize = saved.batchSize;
  if (data.train.rows < batchSize) {
    if (data.train.rows < 2)
      throw new UserError(`only ${data.train.rows} training rows: give more events (at least a few hundred)`);
    batchSize = 2 ** Math.floor(Math.log2(data.train.rows));
    log(o, `note: the batch size is lowered to ${batchSize} to fit ${data.train.rows} training rows`);
  }

  let device = 'cpu';
  const threads = o.threads;
  const factory = async (bytes: Uint8Array) => {
    const created = await createSession(bytes, { device: o.device, threads });
    if (created.notice && device !== created.device) log(o, `note: ${created.notice}`);
    device = created.device;
    return created.session;
  };
  if (resume) {
    checkpoint = loadCheckpoint(join(o.out, RUN_FILES.last), flatLayout(trainingSpecs(config)));
  }
  const trainer = await Trainer.create({
    config,
    batchSize,
    seed: saved.seed,
    createSession: factory,
    resume: checkpoint,
  });

  const records: (StepRecord | EpochRecord)[] = [];
  const metricsPath = join(o.out, RUN_FILES.metrics);
  const keep = (r: StepRecord | EpochRecord) => {
    records.push(r);
    appendFileSync(metricsPath, `${JSON.stringify(r)}\n`);
  };
  const onSigint = () => {
    log(o, '\ninterrupted: saving a checkpoint after this step (Ctrl-C again to abort)');
    trainer.requestStop('interrupted by the user');
    process.once('SIGINT', () => process.exit(130));
  };
  if (o.interruptible !== false) process.once('SIGINT', onSigint);
  const info = { versions: versions(), spec: basename(RUN_FILES.spec) };
  const cores = availableParallelism();
  log(
    o,
    `training ${config.objective.kind} on ${data.train.rows} rows (validation ${data.val?.rows ?? 0}), batch ${batchSize}, device ${device}, ${threads ?? (cores <= 2 ? 1 : Math.min(4, cores))} thread(s)`,
  );
  const progress = createProgress(batchSize, o.verbose === false);
  const result = await trainer.fit(data.train, data.val, saved.fit, {
    onStep: keep,
    onBatch: (p) => {
      progress.update({ ...p, epochs: saved.fit.epochs });
      o.callbacks?.onBatch?.(p);
    },
    onEpoch: (r) => {
      keep(r);
      o.callbacks?.onEpoch?.(r);
      progress.line(
        `epoch ${r.epoch}/${saved.fit.epochs}  step ${r.step}  train ${r.train_loss.toFixed(4)}  val ${r.val_loss?.toFixed(4) ?? '-'}  lr ${r.lr.toExponential(2)}  ${Math.round(r.samples_per_s)} samples/s${r.best ? '  (best)' : ''}`,
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
  process.removeListener('SIGINT', onSigint);
  await trainer.release();

  let modelPath: string | null = null;
  if (result.position.finished) {
    const best = loadCheckpoint(
      join(o.out, existsSync(join(o.out, RUN_FILES.best)) ? RUN_FILES.best : RUN_FILES.last),
      trainer.artifacts.manifest.optimizerLayout,
    );
    modelPath = join(o.out, RUN_FILES.model);
    writeFileAtomic(modelPath, exportModel(spec, config, best, info));
  }
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
    modelPath,
    records,
    events: data.records,
    trainIndices: data.trainIndices,
    valIndices: data.valIndices,
    config,
  };
}

/** model.onnx bytes for a checkpoint of a run. */
export function exportModel(
  spec: FittedSpec,
  config: TrainingConfig,
  c: Checkpoint,
  info: Record<string, unknown> = {},
): Uint8Array {
  const weights = new Map([...c.state].filter(([k]) => !k.startsWith('mfp_heads.')));
  return buildInferenceModel(spec, config.model, weights, {
    ...info,
    objective: config.objective.kind,
    step: c.position.step,
    bestValLoss: c.position.best?.valLoss ?? null,
  });
}

export { FIT_DEFAULTS };
