// The end-to-end section: runs `npm start`'s script (scripts/generate-and-train.ts) in a child process on a
// temporary run folder and reports its wall time, peak RSS and the training and detection lines of its summary.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The script `npm start` runs. */
export const START_SCRIPT = 'scripts/generate-and-train.ts';

/** Events of the quick run (`OCSF_EMBED_DEMO_EVENTS`); the full run uses the script's default. */
export const QUICK_START_EVENTS = 3000;

/** What the summary of scripts/generate-and-train.ts says, parsed. */
export interface StartSummary {
  trainingEvents: number | null;
  steps: number | null;
  samplesPerSecond: number | null;
  stopReason: string | null;
  detectionOn: string | null;
  rocAuc: number | null;
  prAuc: number | null;
  anomalyRate: number | null;
  precision: number | null;
  recall: number | null;
  flagged: number | null;
  /** The script's own `total time` line, seconds. */
  scriptSeconds: number | null;
}

/** What the end-to-end run measured. */
export interface StartBenchResult extends StartSummary {
  command: string;
  /** `OCSF_EMBED_DEMO_EVENTS` when set (quick mode), else null (the script's default). */
  eventsOverride: number | null;
  /** Wall time of the child process, start to exit. */
  wallSeconds: number;
  /** Largest VmHWM of the child seen while polling /proc every 200 ms (null where /proc is missing). */
  peakRssMiB: number | null;
  /** The summary block as printed. */
  summaryLines: string[];
}

const num = (s: string | undefined): number | null => (s === undefined ? null : Number(s));

/** Parses the `generated …`, `training …`, `detection …`, `at threshold …` and `total time …` lines. */
export function parseStartOutput(out: string): StartSummary {
  const gen = /^generated (\d+) training events/m.exec(out);
  const train = /^training\s+(\d+) steps, (\d+) samples\/s, (.+)$/m.exec(out);
  const det = /^detection\s+(.+): ROC-AUC ([\d.]+|NaN), PR-AUC ([\d.]+|NaN) \(anomaly rate ([\d.]+)\)$/m.exec(
    out,
  );
  const at = /^at threshold\s+precision ([\d.]+), recall ([\d.]+), (\d+) flagged$/m.exec(out);
  const total = /^total time\s+(\d+) s$/m.exec(out);
  return {
    trainingEvents: num(gen?.[1]),
    steps: num(train?.[1]),
    samplesPerSecond: num(train?.[2]),
    stopReason: train?.[3]?.trim() ?? null,
    detectionOn: det?.[1] ?? null,
    rocAuc: num(det?.[2]),
    prAuc: num(det?.[3]),
    anomalyRate: num(det?.[4]),
    precision: num(at?.[1]),
    recall: num(at?.[2]),
    flagged: num(at?.[3]),
    scriptSeconds: num(total?.[1]),
  };
}

function vmHwmMiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs `node --import tsx scripts/generate-and-train.ts` (what `npm start` runs, without npm's own start-up)
 * with `OCSF_EMBED_DEMO_DIR` set to a temporary folder, removed afterwards.
 */
export async function benchStart(
  opts: { events?: number; timeoutMs?: number } = {},
): Promise<StartBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-bench-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, OCSF_EMBED_DEMO_DIR: join(dir, 'demo') };
  if (opts.events !== undefined) env.OCSF_EMBED_DEMO_EVENTS = String(opts.events);
  const command =
    `OCSF_EMBED_DEMO_DIR=<tmp>${opts.events !== undefined ? ` OCSF_EMBED_DEMO_EVENTS=${opts.events}` : ''} ` +
    `node --import tsx ${START_SCRIPT}`;
  try {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', START_SCRIPT], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peak: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    const poll = setInterval(() => {
      const hwm = child.pid === undefined ? null : vmHwmMiB(child.pid);
      if (hwm !== null) peak = Math.max(peak ?? 0, hwm);
    }, 200);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 9 * 60_000);
    const { code, signal } = await new Promise<{ code: number | null; signal: string | null }>((done) =>
      child.on('close', (c, s) => done({ code: c, signal: s })),
    );
    const wallSeconds = (performance.now() - t0) / 1000;
    clearInterval(poll);
    clearTimeout(timer);
    if (code !== 0) {
      const tail = (stderr || stdout).trim().split('\n').slice(-4).join(' | ');
      throw new Error(
        `${START_SCRIPT} ${signal ? `was killed (${signal})` : `exited with ${code}`}: ${tail}`,
      );
    }
    const summary = parseStartOutput(stdout);
    if (summary.samplesPerSecond === null || summary.rocAuc === null) {
      throw new Error(`${START_SCRIPT} printed no training or detection line:\n${stdout.slice(-1500)}`);
    }
    const from = stdout.indexOf('── summary');
    return {
      ...summary,
      command,
      eventsOverride: opts.events ?? null,
      wallSeconds,
      peakRssMiB: peak,
      summaryLines: from >= 0 ? stdout.slice(from).replaceAll(dir, '<tmp>').trim().split('\n').slice(1) : [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
