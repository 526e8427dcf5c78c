// The service section: trains a small run on generated events (the run `scripts/bench/serve.ts` trains when
// given no --run), then measures `ocsf-embed serve` on it with `benchServe`: /score latency and requests/s
// under concurrent single-event requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveTrainingConfig } from '../../graphs/config.ts';
import { writeGenerated } from '../../src/data/generate-writer.ts';
import { finishRun } from '../../src/train/finish.node.ts';
import { FIT_DEFAULTS, trainRun } from '../../src/train/run.node.ts';
import { benchServe, type ServeBenchResult } from './serve.ts';

/** Sizes of the service section in full or quick mode. */
export interface ServePlan {
  /** Generated events the served run is trained on. */
  trainEvents: number;
  requests: number;
  warmup: number;
  concurrency: number;
}

/** The service plan: serve.ts's defaults in full mode (20,000 training events, 5000 requests, 100 clients). */
export function servePlan(quick: boolean): ServePlan {
  return quick
    ? { trainEvents: 2000, requests: 400, warmup: 200, concurrency: 100 }
    : { trainEvents: 20_000, requests: 5000, warmup: 3000, concurrency: 100 };
}

/** What the service section measured: `benchServe`'s result and how the served run was made. */
export interface ServeSectionResult extends ServeBenchResult {
  /** Untimed requests sent first. */
  warmup: number;
  trainEvents: number;
  /** Generating, training (one epoch) and finishing (reference embeddings, scorer) the run. */
  trainSeconds: number;
  modelConfig: { dModel: number; numBlocks: number };
}

/** Generates events, trains and finishes a run (dModel 64, 2 blocks, one epoch), returns its folder. */
export async function trainServedRun(dir: string, events: number): Promise<{ run: string; seconds: number }> {
  const t0 = performance.now();
  const file = join(dir, 'events.jsonl');
  await writeGenerated({ events, seed: 1, out: file, labels: join(dir, 'labels.jsonl') });
  const result = await trainRun({
    inputs: [file],
    out: join(dir, 'run'),
    config: resolveTrainingConfig({
      model: { numNumerical: 1, cardinalities: [], dModel: 64, numBlocks: 2, dropout: 0.1 },
      objective: { kind: 'contrastive' },
    }),
    fit: { ...FIT_DEFAULTS, epochs: 1 },
    batchSize: 256,
    valFraction: 0.1,
    seed: 1,
    device: 'cpu',
    verbose: false,
  });
  await finishRun(result, { verbose: false });
  return { run: join(dir, 'run'), seconds: (performance.now() - t0) / 1000 };
}

/** Trains the served run, then runs `benchServe` on /score with `plan`'s requests and clients. */
export async function benchServeSection(plan: ServePlan): Promise<ServeSectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-serve-'));
  try {
    const { run, seconds } = await trainServedRun(dir, plan.trainEvents);
    const result = await benchServe({
      run,
      route: '/score',
      requests: plan.requests,
      warmup: plan.warmup,
      concurrency: plan.concurrency,
    });
    return {
      ...result,
      warmup: plan.warmup,
      trainEvents: plan.trainEvents,
      trainSeconds: seconds,
      modelConfig: { dModel: 64, numBlocks: 2 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
