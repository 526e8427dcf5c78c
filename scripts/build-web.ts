// `npm run build:web`: bundles the browser page (web/main.ts) with esbuild into web/dist/, beside the
// onnxruntime-web wasm runtime files it loads and the default model for the sample, so that web/ can be served
// as static files and works offline.
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

/** The page's folder. */
export const WEB_DIR = resolve(import.meta.dirname, '..', 'web');

/** Files of the page besides the bundle (relative to web/). */
export const PAGE_FILES = ['index.html', 'style.css'] as const;

/**
 * The onnxruntime-web wasm CPU runtime files (no WebGPU), whose module script also starts the worker
 * threads when the page is cross-origin isolated; what {@link ortWasmOnly} bundles load.
 */
export const ORT_FILES = ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

/** The default model (models/default), which the page's "Try it with sample events" loads from dist/model/. */
export const SAMPLE_MODEL_DIR = resolve(import.meta.dirname, '..', 'models', 'default');
export const SAMPLE_MODEL_FILES = [
  'model.onnx',
  'reconstruction.onnx',
  'reference.safetensors',
  'scorer.json',
] as const;

/**
 * The runtime files the page loads: the build with the WebGPU kernels (JSEP), which also runs the wasm
 * CPU provider (threads as above).
 */
export const PAGE_ORT_FILES = [
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
] as const;

/** Options for {@link buildWeb}. */
export interface BuildWebOptions {
  /** Output folder (default web/dist). It is emptied first. */
  outDir?: string;
  /** Minify the bundle (default true). */
  minify?: boolean;
}

/** What {@link buildWeb} wrote. */
export interface BuiltWeb {
  outDir: string;
  files: { path: string; bytes: number }[];
}

/** The folder of onnxruntime-web's dist files (bundles and wasm runtime files). */
export function ortDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web'));
}

/**
 * `onnxruntime-web` → its wasm-only ESM build that loads the runtime files from `env.wasm.wasmPaths`
 * (the `onnxruntime-web/wasm` export under the `onnxruntime-web-use-extern-wasm` condition).
 */
export const ortWasmOnly: Plugin = {
  name: 'onnxruntime-web-wasm-only',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: join(ortDist(), 'ort.wasm.min.mjs') }));
  },
};

/**
 * `onnxruntime-web` → its default ESM build (wasm and WebGPU) that loads the runtime files from
 * `env.wasm.wasmPaths` (the `onnxruntime-web-use-extern-wasm` condition of the package's exports).
 */
const ortWithWebGpu: Plugin = {
  name: 'onnxruntime-web-with-webgpu',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-web$/ }, () => ({ path: join(ortDist(), 'ort.min.mjs') }));
  },
};

/** Bundles web/main.ts into `outDir`/main.js and copies the onnxruntime-web runtime files beside it. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<BuiltWeb> {
  const outDir = resolve(options.outDir ?? join(WEB_DIR, 'dist'));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(WEB_DIR, 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: options.minify ?? true,
    sourcemap: true,
    logLevel: 'warning',
    plugins: [ortWithWebGpu],
  });
  for (const name of PAGE_ORT_FILES) copyFileSync(join(ortDist(), name), join(outDir, name));
  mkdirSync(join(outDir, 'model'), { recursive: true });
  for (const name of SAMPLE_MODEL_FILES) {
    copyFileSync(join(SAMPLE_MODEL_DIR, name), join(outDir, 'model', name));
  }
  const names = ['main.js', 'main.js.map', ...PAGE_ORT_FILES, ...SAMPLE_MODEL_FILES.map((n) => `model/${n}`)];
  return {
    outDir,
    files: names.map((name) => ({ path: join(outDir, name), bytes: statSync(join(outDir, name)).size })),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      'no-minify': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run build:web [-- --out <folder>] [-- --no-minify]\n\nBundles web/main.ts into web/dist/ with the onnxruntime-web wasm files; then `npm run web` serves the page.',
    );
    return;
  }
  const built = await buildWeb({
    ...(values.out !== undefined && { outDir: values.out }),
    minify: !values['no-minify'],
  });
  for (const f of built.files) {
    console.log(
      `${relative(process.cwd(), f.path).padEnd(40)} ${(f.bytes / 1024).toFixed(0).padStart(8)} KiB`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
