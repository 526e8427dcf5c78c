// The Embedder in a browser: model bytes (fetched or chosen by the user) run with onnxruntime-web.
import { createSession, type SessionConfig } from '../runtime/session.web.ts';
import { Embedder } from './embedder.ts';

/** Opens an exported model.onnx from its bytes with onnxruntime-web (wasm, or webgpu when asked). */
export async function loadEmbedder(bytes: Uint8Array, config: SessionConfig = {}): Promise<Embedder> {
  return Embedder.fromBytes(bytes, async (model) => (await createSession(model, config)).session);
}

export { Embedder };
