// `ocsf-embed train`: the options table, its checks, and a thin runner over trainRun.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import type { TrainingConfig } from '../../../graphs/artifacts.ts';
import {
  ConfigError,
  D_MODEL_RULE,
  OBJECTIVE_DEFAULTS,
  resolveTrainingChoices,
} from '../../../graphs/config.ts';
import { MODEL_DEFAULTS } from '../../../graphs/models/tabular-resnet.ts';
import { UserError } from '../../core/errors.ts';
import { readLabelsFile } from '../../detect/labels.node.ts';
import { RUN_FILE_ROLES, RUN_FILES } from '../../run/layout.ts';
import type { Device } from '../../runtime/session.ts';
import { type FinishSummary, finishRun } from '../../train/finish.node.ts';
import {
  FIT_DEFAULTS,
  INTERRUPTED,
  RUN_DEFAULTS,
  type RunOptions,
  type RunResult,
  trainRun,
} from '../../train/run.node.ts';
import { interruptOnSigint } from '../interrupt.ts';
import { checkRejectFraction, explicitFlags, REJECT_OPTIONS, SHARED_OPTIONS } from '../options.ts';

export interface TrainArgs {
  inputs: string[];
  out?: string;
  resume?: string;
  objective: 'contrastive' | 'mfp' | 'both';
  epochs: number;
  'batch-size': number;
  lr: number;
  'min-lr': number;
  schedule: 'cosine' | 'constant';
  warmup: number;
  'd-model': number;
  blocks: number;
  dropout: number;
  temperature: number;
  noise: number;
  swap: number;
  'swap-sampling': 'uniform' | 'empirical';
  'mask-prob': number;
  'val-split': number;
  patience: number;
  'min-delta': number;
  seed: number;
  device: Device;
  threads?: number;
  spec?: string;
  config?: string;
  'max-minutes'?: number;
  labels?: string;
  'show-spec': boolean;
  quiet: boolean;
  json: boolean;
  'max-reject-fraction': number;
}

/** Flags that name the run's model, data or objective: fixed once the run exists. */
const FIXED_ON_RESUME = [
  'objective',
  'batch-size',
  'lr',
  'min-lr',
  'schedule',
  'warmup',
  'd-model',
  'blocks',
  'dropout',
  'temperature',
  'noise',
  'swap',
  'swap-sampling',
  'mask-prob',
  'val-split',
  'min-delta',
  'seed',
  'spec',
  'config',
] as const;

/** Config keys as the flags that set them, so a config error names what the user typed. */
const FLAG_OF_KEY: Record<string, string> = {
  'model.dModel': '--d-model',
  'model.numBlocks': '--blocks',
  'model.dropout': '--dropout',
  'objective.temperature': '--temperature',
  'objective.noiseLevel': '--noise',
  'objective.swapProb': '--swap',
  'objective.maskProb': '--mask-prob',
};

function positiveInt(name: string, v: number, example: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new UserError(`--${name} must be a whole number ≥ 1, e.g. --${name} ${example}`);
}

function fraction(name: string, v: number, example: string, allowZero = true): void {
  if (!(v >= 0 && v < 1) || (!allowZero && v === 0))
    throw new UserError(`--${name} must be a number in [0, 1), e.g. --${name} ${example}`);
}

