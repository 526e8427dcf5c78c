// The PyTorch reference, run side by side: finds /usr/bin/python3 with torch and the reference scripts,
// runs bench_train.py and bench_matmul.py in their own processes, and returns their JSON (or why not).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The interpreter the reference is documented to run with (Debian's, with python3-torch). */
export const PYTHON = '/usr/bin/python3';

/** The reference scripts' folder: `REFERENCE_DIR` when set, else `../shared/reference` next to the repository root. */
export function referenceDir(repoRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.REFERENCE_DIR ? resolve(env.REFERENCE_DIR) : resolve(repoRoot, '..', 'shared', 'reference');
}

/** The BLAS library PyTorch's GEMMs went through, from the libraries mapped after a matmul. */
export interface BlasInfo {
  kind: 'openblas' | 'mkl' | 'blis' | 'reference' | 'unknown';
  /** A readable name, e.g. `reference BLAS (netlib libblas3)`. */
  name: string;
  libraries: string[];
}

const PROBE = [
  'import os, torch',
  'a = torch.randn(64, 64); a @ a',
  'print(torch.__version__)',
  "keys = ('blas', 'mkl', 'blis', 'lapack')",
  "print(';'.join(sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if any(k in l.split()[-1] for k in keys)})))",
].join('\n');

/** Classifies the mapped BLAS libraries. */
export function classifyBlas(libraries: string[]): BlasInfo {
  const has = (re: RegExp) => libraries.some((l) => re.test(l));
  if (has(/openblas/i)) return { kind: 'openblas', name: 'OpenBLAS', libraries };
  if (has(/mkl/i)) return { kind: 'mkl', name: 'Intel MKL', libraries };
  if (has(/blis/i)) return { kind: 'blis', name: 'BLIS', libraries };
  if (has(/\/blas\/libblas\.so/))
    return { kind: 'reference', name: 'reference BLAS (netlib libblas3)', libraries };
  return { kind: 'unknown', name: 'unknown BLAS', libraries };
}

/** Whether the reference can run here: its scripts, the interpreter and torch; torch's version and BLAS when so. */
export function probeReference(
  repoRoot: string,
): { ok: true; torch: string; blas: BlasInfo; dir: string } | { ok: false; reason: string } {
  const dir = referenceDir(repoRoot);
  for (const f of ['bench_train.py', 'bench_matmul.py', 'tabular_resnet_ref.py']) {
    if (!existsSync(join(dir, f)))
      return { ok: false, reason: `${join(dir, f)} not found (set REFERENCE_DIR)` };
  }
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, ['-c', PROBE], { encoding: 'utf8' });
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return { ok: false, reason: `${PYTHON} cannot import torch (${last || `exit ${r.status}`})` };
  }
  const [version = '', libs = ''] = r.stdout.trim().split('\n');
  return { ok: true, torch: version.trim(), blas: classifyBlas(libs.split(';').filter(Boolean)), dir };
}

/** Runs a Python script, streaming its stderr progress to ours; rejects with the tail of stderr on failure. */
function runPython(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(PYTHON, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    let pending = '';
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      tail = (tail + text).slice(-2000);
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) process.stderr.write(`    [torch] ${line}\n`);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) done();
      else
        fail(
          new Error(
            `${args[0]} ${signal ? `was stopped (${signal})` : `exited with ${code}`}: ${tail.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
    });
  });
}

/** How the reference is run: the arguments passed to its scripts, for the record. */
export interface ReferencePlan {
  trainArgs: string[];
  matmulRuns: { blasThreads: number; args: string[] }[];
}

/**
 * The reference runs: bench_train.py for the configs (one repeat; warm-up epoch, then measured epochs) and
 * bench_matmul.py at 1 and 2 BLAS threads. On the single-threaded reference BLAS every GEMM is ~10× slower, so
 * the plan shrinks (no warm-up epoch, one measured epoch whose median step is still over ~40 steps, one inference
 * pass, no 2048² matmul) to keep the run within minutes.
 */
export function referencePlan(configs: string[], blas: BlasInfo): ReferencePlan {
  const slow = blas.kind === 'reference';
  const idle = ['--max-idle-wait', '5'];
  return {
    trainArgs: [
      '--configs',
      configs.join(','),
      '--repeats',
      '1',
      '--warmup',
      slow ? '0' : '1',
      '--epochs',
      slow ? '1' : '3',
      '--infer-passes',
      slow ? '1' : '5',
      '--blas-threads',
      '2',
      ...idle,
    ],
    matmulRuns: [1, 2].map((t) => ({
      blasThreads: t,
      args: ['--thread-configs', `1x${t}`, '--sizes', slow ? '512,1024' : '512,1024,2048', ...idle],
    })),
  };
}

/** Raw JSON the reference scripts wrote. */
export interface ReferenceOutput {
  train?: unknown;
  trainError?: string;
  matmul: { blasThreads: number; result?: unknown; error?: string }[];
  trainCommand: string;
  matmulCommands: string[];
}

/**
 * Runs bench_train.py and bench_matmul.py. OpenBLAS's pool is sized with OPENBLAS_NUM_THREADS as well as the
 * scripts' own threadpoolctl call, so the thread counts hold where threadpoolctl is not installed.
 */
export async function runReference(dir: string, plan: ReferencePlan): Promise<ReferenceOutput> {
  const tmp = mkdtempSync(join(tmpdir(), 'ocsf-bench-ref-'));
  try {
    const trainOut = join(tmp, 'train.json');
    const trainArgs = [join(dir, 'bench_train.py'), ...plan.trainArgs, '--out', trainOut];
    const out: ReferenceOutput = {
      matmul: [],
      trainCommand: `OPENBLAS_NUM_THREADS=2 ${PYTHON} ${trainArgs.join(' ').replace(tmp, '<tmp>')}`,
      matmulCommands: [],
    };
    try {
      await runPython(trainArgs, { ...process.env, OPENBLAS_NUM_THREADS: '2' }, 15 * 60_000);
      out.train = JSON.parse(readFileSync(trainOut, 'utf8'));
    } catch (error) {
      out.trainError = error instanceof Error ? error.message : String(error);
    }
    for (const run of plan.matmulRuns) {
      const file = join(tmp, `matmul-${run.blasThreads}.json`);
      const args = [join(dir, 'bench_matmul.py'), ...run.args, '--out', file];
      const env = { ...process.env, OPENBLAS_NUM_THREADS: String(run.blasThreads) };
      out.matmulCommands.push(
        `OPENBLAS_NUM_THREADS=${run.blasThreads} ${PYTHON} ${args.join(' ').replace(tmp, '<tmp>')}`,
      );
      try {
        await runPython(args, env, 5 * 60_000);
        out.matmul.push({ blasThreads: run.blasThreads, result: JSON.parse(readFileSync(file, 'utf8')) });
      } catch (error) {
        out.matmul.push({
          blasThreads: run.blasThreads,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
