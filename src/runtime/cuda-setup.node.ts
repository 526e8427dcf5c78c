// The opt-in CUDA set-up behind `npm run setup:cuda`: runs onnxruntime-node's own installer for the CUDA 12
// provider libraries, explains failures, and reports which runtime libraries are still missing.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cudaProviderFiles,
  missingCudaProviderFiles,
  missingSharedLibraries,
  ortBinDir,
} from './providers.node.ts';

/** What the installer run produced. */
export interface InstallResult {
  ok: boolean;
  /** The installer's stderr (and the spawn error, if any). */
  stderr: string;
  status: number | null;
}

/** Platforms where onnxruntime-node's installer knows a CUDA manifest (its install-metadata.js). */
export function cudaInstallSupported(platform = process.platform, arch = process.arch): boolean {
  return platform === 'linux' && arch === 'x64';
}

/** The onnxruntime-node version installed in `packageDir`. */
export function ortNodeVersion(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Runs onnxruntime-node's installer (`script/install.js`), which downloads Microsoft.ML.OnnxRuntime.Gpu.Linux
 * (same version) from api.nuget.org and copies libonnxruntime_providers_{cuda,shared,tensorrt}.so next to
 * the binding.
 *
 * It is started with `ONNXRUNTIME_NODE_INSTALL=true` ("force the platform's manifest", which is `cuda12`
 * on linux/x64) rather than `cuda12`: in onnxruntime-node 1.30.0, `parseInstallFlag()` returns `undefined`
 * for `cuda12` (the switch's default branch has no return), and with `undefined` the installer exits
 * without doing anything when npm runs it inside the project. The environment variable also wins over the
 * project `.npmrc`'s `onnxruntime-node-install=skip`, which npm exports as `npm_config_*`; those are removed
 * from the child's environment too.
 */
export function runOrtInstaller(packageDir: string): InstallResult {
  const r = spawnSync(
    process.execPath,
    [join(packageDir, 'script', 'install.js'), '--onnxruntime-node-install'],
    {
      cwd: packageDir,
      env: installerEnv(process.env),
      stdio: ['ignore', 'inherit', 'pipe'],
      encoding: 'utf8',
      timeout: 30 * 60_000,
    },
  );
  const stderr = `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  return { ok: r.status === 0 && !r.error, stderr, status: r.status };
}

/** The installer's environment: forced install, none of npm's settings that would make it skip. */
export function installerEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ONNXRUNTIME_NODE_INSTALL: 'true' };
  delete env.ONNXRUNTIME_NODE_INSTALL_CUDA;
  delete env.npm_config_onnxruntime_node_install;
  delete env.npm_config_onnxruntime_node_install_cuda;
  delete env.npm_config_local_prefix;
  delete env.npm_package_json;
  return env;
}

/** Whether an installer failure looks like the network (no DNS, refused, timed out, proxy/TLS, HTTP error). */
export function isNetworkFailure(stderr: string): boolean {
  return /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|getaddrinfo|socket hang up|certificate|HTTP status code|Failed to download/i.test(
    stderr,
  );
}

/** The most telling line of an installer failure (the first `Error:` line, else the last non-empty line). */
export function installerErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /^(\w*Error|Error)\b/.test(l)) ?? lines.at(-1) ?? 'no error output';
}

/** The text shown when the download failed. */
export function downloadFailureMessage(stderr: string, binDir: string, version: string): string {
  const line = installerErrorLine(stderr);
  const network = isNetworkFailure(stderr);
  return [
    `Could not install the CUDA provider libraries: ${line}`,
    network
      ? 'onnxruntime-node downloads them from api.nuget.org (package Microsoft.ML.OnnxRuntime.Gpu.Linux ' +
        `${version}), which this machine cannot reach.`
      : "onnxruntime-node's installer failed (see its output above).",
    'Ways forward:',
    '  - behind a proxy: set GLOBAL_AGENT_HTTPS_PROXY=http://host:port (the installer uses global-agent) and rerun;',
    `  - on a machine with internet: download microsoft.ml.onnxruntime.gpu.linux.${version}.nupkg from nuget.org,`,
    `    unzip runtimes/linux-x64/native/libonnxruntime_providers_{cuda,shared}.so and copy them into ${binDir};`,
    '  - npm registry only: the CUDA 13 provider libraries of ONNX Runtime 1.29.0 in the npm package',
    '    com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 pair with onnxruntime-node@1.29.0 only:',
    '    see "CUDA from the npm registry alone" in docs/gpu.md.',
  ].join('\n');
}

/** Where a missing shared library usually comes from. */
export function libraryHint(soname: string): string {
  if (soname === 'libcuda.so.1') return 'the NVIDIA driver';
  if (/^libcudnn/.test(soname)) return 'cuDNN 9 for your CUDA major version';
  const major = soname.match(/^lib(?:cudart|cublas|cublasLt|cufft|nvrtc)\.so\.(\d+)/)?.[1];
  if (major) return `the CUDA ${major} runtime`;
  if (/^lib(?:curand|cufft|cusparse|cusolver|nvJitLink|nvrtc)/.test(soname)) return 'the CUDA runtime';
  if (/^libnv(?:infer|onnxparser)/.test(soname)) return 'TensorRT (only for the tensorrt provider)';
  return 'your distribution';
}

/** A report of the CUDA provider files in `binDir` and the shared libraries they cannot find. */
export function describeCudaLibraries(binDir: string): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  const missing = missingCudaProviderFiles(binDir);
  if (missing.length > 0) {
    lines.push(`missing in ${binDir}: ${missing.join(', ')}`);
    return { ok: false, lines };
  }
  lines.push(`provider libraries present in ${binDir}`);
  const libs = missingSharedLibraries(join(binDir, cudaProviderFiles()[0]!));
  if (libs === undefined) {
    lines.push('could not run ldd to check the libraries they need');
    return { ok: true, lines };
  }
  if (libs.length === 0) {
    lines.push('every library they link against was found (ldd)');
    return { ok: true, lines };
  }
  for (const lib of libs) lines.push(`not found: ${lib} (from ${libraryHint(lib)})`);
  lines.push('Install those, or add their folder to LD_LIBRARY_PATH before starting node.');
  return { ok: false, lines };
}

export { ortBinDir };
