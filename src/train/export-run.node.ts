// Re-exporting model.onnx from a run directory's best or last checkpoint (`ocsf-embed export`, and the
// library's `exportRun`).
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { TrainingConfig } from '../../graphs/artifacts.ts';
import { UserError } from '../core/errors.ts';
import { parseSpec } from '../features/spec.ts';
import { writeFileAtomic } from '../io/atomic.node.ts';
import { loadCheckpoint } from '../run/checkpoint.node.ts';
import { RUN_FILES } from '../run/layout.ts';
import { exportModel } from './run.node.ts';

/** What `exportRun` wrote. */
export interface ExportResult {
  out: string;
  checkpoint: 'best' | 'last';
  bytes: number;
  step: number;
  epoch: number;
  bestValLoss: number | null;
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(
      `${path} (${what}) cannot be read as JSON (${(e as Error).message}): the run directory is damaged`,
    );
  }
}

/** Builds model.onnx from a run's checkpoint (best by default, last when there is no best) and writes it to `out`. */
export function exportRun(run: string, out: string, which?: 'best' | 'last'): ExportResult {
  if (!existsSync(run) || !statSync(run).isDirectory()) {
    throw new UserError(
      `${run} is not a run directory: give the --out directory of \`ocsf-embed train\`, e.g. runs/first`,
    );
  }
  const configPath = join(run, RUN_FILES.config);
  const specPath = join(run, RUN_FILES.spec);
  if (!existsSync(configPath) || !existsSync(specPath)) {
    throw new UserError(
      `${run} holds no training run (no ${RUN_FILES.config} / ${RUN_FILES.spec}): give the --out directory of \`ocsf-embed train\``,
    );
  }
  const hasBest = existsSync(join(run, RUN_FILES.best));
  const checkpoint = which ?? (hasBest ? 'best' : 'last');
  const file = join(run, checkpoint === 'best' ? RUN_FILES.best : RUN_FILES.last);
  if (!existsSync(file)) {
    throw new UserError(
      checkpoint === 'best' && existsSync(join(run, RUN_FILES.last))
        ? `${run} has no best checkpoint (no validation loss was recorded): use --checkpoint last`
        : `${run} has no checkpoint yet: train first with \`ocsf-embed train <events> --out ${run}\``,
    );
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UserError(`--out ${out} is a folder: give a file name, e.g. --out ${join(out, 'model.onnx')}`);
  }
  const saved = readJson(configPath, 'run config') as { config?: TrainingConfig };
  if (!saved.config?.model)
    throw new UserError(`${configPath} has no model config: the run directory is damaged`);
  let spec: ReturnType<typeof parseSpec>;
  try {
    spec = parseSpec(readFileSync(specPath, 'utf8'));
  } catch (e) {
    throw new UserError(
      `${specPath} is not a fitted feature spec (${(e as Error).message}): the run directory is damaged`,
    );
  }
  const c = loadCheckpoint(file);
  const info = { ...c.info };
  delete info.config;
  delete info.batchSize;
  delete info.seed;
  const bytes = exportModel(spec, saved.config, c, info);
  mkdirSync(dirname(resolve(out)), { recursive: true });
  writeFileAtomic(out, bytes);
  return {
    out,
    checkpoint,
    bytes: bytes.byteLength,
    step: c.position.step,
    epoch: c.position.epoch,
    bestValLoss: c.position.best?.valLoss ?? null,
  };
}
