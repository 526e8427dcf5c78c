// Host checks behind the CUDA probe and `npm run setup:cuda`: ldd parsing, library hints, installer
// environment and failure messages, and the script's `--check` report.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  describeCudaLibraries,
  downloadFailureMessage,
  installerEnv,
  installerErrorLine,
  isNetworkFailure,
  libraryHint,
} from '../../src/runtime/cuda-setup.node.ts';
import {
  cudaProviderFiles,
  findSharedLibrary,
  missingCudaProviderFiles,
  missingSharedLibraries,
  ortBinDir,
  ortNodeDir,
  parseLddNotFound,
} from '../../src/runtime/providers.node.ts';

// `ldd` on ORT 1.29.0's CUDA 13 provider (npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9)
// on a host with only libcudart.so.13 installed.
const LDD = `\tlinux-vdso.so.1 (0x00007f808bed2000)
\tlibcublasLt.so.13 => not found
\tlibcublas.so.13 => not found
\tlibcurand.so.10 => not found
\tlibcudart.so.13 => /usr/local/cuda-13.0/lib/libcudart.so.13 (0x00007f807dc00000)
\tlibcuda.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f807da1e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f808bed4000)
`;

// What onnxruntime-node 1.30.0's installer printed here, without internet.
const ENOTFOUND = `node:internal/process/promises:391
    triggerUncaughtException(err, true /* fromPromise */);
    ^

Error: getaddrinfo ENOTFOUND api.nuget.org
    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:122:26) {
  errno: -3008,
  code: 'ENOTFOUND',
}
`;

describe('provider files and libraries', () => {
  test('the bin folder holds the native binding', () => {
    assert.ok(existsSync(join(ortBinDir(), 'onnxruntime_binding.node')));
    assert.ok(ortBinDir(ortNodeDir()).endsWith(join('bin', 'napi-v6', process.platform, process.arch)));
  });

  test('CUDA provider file names per platform', () => {
    assert.deepEqual(cudaProviderFiles('linux'), [
      'libonnxruntime_providers_cuda.so',
      'libonnxruntime_providers_shared.so',
    ]);
    assert.deepEqual(cudaProviderFiles('win32'), [
      'onnxruntime_providers_cuda.dll',
      'onnxruntime_providers_shared.dll',
    ]);
    assert.deepEqual(missingCudaProviderFiles('/nonexistent'), cudaProviderFiles());
  });

  test('parseLddNotFound lists each missing library once', () => {
    assert.deepEqual(parseLddNotFound(LDD), [
      'libcublasLt.so.13',
      'libcublas.so.13',
      'libcurand.so.10',
      'libcuda.so.1',
    ]);
    assert.deepEqual(parseLddNotFound(''), []);
  });

  test('libonnxruntime itself lacks nothing (real ldd, Linux)', {
    skip: process.platform !== 'linux',
  }, () => {
    assert.deepEqual(missingSharedLibraries(join(ortBinDir(), 'libonnxruntime.so.1')), []);
  });

  test('findSharedLibrary finds libc and not a made-up library (Linux)', {
    skip: process.platform !== 'linux',
  }, () => {
    assert.equal(findSharedLibrary('libc.so.6'), true);
    assert.equal(findSharedLibrary('libdoes-not-exist.so.42'), false);
  });

  test('library hints', () => {
    assert.equal(libraryHint('libcuda.so.1'), 'the NVIDIA driver');
    assert.equal(libraryHint('libcublasLt.so.12'), 'the CUDA 12 runtime');
    assert.equal(libraryHint('libcudart.so.13'), 'the CUDA 13 runtime');
    assert.equal(libraryHint('libcurand.so.10'), 'the CUDA runtime');
    assert.equal(libraryHint('libcudnn.so.9'), 'cuDNN 9 for your CUDA major version');
  });

  test('describeCudaLibraries reports missing provider files', () => {
    const r = describeCudaLibraries('/nonexistent');
    assert.equal(r.ok, false);
    assert.match(r.lines[0]!, /^missing in \/nonexistent: libonnxruntime_providers_cuda\.so/);
  });
});

describe('installer', () => {
  test('environment forces the install and drops what makes it skip', () => {
    const env = installerEnv({
      PATH: '/bin',
      ONNXRUNTIME_NODE_INSTALL: 'skip',
      ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip',
      npm_config_onnxruntime_node_install: 'skip',
      npm_config_onnxruntime_node_install_cuda: 'skip',
      npm_config_local_prefix: '/p',
      npm_package_json: '/p/package.json',
    });
    assert.deepEqual(env, { PATH: '/bin', ONNXRUNTIME_NODE_INSTALL: 'true' });
  });

  test('a DNS failure is explained, with the npm-registry-only path', () => {
    assert.equal(isNetworkFailure(ENOTFOUND), true);
    assert.equal(isNetworkFailure('Error: Manifest not found: cuda12 for platform: linux/arm64'), false);
    assert.equal(installerErrorLine(ENOTFOUND), 'Error: getaddrinfo ENOTFOUND api.nuget.org');
    const m = downloadFailureMessage(ENOTFOUND, '/x/bin', '1.30.0');
    assert.match(
      m,
      /^Could not install the CUDA provider libraries: Error: getaddrinfo ENOTFOUND api\.nuget\.org\n/,
    );
    assert.match(m, /which this machine cannot reach/);
    assert.match(m, /GLOBAL_AGENT_HTTPS_PROXY/);
    assert.match(m, /microsoft\.ml\.onnxruntime\.gpu\.linux\.1\.30\.0\.nupkg/);
    assert.match(m, /com\.github\.asus4\.onnxruntime\.linux-x64-gpu@0\.4\.9/);
    assert.match(m, /onnxruntime-node@1\.29\.0/);
    assert.match(m, /docs\/gpu\.md/);
  });
});

describe('npm run setup:cuda -- --check', () => {
  test('reports the state of the CUDA set-up without downloading', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/setup-cuda.ts', '--check'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.match(r.stdout, /^onnxruntime-node \d+\.\d+\.\d+ at /);
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      assert.equal(r.status, 1);
      assert.match(r.stderr, /linux\/x64 only/);
    } else if (missingCudaProviderFiles().length > 0) {
      assert.equal(r.status, 1);
      assert.match(r.stdout, /missing in .*libonnxruntime_providers_cuda\.so/);
      assert.match(r.stderr, /Run `npm run setup:cuda`/);
    } else {
      assert.match(r.stdout, /provider libraries present/);
      assert.match(`${r.stdout}${r.stderr}`, /cuda works|not found|does not work yet/);
    }
    assert.doesNotMatch(r.stdout, /Downloading/);
  });
});
