// The detection study: trains on an earlier window of generated events and scores the later one, as a
// deployment does, for each evaluation protocol, objective and training seed; prints embeddings against
// raw-feature baselines (isolation forest and k-NN on the encoded raw features) on the same split: ROC-AUC,
// PR-AUC (median of the seeds, range in brackets), the flag rate at the threshold on the later window next
// to the intended rate, and per-scenario ROC-AUC / recall at the threshold.
//
// Protocols: `day` (day 1 → day 2: a day of events, the next day scored), `short` (a 2-hour capture,
// trained on its first 60% by time, the rest scored), `week` (7 days → the 8th day).
// Usage: npx tsx scripts/detection-study.ts [--protocols day,short] [--objectives mfp,contrastive,both]
//          [--seeds 3] [--epochs 3] [--d-model 64] [--blocks 2] [--events 30000] [--profile ocsf|api] [--out runs/study] [--reuse]
//          [--scorers conditional,ensemble,knn]
// (--reuse scores the models of an earlier run of the same command instead of training them again)
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TrainingConfig } from '../graphs/config.ts';
import { resolveTrainingChoices } from '../graphs/config.ts';
import { DEFAULT_START, generate, type Label, type Profile } from '../src/data/generate/index.ts';
import { permutation } from '../src/dataset/dataset.ts';
import { BASELINE_NAMES, type BaselineMethod, scoreRawBaseline } from '../src/detect/baselines.ts';
import { referenceFeatures } from '../src/detect/explain.ts';
import { nodeKnnRuntime } from '../src/detect/knn.node.ts';
import { releaseKnnSession } from '../src/detect/knn.ts';
import { averagePrecision, rocAuc, scenarioMetrics } from '../src/detect/metrics.ts';
import { type FieldContext, fitScorer, type ScorerOptions, score } from '../src/detect/scorer.ts';
import { loadEmbedder } from '../src/embed/embedder.node.ts';
import { Reconstructor } from '../src/embed/reconstruction.ts';
import { extractRaw } from '../src/features/encode.ts';
import { fitSpec, parseSpec } from '../src/features/spec.ts';
import type { FittedSpec } from '../src/features/types.ts';
import { loadCheckpoint } from '../src/run/checkpoint.node.ts';
import { MAX_REFERENCE_ROWS } from '../src/run/scoring.ts';
import { createSession } from '../src/runtime/session.node.ts';
import { exportReconstruction } from '../src/train/prepare.ts';
import { FIT_DEFAULTS, trainRun } from '../src/train/run.node.ts';

const { values: args } = parseArgs({
  options: {
    protocols: { type: 'string', default: 'day,short' },
    objectives: { type: 'string', default: 'mfp,contrastive' },
    seeds: { type: 'string', default: '3' },
    epochs: { type: 'string', default: '3' },
    'd-model': { type: 'string', default: '64' },
    blocks: { type: 'string', default: '2' },
    events: { type: 'string', default: '30000' },
    profile: { type: 'string', default: 'ocsf' },
    out: { type: 'string', default: join('runs', 'study') },
    reuse: { type: 'boolean', default: false },
    scorers: { type: 'string', default: 'conditional,ensemble,knn' },
  },
});
const SEEDS = Array.from({ length: Number(args.seeds) }, (_, i) => i + 1);
const EPOCHS = Number(args.epochs);
const EVENTS = Number(args.events);
const OUT = args.out!;
const INTENDED = 0.05;
const DAY = 24 * 3600 * 1000;

/** An evaluation split: events to train on (earlier), events to score (later) with labels. */
interface Split {
  name: string;
  describe: string;
  train: object[];
  test: object[];
  labels: Label[];
}

function generated(events: number, seed: number, hours: number, start: number, worldSeed = seed) {
  return generate({ events, seed, worldSeed, hours, start, profile: args.profile as Profile });
}

function makeSplit(protocol: string): Split {
  const start = Date.parse(DEFAULT_START);
  if (protocol === 'day' || protocol === 'week') {
    const days = protocol === 'day' ? 1 : 7;
    const train = generated(EVENTS, 1, 24 * days, start);
    // The next day of the same organisation: its own random draws, the training window's world.
    const next = generated(Math.round(EVENTS / 2.5), 2, 24, start + days * DAY, 1);
    return {
      name: protocol,
      describe: `${days === 1 ? 'day 1 → day 2' : '7 days → day 8'}: ${train.events.length} events over ${24 * days} h trained, the next day's ${next.events.length} scored`,
      train: train.events,
      test: next.events,
      labels: next.labels,
    };
  }
  if (protocol === 'short') {
    const all = generated(EVENTS, 3, 2, start);
    const cut = Math.round(all.events.length * 0.6);
    return {
      name: protocol,
      describe: `2-hour capture of ${all.events.length} events: first 60% by time trained, last 40% (${all.events.length - cut}) scored`,
      train: all.events.slice(0, cut),
      test: all.events.slice(cut),
      labels: all.labels.slice(cut),
    };
  }
  throw new Error(`unknown protocol ${protocol}: use day, short or week`);
}

