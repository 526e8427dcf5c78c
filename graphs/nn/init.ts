// Parameter initialisation from a seed, with PyTorch's default distributions.
import type { TensorData } from '../onnx/builder.ts';
import { hash32, keyOf, normalOf, uniformOf } from '../rng.ts';

/** How a parameter or buffer starts. */
export type Init =
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'const'; value: number };

/** Linear layers: weight and bias uniform in ±1/√fan_in (PyTorch's Kaiming-uniform default). */
export function linearInit(fanIn: number): Init {
  return { kind: 'uniform', bound: fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0 };
}

/** A stable per-parameter stream: the parameter's name hashed. */
function nameStream(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = hash32((h ^ name.charCodeAt(i)) >>> 0);
  return h;
}

/** Fills a float32 tensor of `shape` from `init`; the values depend only on (seed, name). */
export function initialize(name: string, shape: number[], init: Init, seed: number): TensorData {
  const n = shape.reduce((a, d) => a * d, 1);
  const data = new Float32Array(n);
  const key = keyOf(seed, 0, nameStream(name));
  if (init.kind === 'const') data.fill(init.value);
  else if (init.kind === 'uniform') {
    const u = uniformOf(key, n);
    for (let i = 0; i < n; i++) data[i] = (2 * u[i]! - 1) * init.bound;
  } else {
    const z = normalOf(key, n);
    for (let i = 0; i < n; i++) data[i] = z[i]! * init.std;
  }
  return { dtype: 'float32', dims: shape, data };
}
