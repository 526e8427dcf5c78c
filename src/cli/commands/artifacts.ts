// `ocsf-embed artifacts`: the training graphs, initial weights and manifest for a model config.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { buildArtifacts } from '../../../graphs/artifacts.ts';
import { resolveTrainingConfig } from '../../../graphs/config.ts';
import { UserError } from '../../core/errors.ts';
import { encodeSafetensors } from '../../io/safetensors.ts';
import { SHARED_OPTIONS } from '../options.ts';

interface ArtifactsArgs {
  config: string;
  out: string;
  'batch-size': number;
  seed: number;
}

/** Writes train_step.onnx, eval_step.onnx, encoder.onnx, initial.safetensors and manifest.json into `out`. */
export function writeArtifacts(configJson: unknown, out: string, batchSize: number, seed: number): string[] {
  const config = resolveTrainingConfig(configJson);
  const a = buildArtifacts(config, batchSize, seed);
  mkdirSync(out, { recursive: true });
  const files: [string, Uint8Array | string][] = [
    ['train_step.onnx', a.trainStep],
    ['eval_step.onnx', a.evalStep],
    ['encoder.onnx', a.encoder],
    [
      'initial.safetensors',
      encodeSafetensors(a.initial, { format: 'ocsf-embed.initial/1', seed: String(seed) }),
    ],
    ['manifest.json', `${JSON.stringify(a.manifest, null, 2)}\n`],
  ];
  for (const [name, data] of files) writeFileSync(join(out, name), data);
  return files.map(([name]) => join(out, name));
}

export const artifactsCommand: CommandModule<object, ArtifactsArgs> = {
  command: 'artifacts',
  describe:
    'Write the training graphs (train/eval step, encoder), initial weights and manifest for a model config',
  builder: (y) =>
    y
      .options({
        config: {
          type: 'string',
          demandOption: 'give the model config, e.g. --config config.json',
          describe: 'JSON: { model, objective, optimizer }',
        },
        out: {
          ...SHARED_OPTIONS.out,
          demandOption: 'give the output directory, e.g. --out artifacts/',
          describe: 'output directory',
        },
        'batch-size': { type: 'number', default: 256, describe: 'batch size of the train step (static)' },
        seed: { type: 'number', default: 1, describe: 'seed of the initial weights' },
      })
      .example('$0 artifacts --config demo.json --out artifacts/', '')
      .example(
        `echo '{"model":{"numNumerical":50,"cardinalities":[100,50,200,1000]}}' > demo.json`,
        'the demo config',
      ),
  handler: (a) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(a.config, 'utf8'));
    } catch (e) {
      throw new UserError(`cannot read --config ${a.config} as JSON (${(e as Error).message})`);
    }
    if (!Number.isInteger(a['batch-size']) || a['batch-size'] < 2)
      throw new UserError('--batch-size must be a whole number ≥ 2, e.g. --batch-size 256');
    for (const f of writeArtifacts(json, a.out, a['batch-size'], a.seed)) console.log(`wrote ${f}`);
  },
};
