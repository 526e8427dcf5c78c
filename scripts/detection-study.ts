// Compares objectives and scorers on generated data: trains on day 1 (72,000 events, 2% anomalies,
// seed 1), scores day 2 (24,000 events, seed 2) against a 16,384-event reference sample, and prints
// ROC-AUC / PR-AUC per scorer and ROC-AUC per anomaly scenario for the default scorer.
// Usage: npx tsx scripts/detection-study.ts <name> '<training config JSON>' [epochs]
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTrainingConfig } from '../graphs/config.ts';
import { DEFAULT_START, generate } from '../src/data/generate/index.ts';
import { writeGenerated } from '../src/data/generate-writer.ts';
import { permutation } from '../src/dataset/dataset.ts';
import { nodeKnnRuntime } from '../src/detect/knn.node.ts';
import { averagePrecision, rocAuc } from '../src/detect/metrics.ts';
import { fitScorer, type ScorerOptions, score } from '../src/detect/scorer.ts';
import { loadEmbedder } from '../src/embed/embedder.node.ts';
import { FIT_DEFAULTS, trainRun } from '../src/train/run.node.ts';

const [name = 'default', json = '{}', epochs = '3'] = process.argv.slice(2);
const extra = JSON.parse(json) as { model?: object; objective?: object };
const dir = join('runs', 'study', name);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const eventsPath = join('runs', 'study', 'day1.jsonl');
await writeGenerated({
  events: 72_000,
  seed: 1,
  out: eventsPath,
  labels: join('runs', 'study', 'day1.labels.jsonl'),
});
const config = resolveTrainingConfig({
  model: { numNumerical: 1, cardinalities: [], dModel: 64, numBlocks: 2, dropout: 0.1, ...extra.model },
  objective: extra.objective ?? {},
});
const run = await trainRun({
  inputs: [eventsPath],
  out: dir,
  config,
  fit: { ...FIT_DEFAULTS, epochs: Number(epochs) },
  batchSize: 256,
  valFraction: 0.1,
  seed: 1,
  device: 'cpu',
  verbose: false,
});
const nextDay = new Date(Date.parse(DEFAULT_START) + 24 * 3600 * 1000).toISOString();
const { events, labels } = generate({ events: 24_000, seed: 2, start: nextDay });
const { embedder } = await loadEmbedder(join(dir, 'model.onnx'));
const keep = permutation(run.trainIndices.length, 0x5eed, 0).subarray(0, 16384);
const reference = await embedder.embed(
  Array.from(keep, (i) => run.events[run.trainIndices[i]!]!),
  { normalized: true },
);
const queries = await embedder.embed(events, { normalized: true });
const d = embedder.dimension;
const y = labels.map((l) => (l.is_anomaly ? 1 : 0));
const runtime = nodeKnnRuntime({ device: 'cpu' });
const scorers: [string, ScorerOptions][] = [
  ['knn k=20', { method: 'knn' }],
  ['knn-relative 3%', { method: 'knn-relative', kFraction: 0.03 }],
  ['iforest', { method: 'iforest' }],
  ['default', {}],
];
const cells: string[] = [];
let perScenario = '';
for (const [label, options] of scorers) {
  const fitted = await fitScorer(reference, d, options, runtime);
  const s = await score(fitted, reference, queries, d, runtime);
  cells.push(`${label} ${rocAuc(s.scores, y).toFixed(3)} / ${averagePrecision(s.scores, y).toFixed(3)}`);
  if (label !== 'default') continue;
  const names = [...new Set(labels.map((l) => l.scenario).filter((x): x is string => x !== null))].sort();
  perScenario = names
    .map((scenario) => {
      const idx = labels
        .map((l, i) => (l.scenario === scenario || !l.is_anomaly ? i : -1))
        .filter((i) => i >= 0);
      const auc = rocAuc(
        idx.map((i) => s.scores[i]!),
        idx.map((i) => y[i]!),
      );
      return `${scenario} ${auc.toFixed(2)}`;
    })
    .join(', ');
}
console.log(`${name}: ${cells.join(' | ')} | best val loss ${run.position.best?.valLoss.toFixed(3)}`);
console.log(`  per scenario (default scorer): ${perScenario}`);
await embedder.release();
