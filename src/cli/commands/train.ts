// `ocsf-embed train`: the options table, its checks, and a thin runner over trainRun.
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import type { TrainingConfig } from '../../../graphs/artifacts.ts';
import { OBJECTIVE_DEFAULTS, resolveTrainingChoices } from '../../../graphs/config.ts';
import { UserError } from '../../core/errors.ts';
import { DEVICES, type Device } from '../../runtime/session.ts';
import { finishRun } from '../../train/finish.node.ts';
import { FIT_DEFAULTS, type RunOptions, trainRun } from '../../train/run.node.ts';

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
}

function positiveInt(name: string, v: number, example: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new UserError(`--${name} must be a whole number ≥ 1, e.g. --${name} ${example}`);
}

function fraction(name: string, v: number, example: string, allowZero = true): void {
  if (!(v >= 0 && v < 1) || (!allowZero && v === 0))
    throw new UserError(`--${name} must be a number in [0, 1), e.g. --${name} ${example}`);
}

/** Checks every flag; each error says what to type instead. */
export function checkTrainArgs(a: TrainArgs): void {
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
  if (!(Number.isInteger(a['d-model']) && a['d-model'] >= 4 && a['d-model'] % 4 === 0)) {
    throw new UserError('--d-model must be a whole number divisible by 4, e.g. --d-model 256');
  }
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

/** Run options from flags; a --config file fills the model/objective/optimizer sections, flags given explicitly win. */
export function runOptionsFrom(a: TrainArgs, explicit: Set<string>): RunOptions {
  const file = readConfigFile(a.config);
  const flag = <T>(name: string, value: T, fromFile: unknown): T =>
    explicit.has(name) || fromFile === undefined ? value : (fromFile as T);
  // A saved config.json carries the input widths too; the data decides them again, so they are dropped here.
  const { numNumerical: _n, cardinalities: _c, ...model } = file.model ?? {};
  const objective = file.objective ?? {};
  const config = resolveTrainingChoices({
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
  });
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
      maxSeconds: a['max-minutes'] !== undefined ? a['max-minutes'] * 60 : undefined,
    },
    batchSize: a['batch-size'],
    valFraction: a['val-split'],
    seed: a.seed,
    device: a.device,
    threads: a.threads,
    specPath: a.spec,
  };
}

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
        out: { type: 'string', describe: 'run directory (checkpoints, metrics, report, model.onnx)' },
        resume: { type: 'string', describe: 'continue the run in this directory where it stopped' },
        objective: {
          choices: ['contrastive', 'mfp', 'both'] as const,
          default: 'contrastive' as const,
          describe: 'self-supervised objective',
        },
        epochs: { type: 'number', default: 20 },
        'batch-size': { type: 'number', default: 256 },
        lr: { type: 'number', default: 1e-3, describe: 'peak learning rate (AdamW)' },
        'min-lr': { type: 'number', default: 0, describe: 'floor of the cosine schedule' },
        schedule: { choices: ['cosine', 'constant'] as const, default: 'cosine' as const },
        warmup: { type: 'number', default: 0, describe: 'linear warm-up steps' },
        'd-model': { type: 'number', default: 256, describe: 'embedding width (divisible by 4)' },
        blocks: { type: 'number', default: 6, describe: 'residual blocks' },
        dropout: { type: 'number', default: 0.1 },
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
        'val-split': { type: 'number', default: 0.1, describe: 'fraction of events held out for validation' },
        patience: {
          type: 'number',
          default: 5,
          describe: 'epochs without validation improvement before stopping',
        },
        'min-delta': { type: 'number', default: 1e-4 },
        seed: { type: 'number', default: 1 },
        device: {
          choices: DEVICES,
          default: 'auto' as Device,
          describe: 'ONNX Runtime device (auto: CUDA when set up, else CPU)',
        },
        threads: { type: 'number', describe: 'intra-op threads (default: 1 on 2-core hosts)' },
        spec: { type: 'string', describe: 'feature spec overrides (JSON; see docs/features.md)' },
        config: { type: 'string', describe: 'training config JSON: { model, objective, optimizer }' },
        'max-minutes': {
          type: 'number',
          describe: 'stop after the epoch in which this much time has passed',
        },
        labels: {
          type: 'string',
          describe: 'labels JSONL (uid, is_anomaly) to report detection quality on the validation events',
        },
      })
      .example('$0 train events.jsonl --out runs/first', 'train with the defaults')
      .example(
        '$0 train logs/*.parquet --out runs/mfp --objective mfp --epochs 50',
        'masked feature prediction',
      )
      .example('$0 train --resume runs/first', 'continue an interrupted run')
      .check((a) => {
        checkTrainArgs(a as unknown as TrainArgs);
        return true;
      }),
  handler: async (a) => {
    const explicit = new Set(
      process.argv.filter((s) => s.startsWith('--')).map((s) => s.slice(2).split('=')[0]!),
    );
    const options = runOptionsFrom(a, explicit);
    const result = await trainRun(options, Boolean(a.resume));
    await finishRun(result, { labels: a.labels });
  },
};
