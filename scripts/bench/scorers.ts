// Measures the scoring methods on synthetic embeddings (clustered normals, bursts of near-identical
// anomalies, isolated anomalies) with anomalies inside the reference and only in the queries; prints a
// Markdown table. Run: npx tsx src/detect/bench.node.ts [--seeds 5] [--normals 5000] [--d 64] [--only REGEX]
import { parseArgs } from 'node:util';
import { nodeKnnRuntime } from '../../src/detect/knn.node.ts';
import { averagePrecision, rocAuc } from '../../src/detect/metrics.ts';
import { mulberry32 } from '../../src/detect/random.ts';
import { fitScorer, type ScorerOptions, score } from '../../src/detect/scorer.ts';
import { ROW_KIND, type SyntheticEmbeddings, syntheticEmbeddings } from '../../src/detect/synthetic.ts';

/** One benchmarked configuration. */
interface Variant {
  name: string;
  options: ScorerOptions;
}

const VARIANTS: Variant[] = [
  { name: 'default = ensemble max(knn, knn-relative 3%)', options: {} },
  { name: 'knn (k=20)', options: { method: 'knn', k: 20 } },
  { name: 'knn-relative (k=max(20, 1% n))', options: { method: 'knn-relative', kFraction: 0.01 } },
  { name: 'knn-relative (k=max(20, 3% n))', options: { method: 'knn-relative', kFraction: 0.03 } },
  { name: 'knn-relative (k=max(20, 5% n))', options: { method: 'knn-relative', kFraction: 0.05 } },
  { name: 'lof (k=20)', options: { method: 'lof', k: 20 } },
  { name: 'lof (k=max(20, 3% n))', options: { method: 'lof', kFraction: 0.03 } },
  { name: 'iforest (100 trees, 256 rows)', options: { method: 'iforest' } },
  {
    name: 'ensemble mean(knn-relative 1%, iforest)',
    options: {
      method: 'ensemble',
      components: ['knn-relative', 'iforest'],
      kFraction: 0.01,
      combine: 'mean',
    },
  },
  {
    name: 'ensemble mean(knn-relative 3%, iforest)',
    options: {
      method: 'ensemble',
      components: ['knn-relative', 'iforest'],
      kFraction: 0.03,
      combine: 'mean',
    },
  },
  {
    name: 'ensemble mean(knn, knn-relative 3%)',
    options: { method: 'ensemble', components: ['knn', 'knn-relative'], kFraction: 0.03, combine: 'mean' },
  },
  {
    name: 'ensemble max(knn, knn-relative 2%)',
    options: { method: 'ensemble', components: ['knn', 'knn-relative'], kFraction: 0.02, combine: 'max' },
  },
  {
    name: 'ensemble max(knn, knn-relative 5%)',
    options: { method: 'ensemble', components: ['knn', 'knn-relative'], kFraction: 0.05, combine: 'max' },
  },
  {
    name: 'ensemble max(knn, knn-relative 3%, iforest)',
    options: {
      method: 'ensemble',
      components: ['knn', 'knn-relative', 'iforest'],
      kFraction: 0.03,
      combine: 'max',
    },
  },
  {
    name: 'ensemble mean(knn, lof, iforest)',
    options: { method: 'ensemble', components: ['knn', 'lof', 'iforest'], combine: 'mean' },
  },
];

interface Row {
  rocAuc: number;
  prAuc: number;
  burstRecall: number;
  isolatedRecall: number;
  falseAlarm: number;
}

function subset(
  data: SyntheticEmbeddings,
  rows: number[],
): { x: Float32Array; labels: Uint8Array; kind: Uint8Array } {
  const { d } = data;
  const x = new Float32Array(rows.length * d);
  rows.forEach((r, i) => {
    x.set(data.x.subarray(r * d, (r + 1) * d), i * d);
  });
  return {
    x,
    labels: Uint8Array.from(rows, (r) => data.labels[r]!),
    kind: Uint8Array.from(rows, (r) => data.kind[r]!),
  };
}

