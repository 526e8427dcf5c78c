// Packing this project and installing the tarball into a fresh project, as a user would: the package test
// and the benchmark's package section both start from here.
import { type SpawnSyncOptions, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '..');

/** The environment of a user's shell: none of the npm_* settings an npm script passes down from this checkout. */
export function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

/** Runs a command to completion; throws with its output when it fails. Returns stdout. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: userEnv(), ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  return String(r.stdout);
}

/** The install-script policy the README tells npm 11 users to put in their package.json. */
export const USER_ALLOW_SCRIPTS = { 'onnxruntime-node': false, protobufjs: false, esbuild: false };

/** A packed and installed copy of the package. */
export interface InstalledPackage {
  /** Temporary folder holding the tarball and the project; remove it when done. */
  dir: string;
  tarball: string;
  /** Paths inside the tarball. */
  files: string[];
  /** The consuming project, with the package in node_modules/ocsf-embed. */
  project: string;
}

/**
 * Builds dist/, packs the project and installs the tarball (and `extra` packages, e.g. `onnxruntime-web@1.30.0`)
 * into a new project, preferring the local npm cache.
 */
export function packAndInstall(extra: string[] = []): InstalledPackage {
  const dir = mkdtempSync(join(tmpdir(), 'ocsf-embed-package-'));
  const project = join(dir, 'consumer');
  mkdirSync(project);
  run(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
    },
  );
  const info = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT })) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(dir, info[0]!.filename);
  const pkg = { name: 'consumer', private: true, type: 'module', allowScripts: USER_ALLOW_SCRIPTS };
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  run('npm', ['install', tarball, ...extra, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project });
  return { dir, tarball, files: info[0]!.files.map((f) => f.path), project };
}

/** This checkout's version of a dev dependency, as an install spec (`name@range`). */
export function devDependency(name: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const range = pkg.devDependencies[name];
  if (!range) throw new Error(`${name} is not a dev dependency`);
  return `${name}@${range}`;
}
