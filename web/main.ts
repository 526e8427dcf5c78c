// The page: train a model on a dropped events file (WebGPU when the browser has it, else wasm), or choose
// a trained model.onnx → embed and score with onnxruntime-web → summary, plot, legend and the anomaly
// table. Everything runs in this page; no file is sent anywhere.
import * as ort from 'onnxruntime-web';
import { generate } from '../src/data/generate/index.ts';
import type { KnnRuntime } from '../src/detect/knn.ts';
import { scoresAreRanks } from '../src/detect/scorer.ts';
import { type Embedder, loadEmbedder } from '../src/embed/embedder.web.ts';
import { Reconstructor } from '../src/embed/reconstruction.ts';
import { lineChartSvg } from '../src/report/charts.ts';
import { RUN_FILES } from '../src/run/layout.ts';
import type { EpochRecord } from '../src/run/metrics.ts';
import type { SessionFactory } from '../src/runtime/session.ts';
import { createSession, graphTargetFor, probeDevice } from '../src/runtime/session.web.ts';
import { type Analysis, analyze, type NamedBytes, PageError } from './analyze.ts';
import { drawLegend, drawPlot, type PlotData, type PlotLayout, pointAt } from './plot.ts';
import { nextSort, renderTable, type SortState, type TableRow, topRows } from './table.ts';
import {
  equivalentCommand,
  PAGE_TRAIN_DEFAULTS,
  type TrainedRun,
  type TrainSettings,
  trainOnEvents,
} from './train.ts';

/** Rows in the anomaly table. */
const TOP = 100;

ort.env.wasm.wasmPaths = new URL('./', import.meta.url).href;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

const sampleButton = $<HTMLButtonElement>('sample');
const inputs = {
  model: $<HTMLInputElement>('model'),
  events: $<HTMLInputElement>('events'),
  reference: $<HTMLInputElement>('reference'),
  scorer: $<HTMLInputElement>('scorer'),
  reconstruction: $<HTMLInputElement>('reconstruction'),
};
const statusLine = $<HTMLParagraphElement>('status');
const results = $<HTMLElement>('results');
const summary = $<HTMLDListElement>('summary');
const canvas = $<HTMLCanvasElement>('plot');
const legend = $<HTMLCanvasElement>('legend');
const caption = $<HTMLElement>('plot-caption');
const tooltip = $<HTMLDivElement>('tooltip');
const table = $<HTMLTableElement>('anomalies');
const tableCaption = $<HTMLElement>('table-caption');

const knn: KnnRuntime = {
  Tensor: ort.Tensor,
  createSession: async (model) => (await createSession(model, { device: 'cpu' })).session,
};

let embedder: { file: File; embedder: Embedder } | null = null;
let running = false;
let pending = false;
let view: {
  analysis: Analysis;
  plot: PlotData;
  layout: PlotLayout | null;
  rows: TableRow[];
  sort: SortState;
  selected: number | null;
} | null = null;

function setState(state: 'idle' | 'running' | 'done' | 'error', message: string): void {
  document.body.dataset.state = state;
  statusLine.textContent = message;
  statusLine.className = state;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

async function bytesOf(file: File): Promise<NamedBytes> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}

function chosen(input: HTMLInputElement): File | undefined {
  return input.files?.[0];
}

async function modelFor(file: File): Promise<Embedder> {
  if (embedder?.file === file) return embedder.embedder;
  const old = embedder;
  embedder = null;
  await old?.embedder.release();
  let loaded: Embedder;
  try {
    loaded = await loadEmbedder((await bytesOf(file)).bytes, { device: 'cpu' });
  } catch (e) {
    // Name the file: "events.jsonl: this is not an ONNX model (…)".
    if ((e as { userFacing?: boolean }).userFacing)
      (e as Error).message = `${file.name}: ${(e as Error).message}`;
    throw e;
  }
  embedder = { file, embedder: loaded };
  return loaded;
}

