// Training configuration: defaults, resolution of user JSON, and validation with messages naming the key.
import { MODEL_DEFAULTS, type ModelConfig } from './models/tabular-resnet.ts';
import { ADAMW_DEFAULTS, type AdamWConfig } from './optim/adamw.ts';

/** What the data decides: the encoder's input widths, read off the fitted feature spec. */
export interface InputWidths {
  numNumerical: number;
  cardinalities: number[];
}

/** What the user chooses for the model: its width, depth and dropout. */
export type ModelChoices = Omit<ModelConfig, keyof InputWidths>;

/** What the user chooses for a run: the model, the objective and the optimizer. */
export interface TrainingChoices {
  model: ModelChoices;
  objective: ObjectiveConfig;
  optimizer: AdamWConfig;
}

/** A complete configuration: the user's choices with the input widths the data decides. */
export interface TrainingConfig extends TrainingChoices {
  model: ModelConfig;
}

/** The self-supervised objective and its augmentation. */
export interface ObjectiveConfig {
  /** 'contrastive' (NT-Xent over two augmented views), 'mfp' (masked feature prediction) or 'both'. */
  kind: 'contrastive' | 'mfp' | 'both';
  /** NT-Xent temperature τ. */
  temperature: number;
  /** Std of the Gaussian noise added to standardised numericals in each view. */
  noiseLevel: number;
  /** Probability of replacing each categorical cell in a view. */
  swapProb: number;
  /** Draw replacements uniformly over the column (the reference) or from its empirical frequencies (SCARF). */
  swapSampling: 'uniform' | 'empirical';
  /** MFP: probability of masking each cell. */
  maskProb: number;
  /** MFP: weight of the numerical MSE against the categorical cross-entropy. */
  numericalWeight: number;
  /** 'both': weights of the two losses. */
  contrastiveWeight: number;
  mfpWeight: number;
  /** Each column's last id is the [MASK] id, never a data value (the feature encoder reserves it). */
  reserveMaskId: boolean;
  /** MFP masks come from graph inputs instead of the RNG (for parity tests). */
  maskInputs: boolean;
}

/**
 * Product defaults (docs/decisions.md, "Objective defaults"): masked feature prediction, chosen on the
 * deployment protocol (train on an earlier window, score the later one) across data shapes; for the
 * contrastive objective a warmer temperature and sparser
 * swaps drawn from each column's frequencies keep rare values rare in embedding space. The
 * reference's settings are τ 0.07, swapProb 0.2, uniform swaps (`REFERENCE_OBJECTIVE`).
 */
export const OBJECTIVE_DEFAULTS: ObjectiveConfig = {
  kind: 'mfp',
  temperature: 0.2,
  noiseLevel: 0.1,
  swapProb: 0.1,
  swapSampling: 'empirical',
  maskProb: 0.15,
  numericalWeight: 1,
  contrastiveWeight: 1,
  mfpWeight: 1,
  reserveMaskId: true,
  maskInputs: false,
};

/** The reference tutorial's contrastive settings (for parity and benchmarks). */
export const REFERENCE_OBJECTIVE: Partial<ObjectiveConfig> = {
  temperature: 0.07,
  swapProb: 0.2,
  swapSampling: 'uniform',
  reserveMaskId: false,
};

/** A configuration problem; the message names the key and says what is allowed. */
export class ConfigError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

function merge<T extends object>(section: string, defaults: T, given: unknown): T {
  if (given === undefined) return { ...defaults };
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError(`config key "${section}" must be an object`);
  }
  const out = { ...defaults } as Json;
  for (const [k, v] of Object.entries(given as Json)) {
    if (!(k in defaults)) {
      const hint = Object.keys(defaults).find((d) => d.toLowerCase() === k.toLowerCase());
      throw new ConfigError(
        `unknown config key "${section}.${k}"${hint ? ` (did you mean "${section}.${hint}"?)` : ''}; known keys: ${Object.keys(defaults).join(', ')}`,
      );
    }
    out[k] = v;
  }
  return out as T;
}

function jsonObject(json: unknown): Json {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ConfigError('the config must be a JSON object');
  const top = json as Json;
  for (const k of Object.keys(top)) {
    if (!['model', 'objective', 'optimizer'].includes(k)) {
      throw new ConfigError(`unknown config key "${k}"; known keys: model, objective, optimizer`);
    }
  }
  return top;
}

/** Fills defaults into the user's choices (JSON: { model, objective, optimizer }) and validates them. */
export function resolveTrainingChoices(json: unknown): TrainingChoices {
  const top = jsonObject(json);
  const choices: TrainingChoices = {
    model: merge<ModelChoices>('model', { ...MODEL_DEFAULTS }, top.model),
    objective: merge('objective', OBJECTIVE_DEFAULTS, top.objective),
    optimizer: merge<AdamWConfig>('optimizer', ADAMW_DEFAULTS, top.optimizer),
  };
  validateChoices(choices);
  return choices;
}

