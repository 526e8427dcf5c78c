// The package section: packs the project, installs the tarball into a fresh project (as
// test/package/package.test.ts does), then times the installed CLI's `--version` and `--help` against a bare
// `node -e 0` and against the checkout's CLI (TypeScript through tsx), in alternating rounds.
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { packAndInstall, ROOT, userEnv } from '../pack-install.ts';
import { median } from './stats.ts';

/** What the package section measured. */
export interface PackageBenchResult {
  tarballBytes: number;
  files: number;
  /** Build, pack and install, wall seconds. */
  installSeconds: number;
  rounds: number;
  /** Median wall milliseconds per command, process start to exit. */
  medianMs: { node: number; version: number; help: number; checkoutVersion: number };
  /** Installed `--version` over `node -e 0`, both medians of the same rounds. */
  versionOverNode: number;
}

function timeMs(cmd: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, env: userEnv(), stdio: 'ignore' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
  return ms;
}

/** Packs, installs and times the CLI's start over `rounds` alternating rounds. */
export function benchPackage(rounds: number): PackageBenchResult {
  const t0 = performance.now();
  const installed = packAndInstall();
  const installSeconds = (performance.now() - t0) / 1000;
  try {
    const cli = join(installed.project, 'node_modules', '.bin', 'ocsf-embed');
    const checkout = join(ROOT, 'bin', 'ocsf-embed.js');
    const samples = {
      node: [] as number[],
      version: [] as number[],
      help: [] as number[],
      checkoutVersion: [] as number[],
    };
    timeMs(cli, ['--version'], installed.project); // warm the file cache
    for (let i = 0; i < rounds; i++) {
      samples.node.push(timeMs(process.execPath, ['-e', '0'], installed.project));
      samples.version.push(timeMs(cli, ['--version'], installed.project));
      samples.help.push(timeMs(cli, ['--help'], installed.project));
      samples.checkoutVersion.push(timeMs(process.execPath, [checkout, '--version'], ROOT));
    }
    const medianMs = {
      node: median(samples.node),
      version: median(samples.version),
      help: median(samples.help),
      checkoutVersion: median(samples.checkoutVersion),
    };
    return {
      tarballBytes: statSync(installed.tarball).size,
      files: installed.files.length,
      installSeconds,
      rounds,
      medianMs,
      versionOverNode: medianMs.version / medianMs.node,
    };
  } finally {
    rmSync(installed.dir, { recursive: true, force: true });
  }
}
