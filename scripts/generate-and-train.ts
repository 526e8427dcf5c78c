// `npm start`: generates a day of synthetic OCSF events with labelled anomalies, trains the quick-start
// model on it (contrastive, dModel 128 × 4 blocks, on the CPU, within a 100 s budget), exports model.onnx,
// scores the next day's events against it and prints detection quality. Leaves everything in runs/demo.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTrainingChoices } from '../graphs/config.ts';
import { interruptOnSigint } from '../src/cli/interrupt.ts';
import { DEFAULT_START, generate } from '../src/data/generate/index.ts';
import { writeGenerated } from '../src/data/generate-writer.ts';
import { finishRun } from '../src/train/finish.node.ts';
import { FIT_DEFAULTS, trainRun } from '../src/train/run.node.ts';

const RUN = process.env.OCSF_EMBED_DEMO_DIR ?? 'runs/demo';
const EVENTS = Number(process.env.OCSF_EMBED_DEMO_EVENTS ?? 72_000);
const HELD_OUT = Math.round(EVENTS / 3);
/** The quick-start model: smaller than the benchmarks' demo config (dModel 256 × 6) so it trains in minutes. */
const QUICK_START = { dModel: 128, numBlocks: 4, epochs: 10, budgetSeconds: 100 };

async function main(): Promise<void> {
  const t0 = performance.now();
  rmSync(RUN, { recursive: true, force: true });
  mkdirSync(RUN, { recursive: true });
  const dataDir = join(RUN, 'data');
  mkdirSync(dataDir, { recursive: true });
  const trainFile = join(dataDir, 'events.jsonl');
  const g = await writeGenerated({
    events: EVENTS,
    seed: 1,
    out: trainFile,
    labels: join(dataDir, 'events.labels.jsonl'),
  });
  console.log(`generated ${g.events} training events (day 1, ${g.anomalies} anomalous) → ${trainFile}`);
  const nextDay = new Date(Date.parse(DEFAULT_START) + 24 * 3600 * 1000).toISOString();
  await writeGenerated({
    events: HELD_OUT,
    seed: 2,
    worldSeed: 1,
    start: nextDay,
    out: join(dataDir, 'heldout.jsonl'),
    labels: join(dataDir, 'heldout.labels.jsonl'),
  });
  const heldOut = generate({ events: HELD_OUT, seed: 2, worldSeed: 1, start: nextDay });
  console.log(`generated ${HELD_OUT} held-out events (day 2) → ${join(dataDir, 'heldout.jsonl')}`);

  const config = resolveTrainingChoices({
    model: { dModel: QUICK_START.dModel, numBlocks: QUICK_START.numBlocks, dropout: 0.1 },
    objective: {},
  });
  console.log(
    `training the quick-start model (dModel ${QUICK_START.dModel} × ${QUICK_START.numBlocks} blocks) for up to ${QUICK_START.epochs} epochs or ${QUICK_START.budgetSeconds} s, whichever comes first (Ctrl-C stops it with a checkpoint)`,
  );
  const interrupt = interruptOnSigint();
  let result: Awaited<ReturnType<typeof trainRun>>;
  try {
    result = await trainRun({
      inputs: [trainFile],
      out: RUN,
      config,
      fit: {
        ...FIT_DEFAULTS,
        epochs: QUICK_START.epochs,
        lr: 1e-3,
        patience: 3,
        maxSeconds: QUICK_START.budgetSeconds,
      },
      batchSize: 256,
      valFraction: 0.1,
      seed: 1,
      device: 'cpu',
      stop: interrupt.signal,
    });
  } finally {
    interrupt.dispose();
  }
  const finished = await finishRun(result, {
    heldOut: {
      events: heldOut.events,
      labels: new Map(heldOut.labels.map((l) => [l.uid, l.is_anomaly])),
      scenarios: new Map(heldOut.labels.flatMap((l) => (l.scenario ? [[l.uid, l.scenario] as const] : []))),
      name: `${HELD_OUT} held-out events of day 2`,
    },
  });
  const d = finished.detection;
  console.log('');
  console.log('── summary ─────────────────────────────────────────────');
  console.log(`run directory   ${RUN}  (model.onnx, report.html, checkpoints, metrics.jsonl)`);
  console.log(
    `training        ${result.position.step} steps, ${Math.round(result.samplesPerSecond)} samples/s, ${result.position.stopReason}`,
  );
  if (d) {
    const at = d.atThreshold;
    console.log(
      `detection       ${d.on}: ROC-AUC ${d.rocAuc.toFixed(3)}, PR-AUC ${d.prAuc.toFixed(3)} (anomaly rate ${(d.anomalies / d.rows).toFixed(3)})`,
    );
    if (at)
      console.log(
        `at threshold    precision ${at.precision.toFixed(3)}, recall ${at.recall.toFixed(3)}, ${at.tp + at.fp} flagged`,
      );
  }
  console.log(`report          ${finished.reportPath}`);
  console.log(`total time      ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  console.log(
    `next: \`npx ocsf-embed score ${join(dataDir, 'heldout.jsonl')} --model ${RUN} --out scores.jsonl\`, then \`npx ocsf-embed eval-scores scores.jsonl --labels ${join(dataDir, 'heldout.labels.jsonl')}\``,
  );
}

await main();
