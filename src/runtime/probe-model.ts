// The tiny ONNX model used to probe whether an execution provider can start a session and run a kernel.
import { Builder } from '../../graphs/onnx/builder.ts';
import { encodeModel } from '../../graphs/onnx/encode.ts';
import * as op from '../../graphs/onnx/ops.ts';

let cached: Uint8Array | undefined;

/** Bytes of `y = Relu(x)` with `x: float32[1, 4]`; built once. */
export function probeModel(): Uint8Array {
  if (!cached) {
    const b = new Builder('device_probe');
    const x = b.input('x', 'float32', [1, 4]);
    b.output(op.relu(x), 'y');
    cached = encodeModel(b);
  }
  return cached;
}

/** The feed for `probeModel()`: x = [-1, 0, 1, 2]. */
export const PROBE_INPUT = Float32Array.from([-1, 0, 1, 2]);
