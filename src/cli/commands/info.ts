// `ocsf-embed info`: what a run directory or a model.onnx holds: model and training config, feature spec
// summary, graph inputs and outputs, training position and best loss, scorer, versions, file sizes.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { readMetadata } from '../../../graphs/onnx/metadata.ts';
import { DataType, ModelProto } from '../../../graphs/onnx/schema.ts';
import { UserError } from '../../core/errors.ts';
import { META, MODEL_FORMAT } from '../../embed/export.ts';
import { parseSpec } from '../../features/spec.ts';
import { RUN_FILES } from '../../run/layout.ts';
import { SHARED_OPTIONS } from '../options.ts';

/** Parsed arguments of `ocsf-embed info`. */
export interface InfoArgs {
  path: string;
  json: boolean;
}

/** A graph input or output. */
export interface TensorInfo {
  name: string;
  type: string;
  shape: (number | string)[];
}

/** What a model.onnx holds. */
export interface ModelInfo {
  path: string;
  bytes: number;
  format: string | null;
  irVersion: number;
  opsets: Record<string, number>;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  model: Record<string, unknown> | null;
  spec: {
    categorical: number;
    numerical: number;
    uidPath: string | null;
    timeZone: string;
    fittedRows: number;
    categoricalPaths: string[];
    numericalPaths: string[];
  } | null;
  info: Record<string, unknown>;
}

/** What a run directory holds. */
export interface RunInfo {
  path: string;
  createdAt: string | null;
  inputs: string[];
  config: Record<string, unknown> | null;
  fit: Record<string, unknown> | null;
  batchSize: number | null;
  seed: number | null;
  checkpoints: Record<string, Record<string, unknown> | null>;
  scorer: {
    method: string;
    threshold: number;
    thresholdPercentile: number;
    referenceEvents: number;
    components?: string[];
  } | null;
  files: { name: string; bytes: number }[];
  model: ModelInfo | null;
}

const TYPE_NAMES = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k.toLowerCase()]));

function tensorInfo(v: {
  name: string;
  type?: {
    tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } };
  };
}): TensorInfo {
  const t = v.type?.tensorType;
  const type = TYPE_NAMES[t?.elemType ?? 0] ?? 'unknown';
  return {
    name: v.name,
    type: type === 'float' ? 'float32' : type,
    shape: (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  };
}

/** Reads what a model.onnx holds without creating a session. */
export function modelInfo(path: string): ModelInfo {
  const bytes = readFileSync(path);
  let decoded: {
    irVersion?: unknown;
    opsetImport?: { domain?: string; version?: unknown }[];
    graph?: { input?: Parameters<typeof tensorInfo>[0][]; output?: Parameters<typeof tensorInfo>[0][] };
  };
  try {
    decoded = ModelProto.decode(bytes) as unknown as typeof decoded;
  } catch (e) {
    throw new UserError(
      `${path} is not an ONNX model (${(e as Error).message}): give a model.onnx or a run directory`,
    );
  }
  const meta = readMetadata(bytes);
  const specText = meta.get(META.spec);
  const spec = specText ? parseSpec(specText) : null;
  return {
    path,
    bytes: bytes.byteLength,
    format: meta.get(META.format) ?? null,
    irVersion: Number(decoded.irVersion ?? 0),
    opsets: Object.fromEntries(
      (decoded.opsetImport ?? []).map((o) => [o.domain || 'ai.onnx', Number(o.version ?? 0)]),
    ),
    inputs: (decoded.graph?.input ?? []).map(tensorInfo),
    outputs: (decoded.graph?.output ?? []).map(tensorInfo),
    model: meta.has(META.model) ? (JSON.parse(meta.get(META.model)!) as Record<string, unknown>) : null,
    spec: spec
      ? {
          categorical: spec.categorical.length,
          numerical: spec.numerical.length,
          uidPath: spec.uidPath,
          timeZone: spec.timeZone,
          fittedRows: spec.rows,
          categoricalPaths: spec.categorical.map((c) => c.name),
          numericalPaths: spec.numerical.map((n) => n.name),
        }
      : null,
    info: meta.has(META.info) ? (JSON.parse(meta.get(META.info)!) as Record<string, unknown>) : {},
  };
}

/** The JSON metadata of a safetensors file, read from its header only. */
export function safetensorsMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    if (!(n > 0 && n < 100 * 1024 * 1024)) return {};
    const header = Buffer.alloc(n);
    readSync(fd, header, 0, n, 8);
    const parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> };
    return parsed.__metadata__ ?? {};
  } catch {
    return {};
  } finally {
    closeSync(fd);
  }
}

