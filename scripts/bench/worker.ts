// The child-process side of the benchmark: runs the jobs listed in a JSON file, one after the other, and
// after each writes every outcome so far (result or error, peak RSS, load average at its start) to a file.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type ConfigName, modelSize, trainPlan } from './configs.ts';
import { benchInference, INFERENCE_CASES, inferenceBatches } from './inference.ts';
import { benchMatmul, matmulShapes } from './matmul.ts';
import { benchMemory, memoryPlan } from './memory.ts';
import { profileTraining } from './profile.ts';
import { QUICK_START_EVENTS } from './start.ts';
import { type TrainRuntime, timeTraining } from './train.ts';
import { benchTrainer, trainerBatches, trainerRounds } from './trainer.ts';

/** One unit of work. */
export type Job =
  | { kind: 'train'; config: ConfigName; runtime: TrainRuntime; threads: number; quick: boolean }
  | { kind: 'profile'; config: ConfigName; threads: number; quick: boolean; dir: string }
  | { kind: 'matmul'; threads: number; quick: boolean }
  | { kind: 'infer'; caseName: string; runtime: 'node' | 'wasm'; threads: number; quick: boolean }
  | { kind: 'memory'; config: ConfigName; quick: boolean }
  | { kind: 'ingest'; format: 'jsonl' | 'parquet'; events: number }
  | { kind: 'scoring'; quick: boolean }
  | { kind: 'trainer'; config: ConfigName; threads: number; quick: boolean }
  | { kind: 'serve'; quick: boolean }
  | { kind: 'stream'; quick: boolean }
  | { kind: 'start'; quick: boolean }
  | { kind: 'package'; quick: boolean };

/** What one job reported: its result or its error, the process's peak RSS so far, and the load at its start. */
export type JobOutcome = { job: Job; peakRssMiB: number; load1AtStart: number; seconds: number } & (
  | { ok: true; result: unknown }
  | { ok: false; error: string }
);

/** Runs one job in this process. */
export async function runJob(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'train':
      if (job.runtime === 'chromium') {
        const { timeTrainingInChromium } = await import('./browser.ts');
        return timeTrainingInChromium(modelSize(job.config, job.quick), job.threads, trainPlan(job.quick));
      }
      return timeTraining(
        modelSize(job.config, job.quick),
        { runtime: job.runtime, threads: job.threads },
        trainPlan(job.quick),
      );
    case 'profile':
      return profileTraining(
        modelSize(job.config, job.quick),
        job.threads,
        job.quick ? 1 : 3,
        job.quick ? 2 : 20,
        job.dir,
      );
    case 'matmul':
      return benchMatmul(matmulShapes(job.quick), job.threads, job.quick);
    case 'infer': {
      const c = INFERENCE_CASES.find((x) => x.name === job.caseName);
      if (!c) throw new Error(`unknown inference case ${job.caseName}`);
      return benchInference(
        c,
        { runtime: job.runtime, threads: job.threads },
        inferenceBatches(job.quick),
        job.quick,
      );
    }
    case 'memory':
      return benchMemory(modelSize(job.config, job.quick), memoryPlan(job.quick));
    case 'ingest': {
      const { benchIngest } = await import('./ingest.ts');
      return benchIngest({
        events: job.events,
        formats: [job.format],
        fitSample: Math.min(10_000, job.events),
      });
    }
    case 'scoring': {
      const { benchScoring } = await import('./scoring.ts');
      return benchScoring(
        job.quick
          ? { events: 300, trainEvents: 600, knnQueries: 64 }
          : { events: 50_000, trainEvents: 18_400 },
      );
    }
    case 'trainer':
      return benchTrainer(
        modelSize(job.config, job.quick),
        job.threads,
        trainPlan(job.quick),
        trainerBatches(job.quick),
        trainerRounds(job.quick),
      );
    case 'serve': {
      const { benchServeSection, servePlan } = await import('./service.ts');
      return benchServeSection(servePlan(job.quick));
    }
    case 'package': {
      const { benchPackage } = await import('./package.ts');
      return benchPackage(job.quick ? 3 : 20);
    }
    case 'stream': {
      const { benchStream, streamPlan } = await import('./stream.ts');
      return benchStream(streamPlan(job.quick));
    }
    case 'start': {
      const { benchStart } = await import('./start.ts');
      return benchStart(job.quick ? { events: QUICK_START_EVENTS, timeoutMs: 60_000 } : {});
    }
  }
}

/** Runs `jobs` in order, calling `report` with all outcomes after each one. */
export async function runJobs(jobs: Job[], report: (outcomes: JobOutcome[]) => void): Promise<JobOutcome[]> {
  const outcomes: JobOutcome[] = [];
  for (const job of jobs) {
    const load1AtStart = loadavg()[0]!;
    const t0 = performance.now();
    let outcome: JobOutcome;
    try {
      const result = await runJob(job);
      outcome = { job, ok: true, result, peakRssMiB: 0, load1AtStart, seconds: 0 };
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      outcome = { job, ok: false, error: message, peakRssMiB: 0, load1AtStart, seconds: 0 };
    }
    outcome.peakRssMiB = process.resourceUsage().maxRSS / 1024;
    outcome.seconds = (performance.now() - t0) / 1000;
    outcomes.push(outcome);
    report(outcomes);
  }
  return outcomes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [jobsFile, outFile] = process.argv.slice(2);
  if (!jobsFile || !outFile) throw new Error('usage: worker.ts <jobs.json> <outcomes.json>');
  const jobs = JSON.parse(readFileSync(jobsFile, 'utf8')) as Job[];
  await runJobs(jobs, (outcomes) => writeFileSync(outFile, JSON.stringify(outcomes)));
}
