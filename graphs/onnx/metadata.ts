// Reads the metadata_props of an ONNX file (ONNX Runtime's JavaScript API does not expose them).
import { ModelProto } from './schema.ts';

/** The key/value metadata of an encoded ONNX model. */
export function readMetadata(bytes: Uint8Array): Map<string, string> {
  const model = ModelProto.decode(bytes) as unknown as { metadataProps?: { key: string; value: string }[] };
  return new Map((model.metadataProps ?? []).map((p) => [p.key, p.value]));
}
