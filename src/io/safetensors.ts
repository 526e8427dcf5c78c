// The safetensors container: tensors by name with a JSON header, as PyTorch's loaders read it.
import type { TensorData } from '../../graphs/onnx/builder.ts';
import type { DType, TypedArray } from '../../graphs/onnx/dtype.ts';

const CODES: Partial<Record<DType, string>> = {
  float32: 'F32',
  float64: 'F64',
  int64: 'I64',
  int32: 'I32',
  uint8: 'U8',
  bool: 'BOOL',
};
const ARRAYS: Record<
  string,
  { dtype: DType; make: (b: ArrayBuffer, o: number, n: number) => TypedArray; size: number }
> = {
  F32: { dtype: 'float32', make: (b, o, n) => new Float32Array(b, o, n), size: 4 },
  F64: { dtype: 'float64', make: (b, o, n) => new Float64Array(b, o, n), size: 8 },
  I64: { dtype: 'int64', make: (b, o, n) => new BigInt64Array(b, o, n), size: 8 },
  I32: { dtype: 'int32', make: (b, o, n) => new Int32Array(b, o, n), size: 4 },
  U8: { dtype: 'uint8', make: (b, o, n) => new Uint8Array(b, o, n), size: 1 },
  BOOL: { dtype: 'bool', make: (b, o, n) => new Uint8Array(b, o, n), size: 1 },
};

/** Serialises tensors (in the given order) and string metadata. */
export function encodeSafetensors(
  tensors: Map<string, TensorData>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of tensors) {
    const code = CODES[t.dtype];
    if (!code) throw new Error(`safetensors: cannot store ${name} of type ${t.dtype}`);
    const d = t.data as TypedArray;
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype: code, shape: t.dims, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += ' ';
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reads tensors (copied into aligned arrays) and metadata. Checks the whole container: the header is
 * JSON, every tensor's byte range lies inside the file and matches its dtype and shape, and the data
 * section ends where the last tensor does (a truncated or padded file fails).
 */
export function decodeSafetensors(bytes: Uint8Array): {
  tensors: Map<string, TensorData>;
  metadata: Record<string, string>;
} {
  if (bytes.length < 8) throw new Error('safetensors: file is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error('safetensors: header length exceeds the file');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`safetensors: the header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new Error('safetensors: the header is not a JSON object');
  }
  const base = 8 + n;
  const dataLength = bytes.length - base;
  let end = 0;
  const tensors = new Map<string, TensorData>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as {
      dtype: string;
      shape: number[];
      data_offsets: [number, number];
    };
    const kind = ARRAYS[dtype];
    if (!kind) throw new Error(`safetensors: ${name} has unsupported dtype ${dtype}`);
    const [from, to] = Array.isArray(data_offsets) ? data_offsets : [Number.NaN, Number.NaN];
    const count = Array.isArray(shape) ? shape.reduce((a, d) => a * d, 1) : Number.NaN;
    if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to >= from && to <= dataLength)) {
      throw new Error(`safetensors: ${name} lies outside the file (the file is truncated or damaged)`);
    }
    if (!(Number.isInteger(count) && count >= 0) || to - from !== count * kind.size) {
      throw new Error(`safetensors: ${name} has ${to - from} bytes, not what its shape [${shape}] needs`);
    }
    if (to > end) end = to;
    const copy = new Uint8Array(bytes.subarray(base + data_offsets[0], base + data_offsets[1]));
    tensors.set(name, {
      dtype: kind.dtype,
      dims: shape,
      data: kind.make(copy.buffer, 0, copy.length / kind.size),
    });
  }
  if (end !== dataLength) {
    throw new Error(`safetensors: ${dataLength - end} bytes after the last tensor (the file is damaged)`);
  }
  return { tensors, metadata };
}