/** Checks every flag; each error says what to type instead. */
export function checkTrainArgs(a: TrainArgs, explicit: Set<string> = new Set()): void {
  if (a.resume) {
    const fixed = FIXED_ON_RESUME.filter((f) => explicit.has(f));
    if (a.inputs.length > 0 || fixed.length > 0)
      throw new UserError(
        `${a.inputs.length > 0 ? 'events' : `--${fixed[0]}`} cannot change when resuming: ${a.resume}/${RUN_FILES.config} holds the run's; give only --epochs, --max-minutes or --patience, or start a new run with --out`,
      );
    if (a.out && a.out !== a.resume)
      throw new UserError(`--resume continues the run where it is; drop --out ${a.out}`);
  }
  if (a.quiet && a.json) throw new UserError('--quiet and --json exclude each other: choose one');
  if (!a.resume && a.inputs.length === 0) {
    throw new UserError('name the events to train on, e.g. `ocsf-embed train events.jsonl --out runs/first`');
  }
  if (!a.resume && !a.out) throw new UserError('give the run directory with --out, e.g. --out runs/first');
  positiveInt('epochs', a.epochs, '20');
  positiveInt('batch-size', a['batch-size'], '256');
  if (a['batch-size'] < 2)
    throw new UserError(
      '--batch-size must be at least 2 (contrastive pairs need a batch), e.g. --batch-size 256',
    );
  if (!(a.lr > 0)) throw new UserError('--lr must be a number > 0, e.g. --lr 1e-3');
  if (!(a['min-lr'] >= 0 && a['min-lr'] <= a.lr))
    throw new UserError('--min-lr must be between 0 and --lr, e.g. --min-lr 1e-5');
  if (!(Number.isInteger(a.warmup) && a.warmup >= 0))
    throw new UserError('--warmup must be a whole number of steps ≥ 0, e.g. --warmup 100');
  if (!(Number.isInteger(a.blocks) && a.blocks >= 0))
    throw new UserError('--blocks must be a whole number ≥ 0, e.g. --blocks 6');
  fraction('dropout', a.dropout, '0.1');
  fraction('swap', a.swap, '0.2');
  fraction('mask-prob', a['mask-prob'], '0.15');
  fraction('val-split', a['val-split'], '0.1');
  if (!(a.temperature > 0))
    throw new UserError('--temperature must be a number > 0, e.g. --temperature 0.07');
  if (!(a.noise >= 0)) throw new UserError('--noise must be a number ≥ 0, e.g. --noise 0.1');
  if (!(Number.isInteger(a.patience) && a.patience >= 1))
    throw new UserError('--patience must be a whole number ≥ 1, e.g. --patience 5');
  if (!(a['min-delta'] >= 0)) throw new UserError('--min-delta must be a number ≥ 0, e.g. --min-delta 1e-4');
  if (!Number.isInteger(a.seed)) throw new UserError('--seed must be a whole number, e.g. --seed 1');
  if (a.threads !== undefined) positiveInt('threads', a.threads, '2');
  checkRejectFraction(a['max-reject-fraction'] ?? 0.5);
  if (a['max-minutes'] !== undefined && !(a['max-minutes'] > 0))
    throw new UserError('--max-minutes must be a number > 0, e.g. --max-minutes 3');
}

function readConfigFile(
  path: string | undefined,
): Partial<Record<keyof TrainingConfig, Record<string, unknown>>> {
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UserError(`cannot read --config ${path}: check the path`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`--config ${path} is not valid JSON (${(e as Error).message})`);
  }
}

/** The config with defaults filled in; a config error names the flag that set the key, when one did. */
function resolveWithFlags(json: unknown, explicit: Set<string>) {
  try {
    return resolveTrainingChoices(json);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const m = /^config key "([^"]+)" must be (.*); got (.*)$/.exec(e.message);
    const flag = m ? FLAG_OF_KEY[m[1]!] : undefined;
    if (!m || !flag || !explicit.has(flag.slice(2))) throw e;
    throw new UserError(
      `${flag} must be ${m[2]!.replace(/ \(e\.g\. (.+)\)$/, `, e.g. ${flag} $1`)}; got ${m[3]}`,
    );
  }
}

/** Run options from flags; a --config file fills the model/objective/optimizer sections, flags given explicitly win. */
export function runOptionsFrom(a: TrainArgs, explicit: Set<string>): RunOptions {
  const file = readConfigFile(a.config);
  const flag = <T>(name: string, value: T, fromFile: unknown): T =>
    explicit.has(name) || fromFile === undefined ? value : (fromFile as T);
  // A saved config.json carries the input widths too; the data decides them again, so they are dropped here.
  const { numNumerical: _n, cardinalities: _c, ...model } = file.model ?? {};
  const objective = file.objective ?? {};
  const config = resolveWithFlags(
    {
      model: {
        ...model,
        dModel: flag('d-model', a['d-model'], model.dModel),
        numBlocks: flag('blocks', a.blocks, model.numBlocks),
        dropout: flag('dropout', a.dropout, model.dropout),
      },
      objective: {
        ...objective,
        kind: flag('objective', a.objective, objective.kind),
        temperature: flag('temperature', a.temperature, objective.temperature),
        noiseLevel: flag('noise', a.noise, objective.noiseLevel),
        swapProb: flag('swap', a.swap, objective.swapProb),
        swapSampling: flag('swap-sampling', a['swap-sampling'], objective.swapSampling),
        maskProb: flag('mask-prob', a['mask-prob'], objective.maskProb),
      },
      optimizer: file.optimizer,
    },
    explicit,
  );
  const maxSeconds = a['max-minutes'] !== undefined ? a['max-minutes'] * 60 : undefined;
  return {
    inputs: a.inputs,
    out: a.out ?? a.resume!,
    config,
    fit: {
      ...FIT_DEFAULTS,
      epochs: a.epochs,
      lr: a.lr,
      minLr: a['min-lr'],
      schedule: a.schedule,
      warmupSteps: a.warmup,
      patience: a.patience,
      minDelta: a['min-delta'],
      maxSeconds,
    },
    resumeFit: {
      ...(explicit.has('epochs') ? { epochs: a.epochs } : {}),
      ...(explicit.has('patience') ? { patience: a.patience } : {}),
      ...(maxSeconds !== undefined ? { maxSeconds } : {}),
    },
    batchSize: a['batch-size'],
    valFraction: a['val-split'],
    seed: a.seed,
    device: a.device,
    threads: a.threads,
    specPath: a.spec,
    showSpec: a['show-spec'],
    verbose: !a.quiet && !a.json,
    maxRejectFraction: a['max-reject-fraction'],
  };
}