interface Cell {
  roc: number;
  pr: number;
  flagged: number;
  scenarios: Map<string, { roc: number; recall: number }>;
}

function evaluate(scores: Float32Array, flags: Uint8Array, labels: Label[]): Cell {
  const y = labels.map((l) => (l.is_anomaly ? 1 : 0));
  let flagged = 0;
  for (const f of flags) flagged += f;
  const scenarioOf = labels.map((l) => (l.is_anomaly ? (l.scenario ?? undefined) : undefined));
  const scenarios = new Map(
    scenarioMetrics(scores, y, scenarioOf, flags).map((x) => [
      x.scenario,
      { roc: x.rocAuc, recall: x.recall! },
    ]),
  );
  return {
    roc: rocAuc(scores, y),
    pr: averagePrecision(scores, y),
    flagged: flagged / scores.length,
    scenarios,
  };
}

const runtime = nodeKnnRuntime({ device: 'cpu' });

async function scoreWith(
  options: ScorerOptions,
  reference: Float32Array,
  queries: Float32Array,
  d: number,
  labels: Label[],
  fields?: FieldContext,
): Promise<Cell> {
  const fitted = await fitScorer(
    reference,
    d,
    options,
    runtime,
    fields && {
      spec: fields.spec,
      reference: fields.reference,
      reconstruction: fields.reconstruction && { reference: fields.reconstruction.reference },
    },
  );
  const s = await score(fitted, reference, queries, d, runtime, { fields });
  return evaluate(s.scores, s.isAnomaly, labels);
}

/**
 * Embedding scorers compared on every run, and what else they read: the events' fields, and the fields'
 * reconstruction surprise from the run's reconstruction.onnx.
 */
const EMBEDDING_SCORERS: [string, ScorerOptions, 'reconstruction' | 'fields' | 'none'][] = [
  ['default scorer (conditional)', {}, 'reconstruction'],
  ['conditional, three parts summed alike (previous default)', { combine: 'fisher' }, 'reconstruction'],
  ['conditional without reconstruction', {}, 'fields'],
  ['conditional, highest part rank (earlier default)', { combine: 'max' }, 'fields'],
  ['knn k=20', { method: 'knn' }, 'none'],
];

