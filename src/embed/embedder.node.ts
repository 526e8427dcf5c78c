// The Embedder in Node: loads model.onnx from disk and runs it with onnxruntime-node.
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.ts';
import { createSession, type Provider, type SessionConfig } from '../runtime/session.node.ts';
import { Embedder } from './embedder.ts';

/**
 * Loads an exported model.onnx; `device` and `threads` say what the session got, `notice` says when the
 * requested device fell back.
 */
export async function loadEmbedder(
  path: string,
  config: SessionConfig = {},
): Promise<{ embedder: Embedder; device: Provider; threads?: number; notice?: string }> {
  let device: Provider = 'cpu';
  let threads: number | undefined;
  let notice: string | undefined;
  let embedder: Embedder;
  try {
    embedder = await Embedder.fromBytes(readFileSync(path), async (bytes) => {
      const created = await createSession(bytes, config);
      device = created.device;
      threads = created.threads;
      notice = created.notice;
      return created.session;
    });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${path}: ${e.message}`, e.kind);
    throw e;
  }
  return { embedder, device, threads, notice };
}

export { Embedder };
