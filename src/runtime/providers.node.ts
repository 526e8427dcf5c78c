// Cheap, side-effect-free checks of what onnxruntime-node's execution providers need on this host:
// where the native binding lives, which provider libraries sit next to it, which shared libraries they lack.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The onnxruntime-node package folder that `import 'onnxruntime-node'` loads (from this module). */
export function ortNodeDir(): string {
  const require = createRequire(import.meta.url);
  // .../onnxruntime-node/dist/index.js → .../onnxruntime-node
  return dirname(dirname(require.resolve('onnxruntime-node')));
}

/** The folder holding the native binding and libonnxruntime; provider libraries must be placed here. */
export function ortBinDir(
  packageDir: string = ortNodeDir(),
  platform = process.platform,
  arch = process.arch,
): string {
  return join(packageDir, 'bin', 'napi-v6', platform, arch);
}

/** File names of the CUDA provider libraries ONNX Runtime loads for `platform` (CUDA's own library first). */
export function cudaProviderFiles(platform = process.platform): string[] {
  return platform === 'win32'
    ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']
    : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
}

/** The CUDA provider files missing from `binDir` (empty when all are there). */
export function missingCudaProviderFiles(
  binDir: string = ortBinDir(),
  platform = process.platform,
): string[] {
  return cudaProviderFiles(platform).filter((f) => !existsSync(join(binDir, f)));
}

/** Parses `ldd` output into the names it marks `not found`. */
export function parseLddNotFound(output: string): string[] {
  const missing: string[] = [];
  for (const line of output.split('\n')) {
    const m = line.match(/^\s*(\S+)\s+=>\s+not found/);
    if (m && !missing.includes(m[1]!)) missing.push(m[1]!);
  }
  return missing;
}

/**
 * The shared libraries `library` needs that the dynamic loader cannot find, by running `ldd` (Linux only).
 * Returns `undefined` when that cannot be told (no ldd, another OS, ldd failed).
 */
export function missingSharedLibraries(library: string): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const out = execFileSync('ldd', [library], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseLddNotFound(out);
  } catch {
    return undefined;
  }
}

/** Lines of `ldconfig -p`, or undefined where ldconfig cannot be run. */
function ldconfigCache(): string | undefined {
  for (const cmd of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(cmd, ['-p'], {
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      // try the next location
    }
  }
  return undefined;
}

/**
 * Whether the dynamic loader would find `soname` (e.g. `libvulkan.so.1`): looks in LD_LIBRARY_PATH and
 * the `ldconfig -p` cache, or common library folders where ldconfig is missing. Linux only; elsewhere
 * returns `undefined` (unknown).
 */
export function findSharedLibrary(soname: string): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => existsSync(join(d, soname)))) return true;
  const cache = ldconfigCache();
  if (cache !== undefined) return cache.split('\n').some((l) => l.trim().startsWith(`${soname} `));
  const common = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu'];
  common.push('/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib');
  return common.some((d) => existsSync(join(d, soname)));
}
