// Shared fixtures for the runtime tests: a tiny Relu model built with the project's graph builder.
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';

/** Bytes of `y = Relu(x)` with `x: float32[n, 3]`. */
export function reluModel(): Uint8Array {
  const b = new Builder();
  const x = b.input('x', 'float32', ['n', 3]);
  b.output(op.relu(x), 'y');
  return encodeModel(b);
}

/** The input fed to `reluModel()` and the output it must give. */
export const X = Float32Array.from([-1, 2, -3, 4, -5, 6]);
export const Y = [0, 2, 0, 4, 0, 6];
