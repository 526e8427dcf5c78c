// Using ocsf-embed from Node: score events with the default model that ships in the package, then train
// a small model of your own and score with it. Run with `node node.mjs` in a project that installed
// ocsf-embed. The events here come from the package's generator; use your own OCSF events instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluate, generate, openRun, train } from 'ocsf-embed';

// A day of events the models have not seen, with labelled anomalies (2%).
const { events, labels } = generate({ events: 1000, seed: 7, start: '2026-01-06T00:00:00Z' });
const isAnomaly = new Map(labels.map((l) => [l.uid, l.is_anomaly]));

/** ROC-AUC of scores against the generator's labels. */
function rocAuc(scored) {
  const truth = scored.uids.map((uid) => isAnomaly.get(uid) === true);
  return evaluate(scored.scores, truth).rocAuc;
}

// 1. The default model: a run directory (model.onnx, reference.safetensors, scorer.json).
const defaultRun = dirname(fileURLToPath(import.meta.resolve('ocsf-embed/models/default/model.onnx')));
const model = await openRun(defaultRun);
const scored = await model.score(events);
const flagged = scored.isAnomaly.reduce((n, x) => n + x, 0);
console.log(`default model: scored ${scored.scores.length} events, ${flagged} above the threshold`);
console.log(`default model: ROC-AUC ${rocAuc(scored).toFixed(3)} against the generator's labels`);
const top = [...scored.scores.keys()].sort((a, b) => scored.scores[b] - scored.scores[a]).slice(0, 3);
for (const i of top) {
  console.log(
    `  ${scored.uids[i]}  score ${scored.scores[i].toFixed(3)}  nearest ${scored.nearest[i].join(', ')}`,
  );
}
await model.release();

// 2. A model of your own: train a run directory on events (objects in memory, or files).
const out = join(mkdtempSync(join(tmpdir(), 'ocsf-embed-example-')), 'run');
const { events: training } = generate({ events: 1500, seed: 8 });
let batches = 0;
const run = await train({
  events: training,
  out,
  config: { model: { dModel: 16, numBlocks: 1 } },
  fit: { epochs: 1 },
  batchSize: 64,
  onProgress: () => batches++,
  onEpoch: (r) => console.log(`epoch ${r.epoch}: train loss ${r.train_loss.toFixed(3)}`),
});
const mine = await openRun(run.runDir);
const embeddings = await mine.embed(events.slice(0, 10));
console.log(
  `trained ${run.result.position.step} steps (${batches} progress calls); embedding width ${mine.dimension}`,
);
console.log(`embedded ${embeddings.length / mine.dimension} events`);
const own = await mine.score(events);
console.log(`own model: scored ${own.scores.length} events, ROC-AUC ${rocAuc(own).toFixed(3)}`);
await mine.release();
rmSync(dirname(out), { recursive: true, force: true });