function readJsonFile(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Reads what a run directory holds. */
export function runInfo(dir: string): RunInfo {
  const saved = readJsonFile(join(dir, RUN_FILES.config));
  const checkpoints: RunInfo['checkpoints'] = {};
  for (const which of ['last', 'best'] as const) {
    const file = join(dir, RUN_FILES[which]);
    if (!existsSync(file)) continue;
    const meta = safetensorsMetadata(file);
    checkpoints[which] = meta.position ? (JSON.parse(meta.position) as Record<string, unknown>) : null;
  }
  let scorer: RunInfo['scorer'] = null;
  const scorerPath = join(dir, 'scorer.json');
  if (existsSync(scorerPath)) {
    const s = readJsonFile(scorerPath) as {
      method: string;
      threshold: number;
      n: number;
      options: { thresholdPercentile: number; components?: string[] };
    } | null;
    if (s) {
      scorer = {
        method: s.method,
        threshold: s.threshold,
        thresholdPercentile: s.options.thresholdPercentile,
        referenceEvents: s.n,
        ...(s.method === 'ensemble' ? { components: s.options.components } : {}),
      };
    }
  }
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: e.name, bytes: statSync(join(dir, e.name)).size }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const modelPath = join(dir, RUN_FILES.model);
  return {
    path: dir,
    createdAt: (saved?.createdAt as string) ?? null,
    inputs: (saved?.inputs as string[]) ?? [],
    config: (saved?.config as Record<string, unknown>) ?? null,
    fit: (saved?.fit as Record<string, unknown>) ?? null,
    batchSize: (saved?.batchSize as number) ?? null,
    seed: (saved?.seed as number) ?? null,
    checkpoints,
    scorer,
    files,
    model: existsSync(modelPath) ? modelInfo(modelPath) : null,
  };
}