/** The run's reconstruction model (written from its best checkpoint when the run predates it). */
async function openReconstructor(runDir: string, spec: FittedSpec): Promise<Reconstructor> {
  const path = join(runDir, 'reconstruction.onnx');
  if (!existsSync(path)) {
    const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { config: TrainingConfig };
    const bytes = exportReconstruction(
      spec,
      saved.config,
      loadCheckpoint(join(runDir, 'checkpoint-best.safetensors')),
    );
    if (!bytes) throw new Error(`${runDir}: its objective trained no MFP heads`);
    writeFileSync(path, bytes);
  }
  return Reconstructor.fromBytes(readFileSync(path), async (b) => (await createSession(b, {})).session);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summary(cells: Cell[]): string[] {
  const stat = (f: (c: Cell) => number, digits = 3) => {
    const xs = cells.map(f);
    return `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
  };
  const names = [...cells[0]!.scenarios.keys()];
  const perScenario = names
    .map(
      (n) =>
        `${n} ${median(cells.map((c) => c.scenarios.get(n)!.roc)).toFixed(2)}/${median(cells.map((c) => c.scenarios.get(n)!.recall)).toFixed(2)}`,
    )
    .join(', ');
  return [
    stat((c) => c.roc),
    stat((c) => c.pr),
    `${(100 * median(cells.map((c) => c.flagged))).toFixed(1)}%`,
    perScenario,
  ];
}

mkdirSync(OUT, { recursive: true });
const report: string[] = [];
const results: Record<string, Record<string, Cell[]>> = {};
for (const protocol of args.protocols!.split(',')) {
  const split = makeSplit(protocol);
  const dir = join(OUT, `${args.profile}-${protocol}`);
  mkdirSync(dir, { recursive: true });
  const trainPath = join(dir, 'train.jsonl');
  writeFileSync(trainPath, `${split.train.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const rows: Record<string, Cell[]> = {};
  const add = (name: string, cell: Cell) => {
    rows[name] ??= [];
    rows[name].push(cell);
    console.log(
      `  ${protocol} ${name}: ROC ${cell.roc.toFixed(3)} PR ${cell.pr.toFixed(3)} flagged ${(100 * cell.flagged).toFixed(1)}%`,
    );
  };
  console.log(`${protocol}: ${split.describe}`);

  const spec = fitSpec(split.train);
  const referenceEvents =
    split.train.length > MAX_REFERENCE_ROWS
      ? Array.from(
          permutation(split.train.length, 0x5eed, 0).subarray(0, MAX_REFERENCE_ROWS).sort(),
          (i) => split.train[i]!,
        )
      : split.train;
  // Raw-feature baselines (src/detect/baselines.ts), fitted on the reference events the runs use.
  const rawReference = referenceFeatures(spec, referenceEvents);
  const rawQueries = split.test.map((e) => extractRaw(spec, e));
  const baseline = async (method: BaselineMethod, seed: number) => {
    const s = await scoreRawBaseline(method, spec, rawReference, rawQueries, runtime, seed);
    return evaluate(s.scores, s.isAnomaly, split.labels);
  };
  for (const seed of SEEDS) add(BASELINE_NAMES.iforest, await baseline('iforest', seed));
  add(BASELINE_NAMES.knn, await baseline('knn', 0));

  for (const objective of args.objectives!.split(',')) {
    for (const seed of SEEDS) {
      const runDir = join(dir, `${objective}-seed${seed}`);
      const started = performance.now();
      const reuse = args.reuse && existsSync(join(runDir, 'model.onnx'));
      if (!reuse) rmSync(runDir, { recursive: true, force: true });
      const run = reuse
        ? { spec: parseSpec(readFileSync(join(runDir, 'spec.json'), 'utf8')), position: { best: null } }
        : await trainRun({
            inputs: [trainPath],
            out: runDir,
            config: resolveTrainingChoices({
              model: { dModel: Number(args['d-model']), numBlocks: Number(args.blocks), dropout: 0.1 },
              objective: { kind: objective },
            }),
            fit: { ...FIT_DEFAULTS, epochs: EPOCHS },
            batchSize: 256,
            valFraction: 0.1,
            seed,
            device: 'cpu',
            verbose: false,
          });
      const { embedder } = await loadEmbedder(join(runDir, 'model.onnx'));
      const reference = await embedder.embed(referenceEvents, { normalized: true });
      const queries = await embedder.embed(split.test, { normalized: true });
      const reconstructor = await openReconstructor(runDir, run.spec);
      const fields: FieldContext = {
        spec: run.spec,
        reference: referenceFeatures(run.spec, referenceEvents),
        queries: split.test.map((e) => extractRaw(run.spec, e)),
      };
      const withReconstruction: FieldContext = {
        ...fields,
        reconstruction: {
          reference: await reconstructor.surprise(referenceEvents),
          queries: await reconstructor.surprise(split.test),
        },
      };
      await reconstructor.release();
      const wanted = args.scorers!.split(',');
      for (const [label, options, reads] of EMBEDDING_SCORERS) {
        if (!wanted.includes(options.method ?? 'conditional')) continue;
        const cell = await scoreWith(
          options,
          reference,
          queries,
          embedder.dimension,
          split.labels,
          reads === 'reconstruction' ? withReconstruction : reads === 'fields' ? fields : undefined,
        );
        add(`${objective}, ${label}`, cell);
      }
      await embedder.release();
      const loss = run.position.best ? `, best val loss ${run.position.best.valLoss.toFixed(3)}` : '';
      console.log(
        `  (${objective} seed ${seed}: ${((performance.now() - started) / 1000).toFixed(0)} s${loss})`,
      );
    }
  }
  results[protocol] = rows;
  report.push(`### ${protocol}: ${split.describe}`, '');
  report.push(
    `| method | ROC-AUC | PR-AUC | flagged (intended ${100 * INTENDED}%) | per scenario: ROC-AUC / recall at the threshold |`,
  );
  report.push('| --- | --- | --- | --- | --- |');
  for (const [name, cells] of Object.entries(rows))
    report.push(`| ${name} | ${summary(cells).join(' | ')} |`);
  report.push('');
  const name = `results-${args.profile}-${args.protocols!.replace(/,/g, '-')}`;
  writeFileSync(join(OUT, `${name}.md`), `${report.join('\n')}\n`);
  writeFileSync(
    join(OUT, `${name}.json`),
    JSON.stringify(results, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v), 1),
  );
  console.log(`\n${report.slice(-Object.keys(rows).length - 5).join('\n')}`);
}
await releaseKnnSession(runtime);
