// Element types: names used in the builder, their ONNX codes, and the typed arrays that hold them.
import { DataType } from './schema.ts';

/** Element types the builder understands; names follow onnxruntime-common's tensor types. */
export type DType =
  | 'float32'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'uint32'
  | 'uint64'
  | 'uint8'
  | 'bool'
  | 'string';

export type TypedArray =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Uint8Array;

const codes: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  uint32: DataType.UINT32,
  uint64: DataType.UINT64,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
  string: DataType.STRING,
};

/** The ONNX TensorProto.DataType code of a dtype. */
export function onnxCode(dtype: DType): number {
  return codes[dtype];
}

/** The dtype of an ONNX TensorProto.DataType code; throws for codes the builder does not use. */
export function dtypeOfCode(code: number): DType {
  for (const [name, c] of Object.entries(codes)) if (c === code) return name as DType;
  throw new Error(`ONNX data type ${code} is not supported by the graph builder`);
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

/** Allocates a typed array for `n` elements of a numeric dtype. */
export function allocate(dtype: DType, n: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
    case 'string':
      throw new Error('string tensors are not held in typed arrays');
  }
}

/** Builds a typed array of `dtype` from plain numbers (or bigints for 64-bit integers). */
export function typedFrom(dtype: DType, values: ArrayLike<number | bigint>): TypedArray {
  const out = allocate(dtype, values.length);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    (out as unknown as (number | bigint)[])[i] = big ? BigInt(v) : Number(v);
  }
  return out;
}

/** Little-endian bytes of a typed array, as ONNX's raw_data holds them. */
export function rawBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
