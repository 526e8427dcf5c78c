// `ocsf-embed eval <run> <inputs…>`: validation loss and embedding statistics of a run on new events.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { trainingSpecs } from '../../../graphs/artifacts.ts';
import { withInputs } from '../../../graphs/config.ts';
import { flatLayout } from '../../../graphs/optim/adamw.ts';
import { UserError } from '../../core/errors.ts';
import { encodeDataset } from '../../dataset/dataset.ts';
import { formatLoadSummary, loadEvents, rejectUnfit } from '../../dataset/load.node.ts';
import { loadEmbedder } from '../../embed/embedder.node.ts';
import { specInputWidths } from '../../features/encode.ts';
import { parseSpec } from '../../features/spec.ts';
import { loadCheckpoint } from '../../run/checkpoint.node.ts';
import { RUN_FILES } from '../../run/layout.ts';
import { createSession, type Device, graphTargetFor } from '../../runtime/session.node.ts';
import { readRunFile } from '../../train/run.node.ts';
import { Trainer } from '../../train/trainer.ts';
import { SHARED_OPTIONS } from '../options.ts';

interface EvalArgs {
  run: string;
  inputs: string[];
  checkpoint: 'best' | 'last';
  device: Device;
  json: boolean;
}

/** Spread of embeddings: mean norm, mean cosine to the centroid, per-dimension std, effective rank. */
export function embeddingStats(x: Float32Array, d: number): Record<string, number> {
  const n = x.length / d;
  const mean = new Float64Array(d);
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      mean[j]! += v / n;
      s += v * v;
    }
    norm += Math.sqrt(s) / n;
  }
  const variance = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) variance[j]! += (x[i * d + j]! - mean[j]!) ** 2 / n;
  const total = variance.reduce((a, v) => a + v, 0);
  // Effective rank of the per-dimension variances (exp of their entropy): d when spread evenly, 1 when collapsed.
  const entropy = variance.reduce((a, v) => (v > 0 ? a - (v / total) * Math.log(v / total) : a), 0);
  const centroidNorm = Math.sqrt(mean.reduce((a, v) => a + v * v, 0));
  return {
    events: n,
    dimension: d,
    mean_norm: norm,
    centroid_norm: centroidNorm,
    mean_dimension_std: variance.reduce((a, v) => a + Math.sqrt(v), 0) / d,
    effective_dimensions: Math.exp(entropy),
  };
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval <run> <inputs..>',
  describe: "A run's validation loss and embedding statistics on new events",
  builder: (y) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'run directory' })
      .positional('inputs', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'event files, directories or globs',
      })
      .options({
        checkpoint: { choices: ['best', 'last'] as const, default: 'best' as const },
        device: SHARED_OPTIONS.device,
        json: { ...SHARED_OPTIONS.json, describe: 'print one JSON object' },
      })
      .example('$0 eval runs/demo runs/demo/data/heldout.jsonl', ''),
  handler: async (a) => {
    const configPath = join(a.run, RUN_FILES.config);
    if (!existsSync(configPath))
      throw new UserError(
        `${a.run} is not a run directory (no ${RUN_FILES.config}); train one with \`ocsf-embed train\``,
      );
    const saved = readRunFile(configPath, (t) => JSON.parse(t));
    const spec = readRunFile(join(a.run, RUN_FILES.spec), parseSpec);
    const config = withInputs(saved.config, specInputWidths(spec));
    let loaded = await loadEvents(a.inputs, { spec });
    loaded = rejectUnfit(loaded, spec);
    if (!a.json) console.log(formatLoadSummary(loaded.summary));
    const ds = encodeDataset(spec, loaded.records);
    const file = join(a.run, a.checkpoint === 'best' ? RUN_FILES.best : RUN_FILES.last);
    const checkpoint = loadCheckpoint(file, flatLayout(trainingSpecs(config)));
    const resumed = await Trainer.create({
      config,
      batchSize: saved.batchSize,
      seed: saved.seed,
      resume: checkpoint,
      createSession: async (bytes) => (await createSession(bytes, { device: a.device })).session,
      target: graphTargetFor(a.device),
    });
    const { loss, metrics } = await resumed.evaluate(ds);
    await resumed.release();
    const result: Record<string, unknown> = { loss, ...metrics };
    const modelPath = join(a.run, RUN_FILES.model);
    if (existsSync(modelPath)) {
      const { embedder } = await loadEmbedder(modelPath, { device: a.device });
      result.embeddings = embeddingStats(
        await embedder.embed(loaded.records, { normalized: false }),
        embedder.dimension,
      );
      await embedder.release();
    }
    if (a.json) console.log(JSON.stringify(result));
    else {
      console.log(`loss (eval mode, augmentation on): ${loss.toFixed(4)}`);
      for (const [k, v] of Object.entries(metrics)) console.log(`${k}: ${v.toFixed(4)}`);
      for (const [k, v] of Object.entries((result.embeddings as Record<string, number>) ?? {})) {
        console.log(`embeddings ${k}: ${Number.isInteger(v) ? v : v.toFixed(4)}`);
      }
    }
  },
};