/** The complete configuration: `choices` with the input widths the data decides; validates the widths. */
export function withInputs(choices: TrainingChoices, widths: InputWidths): TrainingConfig {
  const config: TrainingConfig = {
    ...choices,
    model: { ...choices.model, numNumerical: widths.numNumerical, cardinalities: [...widths.cardinalities] },
  };
  validateInputs(config);
  return config;
}

/**
 * Resolves a complete configuration given as JSON, input widths included (`model.numNumerical`,
 * `model.cardinalities`): graphs built without a feature spec, and run directories' config.json.
 */
export function resolveTrainingConfig(json: unknown): TrainingConfig {
  const top = jsonObject(json);
  const isObject = typeof top.model === 'object' && top.model !== null && !Array.isArray(top.model);
  const { numNumerical = 0, cardinalities = [], ...modelChoices } = isObject ? (top.model as Json) : {};
  const choices = resolveTrainingChoices({ ...top, model: isObject ? modelChoices : top.model });
  return withInputs(choices, { numNumerical, cardinalities } as InputWidths);
}

/** What the embedding width must be (four feature groups share it); the one statement of the rule. */
export const D_MODEL_RULE = 'a whole number divisible by 4';

const isInt = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

const fail = (key: string, want: string, got: unknown): never => {
  throw new ConfigError(`config key "${key}" must be ${want}; got ${JSON.stringify(got)}`);
};

/** Throws a ConfigError naming the first bad key of a complete configuration. */
export function validateConfig(c: TrainingConfig): void {
  validateChoices(c);
  validateInputs(c);
}

/** Checks the input widths against the model and objective. */
function validateInputs(c: TrainingConfig): void {
  const m = c.model;
  if (!isInt(m.numNumerical) || m.numNumerical < 0)
    fail('model.numNumerical', 'a whole number ≥ 0', m.numNumerical);
  if (!Array.isArray(m.cardinalities))
    fail('model.cardinalities', 'an array of whole numbers ≥ 1', m.cardinalities);
  m.cardinalities.forEach((k, i) => {
    if (!isInt(k) || k < 1) fail(`model.cardinalities[${i}]`, 'a whole number ≥ 1', k);
  });
  if (m.numNumerical === 0 && m.cardinalities.length === 0) {
    throw new ConfigError(
      'config keys "model.numNumerical" and "model.cardinalities" are both empty: the model needs at least one input column',
    );
  }
  if (c.objective.kind !== 'contrastive' && m.cardinalities.some((k) => k < 2)) {
    throw new ConfigError(
      'config key "model.cardinalities" must be ≥ 2 for MFP: the last id of each column is its [MASK] id',
    );
  }
}

/** Checks what the user chooses: the model's size, the objective and the optimizer. */
function validateChoices(c: TrainingChoices): void {
  const m = c.model;
  if (!isInt(m.dModel) || m.dModel < 4 || m.dModel % 4 !== 0)
    fail('model.dModel', `${D_MODEL_RULE} (e.g. 256)`, m.dModel);
  if (!isInt(m.numBlocks) || m.numBlocks < 0) fail('model.numBlocks', 'a whole number ≥ 0', m.numBlocks);
  if (!isNum(m.dropout) || m.dropout < 0 || m.dropout >= 1)
    fail('model.dropout', 'a number in [0, 1)', m.dropout);
  const o = c.objective;
  if (!['contrastive', 'mfp', 'both'].includes(o.kind))
    fail('objective.kind', '"contrastive", "mfp" or "both"', o.kind);
  if (!isNum(o.temperature) || o.temperature <= 0)
    fail('objective.temperature', 'a number > 0 (e.g. 0.07)', o.temperature);
  if (!isNum(o.noiseLevel) || o.noiseLevel < 0) fail('objective.noiseLevel', 'a number ≥ 0', o.noiseLevel);
  for (const k of ['swapProb', 'maskProb'] as const) {
    if (!isNum(o[k]) || o[k] < 0 || o[k] >= 1) fail(`objective.${k}`, 'a number in [0, 1)', o[k]);
  }
  if (!['uniform', 'empirical'].includes(o.swapSampling))
    fail('objective.swapSampling', '"uniform" or "empirical"', o.swapSampling);
  for (const k of ['numericalWeight', 'contrastiveWeight', 'mfpWeight'] as const) {
    if (!isNum(o[k]) || o[k] < 0) fail(`objective.${k}`, 'a number ≥ 0', o[k]);
  }
  const p = c.optimizer;
  for (const k of ['weightDecay', 'eps'] as const)
    if (!isNum(p[k]) || p[k] < 0) fail(`optimizer.${k}`, 'a number ≥ 0', p[k]);
  for (const k of ['beta1', 'beta2'] as const)
    if (!isNum(p[k]) || p[k] < 0 || p[k] >= 1) fail(`optimizer.${k}`, 'a number in [0, 1)', p[k]);
  if (!['all', 'matrices'].includes(p.decay)) fail('optimizer.decay', '"all" or "matrices"', p.decay);
  if (p.clipNorm !== null && (!isNum(p.clipNorm) || p.clipNorm <= 0))
    fail('optimizer.clipNorm', 'a number > 0 or null', p.clipNorm);
}