/** The summary `train --json` prints: where the run is, how training went, the scorer, detection quality. */
export function trainSummary(r: RunResult, f: FinishSummary) {
  const d = f.detection;
  return {
    run: r.runDir,
    model: r.modelPath,
    report: f.reportPath,
    finished: r.position.finished,
    stopReason: r.position.stopReason,
    epochs: r.position.epoch,
    steps: r.position.step,
    bestValLoss: r.position.best?.valLoss ?? null,
    trainRows: r.trainRows,
    valRows: r.valRows,
    rejected: r.load.rejected,
    seconds: r.seconds,
    samplesPerSecond: r.samplesPerSecond,
    device: r.device,
    scorer: f.scoring ? { method: f.scoring.method, threshold: f.scoring.threshold } : null,
    detection: d
      ? {
          on: d.on,
          rows: d.rows,
          anomalies: d.anomalies,
          rocAuc: d.rocAuc,
          prAuc: d.prAuc,
          atThreshold: d.atThreshold ?? null,
          precisionAtK: d.precisionAtK,
        }
      : null,
  };
}

const RUN_DIRECTORY_HELP = `A run directory holds:\n${(
  Object.keys(RUN_FILE_ROLES) as (keyof typeof RUN_FILES)[]
)
  .map((k) => `  ${RUN_FILES[k].padEnd(30)}${RUN_FILE_ROLES[k]}`)
  .join('\n')}`;

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train [inputs..]',
  describe:
    'Train an embedding model on OCSF events (JSONL, JSON, Parquet, Arrow; files, directories or globs)',
  builder: (y) =>
    y
      .positional('inputs', {
        type: 'string',
        array: true,
        default: [],
        describe: 'event files, directories or globs',
      })
      .options({
        out: { ...SHARED_OPTIONS.out, describe: 'run directory to create (what it holds: below)' },
        resume: {
          type: 'string',
          describe:
            'continue the run in this directory where it stopped (with --epochs: train a finished run on)',
        },
        objective: {
          choices: ['contrastive', 'mfp', 'both'] as const,
          default: OBJECTIVE_DEFAULTS.kind,
          describe: 'self-supervised objective (mfp: masked feature prediction)',
        },
        epochs: {
          type: 'number',
          default: FIT_DEFAULTS.epochs,
          describe: 'passes over the training events (fewer when early stopping or --max-minutes ends it)',
        },
        'batch-size': {
          type: 'number',
          default: RUN_DEFAULTS.batchSize,
          describe: 'events per training step (contrastive pairs come from within a batch)',
        },
        lr: { type: 'number', default: FIT_DEFAULTS.lr, describe: 'peak learning rate (AdamW)' },
        'min-lr': { type: 'number', default: FIT_DEFAULTS.minLr, describe: 'floor of the cosine schedule' },
        schedule: {
          choices: ['cosine', 'constant'] as const,
          default: FIT_DEFAULTS.schedule,
          describe: 'learning rate over the run: cosine decay to --min-lr, or constant',
        },
        warmup: { type: 'number', default: FIT_DEFAULTS.warmupSteps, describe: 'linear warm-up steps' },
        'd-model': {
          type: 'number',
          default: MODEL_DEFAULTS.dModel,
          describe: `embedding width (${D_MODEL_RULE})`,
        },
        blocks: { type: 'number', default: MODEL_DEFAULTS.numBlocks, describe: 'residual blocks' },
        dropout: {
          type: 'number',
          default: MODEL_DEFAULTS.dropout,
          describe: 'dropout probability in the residual blocks, in [0, 1)',
        },
        temperature: {
          type: 'number',
          default: OBJECTIVE_DEFAULTS.temperature,
          describe: 'NT-Xent temperature (the reference uses 0.07)',
        },
        noise: {
          type: 'number',
          default: OBJECTIVE_DEFAULTS.noiseLevel,
          describe: 'Gaussian noise on numericals per view',
        },
        swap: {
          type: 'number',
          default: OBJECTIVE_DEFAULTS.swapProb,
          describe: 'probability of replacing a categorical value per view (the reference uses 0.2)',
        },
        'swap-sampling': {
          choices: ['uniform', 'empirical'] as const,
          default: OBJECTIVE_DEFAULTS.swapSampling,
          describe: 'replacement values: by the column’s frequencies, or uniform (the reference)',
        },
        'mask-prob': {
          type: 'number',
          default: OBJECTIVE_DEFAULTS.maskProb,
          describe: 'MFP masking probability',
        },
        'val-split': {
          type: 'number',
          default: RUN_DEFAULTS.valFraction,
          describe: 'fraction of events held out for validation',
        },
        patience: {
          type: 'number',
          default: FIT_DEFAULTS.patience,
          describe: 'epochs without validation improvement before stopping',
        },
        'min-delta': {
          type: 'number',
          default: FIT_DEFAULTS.minDelta,
          describe: 'smallest drop in validation loss that counts as an improvement',
        },
        seed: {
          type: 'number',
          default: RUN_DEFAULTS.seed,
          describe:
            'seed of the weights, the split, the shuffling and the augmentations (same seed, same run)',
        },
        device: SHARED_OPTIONS.device,
        threads: SHARED_OPTIONS.threads,
        spec: {
          type: 'string',
          describe:
            'feature spec: overrides JSON (docs/features.md), or a fitted spec from `features --out` used as is',
        },
        config: { type: 'string', describe: 'training config JSON: { model, objective, optimizer }' },
        'max-minutes': {
          type: 'number',
          describe: 'time budget: stop after the epoch in which this much time has passed',
        },
        ...REJECT_OPTIONS,
        labels: {
          type: 'string',
          describe:
            'labels (uid, is_anomaly; .jsonl[.gz] or .parquet as `generate` writes) to measure detection on the validation events',
        },
        'show-spec': {
          type: 'boolean',
          default: false,
          describe: 'print the whole feature table (report.html always has it)',
        },
        quiet: { ...SHARED_OPTIONS.quiet, describe: 'print nothing but errors' },
        json: SHARED_OPTIONS.json,
      })
      .example('$0 train events.jsonl --out runs/first', 'train with the defaults')
      .example('$0 train logs/*.parquet -o runs/mfp --objective mfp --epochs 50', 'masked feature prediction')
      .example('$0 train --resume runs/first', 'continue an interrupted run')
      .example('$0 train --resume runs/first --epochs 30', 'train a finished run on to 30 epochs')
      .example(
        '$0 train new.jsonl -o runs/v2 --spec runs/first/spec.json',
        "reuse a run's features (frozen vocabulary)",
      )
      .epilog(RUN_DIRECTORY_HELP)
      .check((a) => {
        checkTrainArgs(a as unknown as TrainArgs, explicitFlags(process.argv.slice(2)));
        return true;
      }),
  handler: async (a) => {
    const explicit = explicitFlags(process.argv.slice(2));
    const options = runOptionsFrom(a, explicit);
    // Read the labels first: a bad labels file should not cost a training run.
    const read = a.labels ? await readLabelsFile(a.labels) : undefined;
    const interrupt = interruptOnSigint(options.verbose !== false);
    let result: RunResult;
    try {
      result = await trainRun({ ...options, stop: interrupt.signal }, Boolean(a.resume));
    } finally {
      interrupt.dispose();
    }
    const finished = await finishRun(result, {
      labels: read?.labels,
      scenarios: read?.scenarios,
      verbose: options.verbose,
    });
    if (a.json) console.log(JSON.stringify(trainSummary(result, finished)));
    // Interrupted: the checkpoint is saved, but the run is not done (128 + SIGINT, as shells report it).
    if (result.position.stopReason === INTERRUPTED) process.exitCode = 130;
  },
};