function measure(scores: Float32Array, flags: Uint8Array, labels: Uint8Array, kind: Uint8Array): Row {
  const rate = (k: number) => {
    let hit = 0;
    let all = 0;
    kind.forEach((v, i) => {
      if (v === k) {
        all++;
        hit += flags[i]!;
      }
    });
    return all ? hit / all : Number.NaN;
  };
  return {
    rocAuc: rocAuc(scores, labels),
    prAuc: averagePrecision(scores, labels),
    burstRecall: rate(ROW_KIND.burst),
    isolatedRecall: rate(ROW_KIND.isolated),
    falseAlarm: rate(ROW_KIND.normal),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '5' },
      normals: { type: 'string', default: '5000' },
      d: { type: 'string', default: '64' },
      only: { type: 'string' },
    },
  });
  const only = values.only ? new RegExp(values.only) : undefined;
  const variants = VARIANTS.filter((v) => !only || only.test(v.name));
  const seeds = Number(values.seeds);
  const normals = Number(values.normals);
  const d = Number(values.d);
  const runtime = nodeKnnRuntime({ device: 'cpu', threads: 1 });
  const results = new Map<string, { inside: Row[]; queries: Row[]; ms: number }>();
  for (let seed = 1; seed <= seeds; seed++) {
    const data = syntheticEmbeddings({ d, normals, seed });
    const n = data.labels.length;
    const random = mulberry32(seed + 1000);
    const normalRows: number[] = [];
    const anomalyRows: number[] = [];
    for (let i = 0; i < n; i++) (data.labels[i] ? anomalyRows : normalRows).push(i);
    for (let i = normalRows.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [normalRows[i], normalRows[j]] = [normalRows[j]!, normalRows[i]!];
    }
    const cut = Math.floor(normalRows.length * 0.7);
    const train = subset(data, normalRows.slice(0, cut));
    const test = subset(data, [...normalRows.slice(cut), ...anomalyRows]);
    for (const v of variants) {
      const t0 = performance.now();
      const inside = await fitScorer(data.x, d, v.options, runtime);
      const insideFlags = Uint8Array.from(inside.referenceScores, (s) => (s > inside.threshold ? 1 : 0));
      const clean = await fitScorer(train.x, d, v.options, runtime);
      const scored = await score(clean, train.x, test.x, d, runtime);
      const ms = performance.now() - t0;
      const r = results.get(v.name) ?? { inside: [], queries: [], ms: 0 };
      r.inside.push(measure(inside.referenceScores, insideFlags, data.labels, data.kind));
      r.queries.push(measure(scored.scores, scored.isAnomaly, test.labels, test.kind));
      r.ms += ms / seeds;
      results.set(v.name, r);
    }
    process.stderr.write(`seed ${seed}: ${n} rows, ${anomalyRows.length} anomalies\n`);
  }
  const mean = (rows: Row[], key: keyof Row) => rows.reduce((a, r) => a + r[key], 0) / rows.length;
  const min = (rows: Row[], key: keyof Row) => Math.min(...rows.map((r) => r[key]));
  const f = (x: number) => x.toFixed(3);
  console.log(`synthetic embeddings: d=${d}, ${normals} normals, seeds 1–${seeds} (mean, min in brackets)\n`);
  console.log(
    '| method | inside: ROC-AUC | inside: PR-AUC | inside: burst / isolated recall @p95 | queries: ROC-AUC | queries: PR-AUC | queries: burst / isolated recall, false alarms @p95 | ms per seed |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, r] of results) {
    console.log(
      `| ${name} | ${f(mean(r.inside, 'rocAuc'))} (${f(min(r.inside, 'rocAuc'))}) | ${f(mean(r.inside, 'prAuc'))} (${f(min(r.inside, 'prAuc'))}) | ${f(mean(r.inside, 'burstRecall'))} / ${f(mean(r.inside, 'isolatedRecall'))} | ${f(mean(r.queries, 'rocAuc'))} (${f(min(r.queries, 'rocAuc'))}) | ${f(mean(r.queries, 'prAuc'))} (${f(min(r.queries, 'prAuc'))}) | ${f(mean(r.queries, 'burstRecall'))} / ${f(mean(r.queries, 'isolatedRecall'))}, ${f(mean(r.queries, 'falseAlarm'))} | ${r.ms.toFixed(0)} |`,
    );
  }
}

await main();