const STAGES = {
  parse: 'Reading the events…',
  embed: 'Embedding the events with onnxruntime-web…',
  score: 'Scoring (k-NN search in embedding space)…',
  project: 'Projecting to 2-D…',
} as const;

function ms(x: number): string {
  return x < 1000 ? `${Math.round(x)} ms` : `${(x / 1000).toFixed(1)} s`;
}

function renderSummary(a: Analysis, model: Embedder): void {
  const anomalies = a.isAnomaly.reduce((s, v) => s + v, 0);
  const objective = typeof model.info.objective === 'string' ? `, ${model.info.objective}` : '';
  const against =
    a.mode === 'run'
      ? `the run's ${a.referenceRows.toLocaleString()} reference events`
      : 'the file’s own events, each left out of its own neighbours';
  const items: [string, string][] = [
    [
      'events',
      `${a.records.length.toLocaleString()}${a.rejects.length ? ` (${a.rejects.length.toLocaleString()} unreadable, skipped)` : ''}`,
    ],
    ['model', `${a.dimension}-d embeddings${objective}`],
    ['scored against', `${against} (${a.method})`],
    [
      'threshold',
      `${a.threshold.toFixed(4)} (${a.thresholdPercentile}th percentile of ${a.mode === 'run' ? 'the reference' : 'these'} scores)`,
    ],
    ...(scoresAreRanks(a.method)
      ? ([
          [
            'scores',
            'a rank among the reference events’ own scores: 0.95 is above 95% of them; above 1 is beyond all of them',
          ],
        ] as [string, string][])
      : []),
    [
      'above threshold',
      `${anomalies.toLocaleString()} (${((100 * anomalies) / a.records.length).toFixed(1)}%)`,
    ],
    [
      'features present',
      `${a.coverage.present} of ${a.coverage.total}${a.coverage.warning ? ` — warning: ${a.coverage.warning}` : ''}`,
    ],
    [
      'time',
      `parse ${ms(a.timings.parse)}, embed ${ms(a.timings.embed)}, score ${ms(a.timings.score)}, project ${ms(a.timings.project)} — onnxruntime-web wasm, ${ort.env.wasm.numThreads ?? 1} thread(s)`,
    ],
  ];
  summary.replaceChildren(
    ...items.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

function percent(part: number, total: number): string {
  return total > 0 ? `${((100 * part) / total).toFixed(0)}%` : '–';
}

function redraw(): void {
  if (!view) return;
  view.layout = drawPlot(canvas, view.plot, view.selected);
  drawLegend(legend, view.plot.scores, view.plot.threshold);
}

function renderRows(): void {
  if (!view) return;
  const v = view;
  renderTable(
    table,
    v.rows,
    v.sort,
    (key) => {
      v.sort = nextSort(v.sort, key);
      renderRows();
    },
    select,
    v.selected,
  );
}

function select(index: number | null): void {
  if (!view) return;
  view.selected = view.selected === index ? null : index;
  redraw();
  renderRows();
  if (view.selected !== null) {
    table.querySelector(`tr[data-index="${view.selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }
}

function render(a: Analysis, model: Embedder): void {
  const { pca } = a;
  const plot: PlotData = {
    points: a.points,
    scores: a.scores,
    isAnomaly: a.isAnomaly,
    threshold: a.threshold,
    referencePoints: a.referencePoints,
    xLabel: `PC 1 (${percent(pca.variances[0], pca.totalVariance)} of variance)`,
    yLabel: `PC 2 (${percent(pca.variances[1], pca.totalVariance)})`,
  };
  view = {
    analysis: a,
    plot,
    layout: null,
    rows: topRows(a.records, a.uids, a.scores, a.isAnomaly, TOP, a.why),
    sort: { key: 'score', descending: true },
    selected: null,
  };
  results.hidden = false;
  renderSummary(a, model);
  caption.textContent =
    `${a.records.length.toLocaleString()} events on the first two principal axes of their unit-length embeddings, ` +
    `coloured by anomaly score; outlined points are above the threshold` +
    (a.referencePoints.length ? '; grey dots are reference (training) events.' : '.');
  tableCaption.textContent = `The ${Math.min(TOP, a.records.length)} highest-scoring events (click a header to sort, a row to find it in the plot)`;
  redraw();
  renderRows();
}

function describeError(e: unknown): string {
  const err = e as Error & { userFacing?: boolean };
  if (err?.name === 'PageError' || err?.name === 'UserError' || err?.userFacing) return err.message;
  console.error(e);
  return `Something went wrong: ${err?.message ?? String(e)}`;
}

/** The files of one analysis: a model and events, and optionally the run's reference, scorer and reconstruction model. */
interface Chosen {
  model: File;
  events: File;
  reference?: File;
  scorer?: File;
  reconstruction?: File;
}

/** Opens a run's reconstruction.onnx, naming the file in errors. */
async function reconstructorFor(file: File): Promise<Reconstructor> {
  try {
    return await Reconstructor.fromBytes(
      (await bytesOf(file)).bytes,
      async (b) => (await createSession(b, { device: 'cpu' })).session,
      file.name,
    );
  } catch (e) {
    if ((e as { userFacing?: boolean }).userFacing) throw e;
    throw new PageError(
      `${file.name} is not a usable reconstruction model (${(e as Error).message.split('\n')[0]})`,
    );
  }
}

/** Events of the sample: a generated day the default model did not train on. */
const SAMPLE_EVENTS = 2000;

/** The default model (models/default, copied beside the bundle) and generated events, as files. */
async function sampleFiles(): Promise<Chosen> {
  const fetchFile = async (name: string): Promise<File> => {
    const response = await fetch(new URL(`./model/${name}`, import.meta.url));
    if (!response.ok)
      throw new PageError(`the sample model is missing (GET model/${name}: ${response.status})`);
    return new File([await response.arrayBuffer()], name);
  };
  const scorer = await fetchFile('scorer.json');
  // A sample scorer that ranks reconstruction surprise comes with the model's reconstruction.onnx.
  const needsReconstruction = 'reconstructionScale' in (JSON.parse(await scorer.text()) as object);
  const { events } = generate({ events: SAMPLE_EVENTS, seed: 7, start: '2026-01-06T00:00:00Z' });
  const jsonl = `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
  return {
    model: await fetchFile('model.onnx'),
    events: new File([jsonl], 'sample-events.jsonl'),
    reference: await fetchFile('reference.safetensors'),
    scorer,
    ...(needsReconstruction && { reconstruction: await fetchFile('reconstruction.onnx') }),
  };
}

let useSample = false;

async function runOnce(): Promise<void> {
  let files: Chosen | null = null;
  if (useSample) {
    setState('running', 'Fetching the default model and generating sample events…');
    try {
      files = await sampleFiles();
    } catch (e) {
      setState('error', describeError(e));
      return;
    }
  } else {
    const model = chosen(inputs.model);
    const events = chosen(inputs.events);
    if (!model || !events) {
      setState('idle', 'Choose a model.onnx and an events file to start, or try it with sample events.');
      return;
    }
    files = {
      model,
      events,
      reference: chosen(inputs.reference),
      scorer: chosen(inputs.scorer),
      reconstruction: chosen(inputs.reconstruction),
    };
  }
  const { model, events, reference, scorer, reconstruction } = files;
  let reconstructor: Reconstructor | undefined;
  setState('running', 'Loading the model…');
  await nextFrame();
  try {
    const embed = await modelFor(model);
    const analysis = await analyze(
      embed,
      {
        events: await bytesOf(events),
        ...(reference && { reference: await bytesOf(reference) }),
        ...(scorer && { scorer: await bytesOf(scorer) }),
        ...(reconstruction && { reconstructor: (reconstructor = await reconstructorFor(reconstruction)) }),
      },
      knn,
      async (stage) => {
        statusLine.textContent = STAGES[stage];
        await nextFrame();
      },
    );
    render(analysis, embed);
    setState('done', `Scored ${analysis.records.length.toLocaleString()} events from ${events.name}.`);
  } catch (e) {
    // Results of an earlier run would read as results of this one: take them away.
    view = null;
    results.hidden = true;
    setState('error', describeError(e));
  } finally {
    await reconstructor?.release();
  }
}

async function schedule(): Promise<void> {
  if (running) {
    pending = true;
    return;
  }
  running = true;
  try {
    do {
      pending = false;
      await runOnce();
    } while (pending);
  } finally {
    running = false;
  }
}

for (const input of Object.values(inputs)) {
  input.addEventListener('change', () => {
    useSample = false;
    void schedule();
  });
}
sampleButton.addEventListener('click', () => {
  useSample = true;
  void schedule();
});

// ---- training ------------------------------------------------------------------------------

const trainUi = {
  drop: $<HTMLDivElement>('drop'),
  file: $<HTMLInputElement>('train-events'),
  objective: $<HTMLSelectElement>('t-objective'),
  epochs: $<HTMLInputElement>('t-epochs'),
  batch: $<HTMLInputElement>('t-batch'),
  dModel: $<HTMLInputElement>('t-dmodel'),
  blocks: $<HTMLInputElement>('t-blocks'),
  seed: $<HTMLInputElement>('t-seed'),
  device: $<HTMLSelectElement>('t-device'),
  run: $<HTMLDivElement>('train-run'),
  progress: $<HTMLProgressElement>('train-progress'),
  status: $<HTMLParagraphElement>('train-status'),
  chart: $<HTMLDivElement>('loss-chart'),
  command: $<HTMLParagraphElement>('cli-command'),
  downloads: $<HTMLParagraphElement>('downloads'),
};
trainUi.objective.value = PAGE_TRAIN_DEFAULTS.objective;
trainUi.epochs.value = String(PAGE_TRAIN_DEFAULTS.epochs);
trainUi.batch.value = String(PAGE_TRAIN_DEFAULTS.batchSize);
trainUi.dModel.value = String(PAGE_TRAIN_DEFAULTS.dModel);
trainUi.blocks.value = String(PAGE_TRAIN_DEFAULTS.blocks);
trainUi.seed.value = String(PAGE_TRAIN_DEFAULTS.seed);

/** What the last training produced, for scripts and tests: losses per step, metrics, files, device. */
export interface PageTraining {
  device: string;
  losses: number[];
  metrics: TrainedRun['metrics'];
  batchSize: number;
}

function whole(input: HTMLInputElement, name: string, min: number): number {
  const v = Number(input.value);
  if (!Number.isInteger(v) || v < min) throw new PageError(`${name} must be a whole number ≥ ${min}.`);
  return v;
}

function trainSettings(): TrainSettings {
  const dModel = whole(trainUi.dModel, 'Width', 4);
  if (dModel % 4 !== 0) throw new PageError('Width must be divisible by 4 (e.g. 64).');
  return {
    objective: trainUi.objective.value as TrainSettings['objective'],
    epochs: whole(trainUi.epochs, 'Epochs', 1),
    batchSize: whole(trainUi.batch, 'Batch', 2),
    dModel,
    blocks: whole(trainUi.blocks, 'Blocks', 0),
    seed: whole(trainUi.seed, 'Seed', 0),
  };
}

/** WebGPU when asked for or (auto) when the browser has an adapter; else wasm. */
async function trainingDevice(choice: string): Promise<'webgpu' | 'cpu'> {
  if (choice === 'cpu') return 'cpu';
  const gpu = await probeDevice('webgpu');
  if (gpu.available) return 'webgpu';
  if (choice === 'webgpu')
    throw new PageError(`WebGPU is not available here (${gpu.reason}): choose wasm (CPU).`);
  return 'cpu';
}

function lossChart(losses: number[], epochs: EpochRecord[]): string {
  return lineChartSvg(
    [
      { name: 'training loss (per step)', points: losses.map((y, i) => ({ x: i + 1, y })) },
      {
        name: 'validation loss (per epoch)',
        points: epochs.filter((r) => r.val_loss !== null).map((r) => ({ x: r.step, y: r.val_loss! })),
      },
    ],
    { title: 'Loss', xLabel: 'step', yLabel: 'loss', integerX: true, width: 720, height: 260 },
  );
}

function downloadLinks(files: Map<string, Uint8Array>): void {
  for (const a of trainUi.downloads.querySelectorAll('a')) URL.revokeObjectURL(a.href);
  const order = [
    RUN_FILES.model,
    RUN_FILES.reconstruction,
    RUN_FILES.reference,
    RUN_FILES.scorer,
    RUN_FILES.spec,
    RUN_FILES.metrics,
  ].filter((name) => files.has(name));
  const links = order.map((name) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([files.get(name)! as BlobPart]));
    a.download = name;
    a.textContent = `Download ${name}`;
    return a;
  });
  const note = document.createElement('span');
  note.className = 'caption';
  note.textContent = `Put them in one folder and score new events with \`ocsf-embed score --model <folder> events.jsonl\`.`;
  trainUi.downloads.replaceChildren(...links, note);
}

let training = false;
let trainedEmbedder: Embedder | null = null;

async function trainFrom(file: File): Promise<void> {
  if (training) return;
  training = true;
  document.body.dataset.train = 'running';
  trainUi.run.hidden = false;
  trainUi.progress.value = 0;
  trainUi.chart.replaceChildren();
  trainUi.downloads.replaceChildren();
  const say = (line: string) => {
    trainUi.status.textContent = line;
  };
  try {
    const settings = trainSettings();
    const device = await trainingDevice(trainUi.device.value);
    const where = device === 'webgpu' ? 'WebGPU' : `wasm, ${crossOriginIsolated ? 'threads' : 'one thread'}`;
    trainUi.command.textContent = `The same run on the command line: ${equivalentCommand(file.name, settings, device)}`;
    const onDevice: SessionFactory = async (model, options) =>
      (
        await createSession(model, {
          device,
          ...(options?.outputsOnDevice && { outputsOnDevice: options.outputsOnDevice }),
        })
      ).session;
    const onCpu: SessionFactory = async (model) => (await createSession(model, { device: 'cpu' })).session;
    const events = await bytesOf(file);
    const epochs: EpochRecord[] = [];
    const losses: number[] = [];
    let drawn = 0;
    const run = await trainOnEvents(
      events,
      settings,
      { train: onDevice, trainTarget: graphTargetFor(device), embed: onCpu, knn },
      {
        onStage: async (stage) => {
          const text = {
            parse: `Reading ${file.name}…`,
            prepare: 'Fitting the feature spec and encoding the events…',
            train: `Training on ${where}…`,
            export: 'Exporting model.onnx…',
            reference: 'Embedding the training events and fitting the scorer…',
          }[stage];
          say(text);
          await nextFrame();
        },
        onBatch: (p) => {
          losses.push(p.loss);
          trainUi.progress.value = (p.epoch * p.batches + p.batch) / (p.epochs * p.batches);
          say(
            `Training on ${where}: epoch ${p.epoch + 1}/${p.epochs}, step ${p.step}, loss ${p.loss.toFixed(4)}`,
          );
          if (losses.length - drawn >= 10) {
            drawn = losses.length;
            trainUi.chart.innerHTML = lossChart(losses, epochs);
          }
        },
        onEpoch: (r) => {
          epochs.push(r);
          trainUi.chart.innerHTML = lossChart(losses, epochs);
        },
      },
    );
    trainUi.progress.value = 1;
    trainUi.chart.innerHTML = lossChart(run.losses, epochs);
    downloadLinks(run.files);
    (globalThis as { ocsfEmbedTraining?: PageTraining }).ocsfEmbedTraining = {
      device,
      losses: run.losses,
      metrics: run.metrics,
      batchSize: run.batchSize,
    };
    say(
      `Trained on ${where} in ${run.seconds.toFixed(1)} s: ${run.trainRows.toLocaleString()} training and ${run.valRows.toLocaleString()} validation events, batch ${run.batchSize}, ${run.losses.length} steps (${run.stopReason}).` +
        (run.rejected ? ` ${run.rejected} events could not be used.` : '') +
        (run.notes.length ? ` Note: ${run.notes.join('; ')}.` : ''),
    );

    // Score the file against what the model learned, as `ocsf-embed score --model` would.
    setState('running', 'Scoring the events with the trained model…');
    await nextFrame();
    await trainedEmbedder?.release();
    trainedEmbedder = await loadEmbedder(run.files.get(RUN_FILES.model)!, { device: 'cpu' });
    const reconstruction = run.files.get(RUN_FILES.reconstruction);
    const reconstructor = reconstruction
      ? await reconstructorFor(new File([reconstruction as BlobPart], RUN_FILES.reconstruction))
      : undefined;
    const analysis = await analyze(
      trainedEmbedder,
      {
        events,
        reference: { name: RUN_FILES.reference, bytes: run.files.get(RUN_FILES.reference)! },
        scorer: { name: RUN_FILES.scorer, bytes: run.files.get(RUN_FILES.scorer)! },
        reconstructor,
      },
      knn,
    ).finally(() => reconstructor?.release());
    render(analysis, trainedEmbedder);
    setState(
      'done',
      `Scored ${analysis.records.length.toLocaleString()} events from ${file.name} with the model trained here.`,
    );
    document.body.dataset.train = 'done';
  } catch (e) {
    const message = describeError(e);
    say(message);
    setState('error', message);
    document.body.dataset.train = 'error';
  } finally {
    training = false;
  }
}

trainUi.file.addEventListener('change', () => {
  const file = chosen(trainUi.file);
  if (file) void trainFrom(file);
});
trainUi.drop.addEventListener('dragover', (ev) => {
  ev.preventDefault();
  trainUi.drop.classList.add('over');
});
trainUi.drop.addEventListener('dragleave', () => trainUi.drop.classList.remove('over'));
trainUi.drop.addEventListener('drop', (ev) => {
  ev.preventDefault();
  trainUi.drop.classList.remove('over');
  const file = ev.dataTransfer?.files[0];
  if (file) void trainFrom(file);
});

canvas.addEventListener('mousemove', (ev) => {
  if (!view?.layout) return;
  const i = pointAt(view.plot, view.layout, ev.offsetX, ev.offsetY);
  if (i === null) {
    tooltip.hidden = true;
    canvas.style.cursor = '';
    return;
  }
  const a = view.analysis;
  const record = a.records[i] as Record<string, unknown>;
  const cls = record.class_name ?? record.class_uid ?? '';
  tooltip.textContent = `${a.uids[i]} · score ${a.scores[i]!.toFixed(4)}${cls ? ` · ${String(cls)}` : ''}`;
  tooltip.style.left = `${ev.offsetX + 14}px`;
  tooltip.style.top = `${ev.offsetY + 10}px`;
  tooltip.hidden = false;
  canvas.style.cursor = 'pointer';
});
canvas.addEventListener('mouseleave', () => {
  tooltip.hidden = true;
});
canvas.addEventListener('click', (ev) => {
  if (!view?.layout) return;
  const i = pointAt(view.plot, view.layout, ev.offsetX, ev.offsetY);
  if (i !== null) select(i);
});
window.addEventListener('resize', redraw);

void schedule();