function size(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

const row = (k: string, v: string) => `  ${k.padEnd(14)}${v}`;
const tensors = (ts: TensorInfo[]) => ts.map((t) => `${t.name} ${t.type} [${t.shape.join(', ')}]`).join('; ');

function positionLine(p: Record<string, unknown> | null): string {
  if (!p) return 'unreadable';
  const best = p.best as { valLoss: number; epoch: number; step: number } | null;
  const parts = [`epoch ${p.epoch}, step ${p.step}`];
  if (best)
    parts.push(`best validation loss ${best.valLoss.toFixed(4)} (epoch ${best.epoch}, step ${best.step})`);
  parts.push(
    p.finished ? `finished: ${p.stopReason}` : `not finished${p.stopReason ? ` (${p.stopReason})` : ''}`,
  );
  return parts.join('; ');
}

/** A model's description as terminal lines. */
export function formatModelInfo(m: ModelInfo): string {
  const lines = [`model ${m.path} (${size(m.bytes)})`];
  lines.push(
    row(
      'format',
      `${m.format ?? 'not an ocsf-embed model'}, ONNX IR ${m.irVersion}, opsets ${Object.entries(m.opsets)
        .map(([d, v]) => `${d} ${v}`)
        .join(', ')}`,
    ),
  );
  lines.push(row('inputs', tensors(m.inputs)));
  lines.push(row('outputs', tensors(m.outputs)));
  if (m.model) {
    const c = m.model as {
      dModel?: number;
      numBlocks?: number;
      dropout?: number;
      numNumerical?: number;
      cardinalities?: number[];
    };
    lines.push(
      row(
        'encoder',
        `TabularResNet, d_model ${c.dModel}, ${c.numBlocks} block(s), ${c.cardinalities?.length ?? 0} categorical + ${c.numNumerical} numerical inputs`,
      ),
    );
  }
  if (m.spec) {
    lines.push(
      row(
        'spec',
        `${m.spec.categorical} categorical, ${m.spec.numerical} numerical features fitted on ${m.spec.fittedRows} events; uid ${m.spec.uidPath ?? 'none'}; time zone ${m.spec.timeZone}`,
      ),
    );
  }
  const info = m.info as {
    objective?: string;
    step?: number;
    bestValLoss?: number | null;
    versions?: Record<string, string>;
  };
  if (info.objective !== undefined || info.step !== undefined) {
    const loss =
      typeof info.bestValLoss === 'number' ? `, best validation loss ${info.bestValLoss.toFixed(4)}` : '';
    lines.push(row('trained', `${info.objective ?? '?'} objective, step ${info.step ?? '?'}${loss}`));
  }
  if (info.versions) {
    lines.push(
      row(
        'versions',
        Object.entries(info.versions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ),
    );
  }
  return lines.join('\n');
}

/** A run's description as terminal lines. */
export function formatRunInfo(r: RunInfo): string {
  const lines = [`run ${r.path}`];
  if (r.createdAt) lines.push(row('created', r.createdAt));
  if (r.inputs.length) lines.push(row('trained on', r.inputs.join(', ')));
  const model = (r.config?.model ?? {}) as { dModel?: number; numBlocks?: number; dropout?: number };
  const objective = (r.config?.objective ?? {}) as { kind?: string; temperature?: number };
  const fit = (r.fit ?? {}) as { epochs?: number; lr?: number; schedule?: string; patience?: number };
  if (r.config) {
    lines.push(
      row(
        'config',
        `${objective.kind} objective, d_model ${model.dModel}, ${model.numBlocks} block(s), dropout ${model.dropout}; ${fit.epochs} epochs max, batch ${r.batchSize}, lr ${fit.lr} (${fit.schedule}), patience ${fit.patience}, seed ${r.seed}`,
      ),
    );
  }
  for (const [which, p] of Object.entries(r.checkpoints)) lines.push(row(`${which} ckpt`, positionLine(p)));
  if (r.scorer) {
    const parts = r.scorer.components ? ` (${r.scorer.components.join(' + ')})` : '';
    lines.push(
      row(
        'scorer',
        `${r.scorer.method}${parts}, threshold ${r.scorer.threshold.toFixed(4)} (${r.scorer.thresholdPercentile}th percentile of ${r.scorer.referenceEvents} reference events)`,
      ),
    );
  } else lines.push(row('scorer', 'none yet (written when training finishes)'));
  lines.push(row('files', r.files.map((f) => `${f.name} ${size(f.bytes)}`).join(', ')));
  if (r.model) lines.push('', formatModelInfo(r.model));
  return lines.join('\n');
}

export const infoCommand: CommandModule<object, InfoArgs> = {
  command: 'info <path>',
  describe: 'Show what a run directory or model.onnx holds (config, spec, inputs/outputs, training, files)',
  builder: (y) =>
    y
      .positional('path', { type: 'string', demandOption: true, describe: 'run directory or model.onnx' })
      .option('json', { ...SHARED_OPTIONS.json, describe: 'print JSON instead of text' })
      .example('$0 info runs/first', 'a run')
      .example('$0 info model.onnx --json', 'a model, as JSON'),
  handler: (a) => {
    if (!existsSync(a.path)) {
      throw new UserError(
        `${a.path} does not exist: give a run directory written by \`ocsf-embed train\` or a model.onnx`,
      );
    }
    if (statSync(a.path).isDirectory()) {
      if (!existsSync(join(a.path, RUN_FILES.config)) && !existsSync(join(a.path, RUN_FILES.model))) {
        throw new UserError(
          `${a.path} is not a run directory (no ${RUN_FILES.config} or ${RUN_FILES.model}): give the --out directory of \`ocsf-embed train\``,
        );
      }
      const r = runInfo(a.path);
      console.log(a.json ? JSON.stringify(r, null, 2) : formatRunInfo(r));
      return;
    }
    const m = modelInfo(a.path);
    if (m.format !== MODEL_FORMAT && !a.json) {
      console.log(formatModelInfo(m));
      console.log('note: this ONNX file was not exported by ocsf-embed (no feature spec in its metadata)');
      return;
    }
    console.log(a.json ? JSON.stringify(m, null, 2) : formatModelInfo(m));
  },
};
