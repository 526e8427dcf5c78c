// Builds the browser example into dist/: main.js bundled with esbuild (the `browser` build of ocsf-embed
// and onnxruntime-web's wasm-only build), the page, onnxruntime-web's wasm files and the default model.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = join(here, 'dist');
const fileOf = (specifier) => fileURLToPath(import.meta.resolve(specifier));

mkdirSync(join(out, 'model'), { recursive: true });
await build({
  entryPoints: [join(here, 'main.js')],
  outfile: join(out, 'main.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  // onnxruntime-web without WebGPU, loading its .wasm from env.wasm.wasmPaths instead of inlining it.
  alias: { 'onnxruntime-web': 'onnxruntime-web/wasm' },
  conditions: ['onnxruntime-web-use-extern-wasm'],
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
for (const name of ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
  copyFileSync(fileOf(`onnxruntime-web/${name}`), join(out, name));
}
const model = dirname(fileOf('ocsf-embed/models/default/model.onnx'));
for (const name of ['model.onnx', 'reconstruction.onnx', 'reference.safetensors', 'scorer.json']) {
  copyFileSync(join(model, name), join(out, 'model', name));
}
console.log(`built ${out}`);
