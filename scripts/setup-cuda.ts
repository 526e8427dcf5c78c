// `npm run setup:cuda`: opt-in install of ONNX Runtime's CUDA provider libraries for onnxruntime-node, then
// a check that the CUDA device really works. `--check` only reports; see docs/gpu.md.
import { parseArgs } from 'node:util';
import {
  cudaInstallSupported,
  describeCudaLibraries,
  downloadFailureMessage,
  ortBinDir,
  ortNodeVersion,
  runOrtInstaller,
} from '../src/runtime/cuda-setup.node.ts';
import { missingCudaProviderFiles, ortNodeDir } from '../src/runtime/providers.node.ts';

const USAGE = `Usage: npm run setup:cuda [-- --check] [-- --force] [-- --ort-dir <onnxruntime-node folder>]

Downloads ONNX Runtime's CUDA 12 provider libraries for onnxruntime-node (from api.nuget.org, with the
package's own installer) and checks that the cuda device works. Needs an NVIDIA GPU and driver, the CUDA 12
runtime and cuDNN 9. See docs/gpu.md.

  --check     only report what is installed and what is missing; download nothing
  --force     download even when the provider libraries are already there
  --ort-dir   the onnxruntime-node package folder to install into (default: the one this project loads)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      'ort-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const ownDir = ortNodeDir();
  const packageDir = values['ort-dir'] ?? ownDir;
  const binDir = ortBinDir(packageDir);
  const version = ortNodeVersion(packageDir);
  console.log(`onnxruntime-node ${version} at ${packageDir}`);

  if (!cudaInstallSupported()) {
    console.error(
      `setup:cuda: onnxruntime-node ships CUDA provider libraries for linux/x64 only; this is ` +
        `${process.platform}/${process.arch}. Use device 'cpu' (or 'webgpu' where available). See docs/gpu.md.`,
    );
    return 1;
  }

  if (!values.check) {
    if (missingCudaProviderFiles(binDir).length === 0 && !values.force) {
      console.log('CUDA provider libraries already present (use --force to download again).');
    } else {
      console.log(`Downloading the CUDA 12 provider libraries for onnxruntime-node ${version} …`);
      const result = runOrtInstaller(packageDir);
      if (!result.ok) {
        if (result.stderr.trim()) process.stderr.write(`${result.stderr.trimEnd()}\n\n`);
        console.error(downloadFailureMessage(result.stderr, binDir, version));
        return 1;
      }
      if (result.stderr.trim()) process.stderr.write(result.stderr);
    }
  }

  const libs = describeCudaLibraries(binDir);
  for (const line of libs.lines) console.log(`  ${line}`);
  if (!libs.ok) {
    console.error(
      missingCudaProviderFiles(binDir).length > 0
        ? 'CUDA is not set up. Run `npm run setup:cuda` (see docs/gpu.md).'
        : 'CUDA is not usable yet: see the lines above and docs/gpu.md.',
    );
    return 1;
  }
  if (packageDir !== ownDir) {
    console.log('Skipping the device check: --ort-dir is not the onnxruntime-node this project loads.');
    return 0;
  }
  const { probeDevice } = await import('../src/runtime/session.node.ts');
  const cuda = await probeDevice('cuda');
  if (cuda.available) {
    console.log("cuda works: device 'auto' will now train on the GPU.");
    return 0;
  }
  console.error(`cuda does not work yet: ${cuda.reason}. See docs/gpu.md (Troubleshooting).`);
  return 1;
}

process.exitCode = await main();
