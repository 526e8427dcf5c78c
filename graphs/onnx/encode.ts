// Serialisation of a finished Builder to ONNX ModelProto bytes, deterministically.
import { type Builder, IR_VERSION, OPSETS, type Shape, type TensorData, type Value } from './builder.ts';
import { onnxCode, rawBytes, type TypedArray } from './dtype.ts';
import type { AttrValue } from './opdefs.ts';
import { AttributeType, ModelProto } from './schema.ts';
import { validate } from './validate.ts';

const utf8 = new TextEncoder();

export interface EncodeOptions {
  /** Producer name written into the model (default `ocsf-embed`). */
  producerVersion?: string;
  docString?: string;
  /** Skip `validate()` (it runs by default). */
  skipValidation?: boolean;
}

/** Encodes the graph held by `b` as ONNX bytes. The same graph always gives the same bytes. */
export function encodeModel(b: Builder, options: EncodeOptions = {}): Uint8Array {
  if (!options.skipValidation) validate(b);
  const domains = new Set(b.nodes.map((n) => n.domain));
  const model = {
    irVersion: IR_VERSION,
    producerName: 'ocsf-embed',
    producerVersion: options.producerVersion ?? '',
    docString: options.docString ?? '',
    opsetImport: Object.entries(OPSETS)
      .filter(([domain]) => domain === '' || domains.has(domain))
      .map(([domain, version]) => ({ domain, version })),
    metadataProps: [...b.metadata].map(([key, value]) => ({ key, value })),
    graph: {
      name: b.graphName,
      node: b.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        domain: n.domain,
        input: trimTrailingEmpty(n.inputs.map((v) => v?.name ?? '')),
        output: n.outputs.map((v) => v.name),
        attribute: Object.keys(n.attrs)
          .sort()
          .map((name) => encodeAttr(name, n.attrs[name]!)),
      })),
      initializer: b.initializers.map((i) => encodeTensor(i.value.name, i.data)),
      input: b.inputs.map(valueInfo),
      output: b.outputs.map(valueInfo),
    },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

function trimTrailingEmpty(names: string[]): string[] {
  let end = names.length;
  while (end > 0 && names[end - 1] === '') end--;
  return names.slice(0, end);
}

function valueInfo(v: Value) {
  return { name: v.name, type: { tensorType: { elemType: onnxCode(v.dtype), shape: shapeProto(v.shape) } } };
}

function shapeProto(shape: Shape | null) {
  if (!shape) return undefined;
  return {
    dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : d === '?' ? {} : { dimParam: d })),
  };
}

/** A TensorProto object for protobufjs. */
export function encodeTensor(name: string, t: TensorData) {
  const base = { name, dims: t.dims, dataType: onnxCode(t.dtype) };
  if (t.dtype === 'string') return { ...base, stringData: (t.data as string[]).map((s) => utf8.encode(s)) };
  return { ...base, rawData: rawBytes(t.data as TypedArray) };
}

function encodeAttr(name: string, a: AttrValue) {
  switch (a.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value as number };
    case 'int':
      return { name, type: AttributeType.INT, i: a.value as number };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8.encode(a.value as string) };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: a.value as number[] };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: a.value as number[] };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: (a.value as string[]).map((s) => utf8.encode(s)) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: encodeTensor('', a.value as TensorData) };
  }
}
