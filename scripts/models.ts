// `npm run models`: regenerates models/ — the training graphs (train_step.onnx, eval_step.onnx and their
// manifest) of the standard configurations, small / base / large for each objective, and the default model
// (a small run trained on generated events) that the examples and the page's sample offer use.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildArtifacts, type TrainingConfig } from '../graphs/artifacts.ts';
import { resolveTrainingConfig } from '../graphs/config.ts';
import { generate } from '../src/data/generate/index.ts';
import { RUN_FILES } from '../src/run/layout.ts';
import { train } from '../src/train/api.node.ts';
import { CARDINALITIES, CONFIG_NAMES, modelSize, NUM_NUMERICAL } from './bench/configs.ts';

/** The repository's models/ folder. */
export const MODELS_DIR = resolve(import.meta.dirname, '..', 'models');

/** The objectives every standard configuration is built for. */
export const OBJECTIVES = ['contrastive', 'mfp', 'both'] as const;

/** Rows per training step of the committed train_step graphs (a static dimension of the graph). */
export const STANDARD_BATCH = 256;

/** The standard configuration `<size>-<objective>`: the benchmark's model sizes on its 50 + 4 columns. */
export function standardConfig(size: (typeof CONFIG_NAMES)[number], objective: string): TrainingConfig {
  const s = modelSize(size, false);
  return resolveTrainingConfig({
    model: {
      numNumerical: NUM_NUMERICAL,
      cardinalities: CARDINALITIES,
      dModel: s.dModel,
      numBlocks: s.numBlocks,
      dropout: 0.1,
    },
    objective: { kind: objective },
  });
}

/** The committed graph files, by path under models/: `<size>-<objective>/{train_step,eval_step}.onnx, manifest.json`. */
export function trainingGraphFiles(): Map<string, Uint8Array | string> {
  const files = new Map<string, Uint8Array | string>();
  for (const size of CONFIG_NAMES) {
    for (const objective of OBJECTIVES) {
      const dir = `${size}-${objective}`;
      const a = buildArtifacts(standardConfig(size, objective), STANDARD_BATCH, 1);
      files.set(`${dir}/train_step.onnx`, a.trainStep);
      files.set(`${dir}/eval_step.onnx`, a.evalStep);
      files.set(`${dir}/manifest.json`, `${JSON.stringify(a.manifest, null, 2)}\n`);
    }
  }
  return files;
}

/** The default model's files, copied from its run: what embedding and scoring need. */
export const DEFAULT_MODEL_FILES = [
  RUN_FILES.model,
  RUN_FILES.reconstruction,
  RUN_FILES.reference,
  RUN_FILES.scorer,
] as const;

/** Trains the default model (3,000 generated events, d-model 32, 2 blocks, 15 epochs) and copies it into `dir`. */
export async function trainDefaultModel(dir: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'ocsf-embed-default-model-'));
  try {
    const { events } = generate({ events: 3000, seed: 11 });
    const run = await train({
      events,
      out: join(work, 'run'),
      config: { model: { dModel: 32, numBlocks: 2, dropout: 0.1 } },
      fit: { epochs: 15, lr: 1e-3, patience: 3 },
      batchSize: 128,
      seed: 11,
      threads: 1,
    });
    if (!run.modelPath) throw new Error('the default model did not finish training');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const name of DEFAULT_MODEL_FILES) cpSync(join(run.runDir, name), join(dir, name));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'graphs-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run models [-- --graphs-only]\n\nRegenerates the training graphs of the standard configurations in models/ and (unless --graphs-only) the default model in models/default.',
    );
    return;
  }
  for (const [path, data] of trainingGraphFiles()) {
    mkdirSync(join(MODELS_DIR, path, '..'), { recursive: true });
    writeFileSync(join(MODELS_DIR, path), data);
    console.log(`models/${path}`);
  }
  if (!values['graphs-only']) {
    await trainDefaultModel(join(MODELS_DIR, 'default'));
    for (const name of DEFAULT_MODEL_FILES) console.log(`models/default/${name}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
