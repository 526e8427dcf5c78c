// The Embedder in Node: loads model.onnx from disk and runs it with onnxruntime-node.
import { readFileSync } from 'node:fs';
import { isUserFacing, UserError } from '../core/errors.ts';
import { createSession, type Provider, type SessionConfig } from '../runtime/session.node.ts';
import { Embedder } from './embedder.ts';
import { Reconstructor } from './reconstruction.ts';

/** A model file's bytes; one clear error when it cannot be read. */
function readModelFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserError(
      `cannot read ${path} (${(e as { code?: string }).code ?? (e as Error).message}): check the path`,
    );
  }
}

/** The first line of an error's message, at most 200 characters. */
function firstLine(e: unknown): string {
  return (e as Error).message.split('\n')[0]!.slice(0, 200);
}

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
  const bytes = readModelFile(path);
  try {
    const embedder = await Embedder.fromBytes(bytes, async (b) => {
      const created = await createSession(b, config);
      device = created.device;
      threads = created.threads;
      notice = created.notice;
      return created.session;
    });
    return { embedder, device, threads, notice };
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${path}: ${e.message}`, e.kind);
    if (isUserFacing(e)) throw e;
    throw new UserError(
      `${path} is not a usable ocsf-embed model (${firstLine(e)}): it may be truncated or damaged; export it again with \`ocsf-embed export <run> --out ${path}\``,
    );
  }
}

/** Loads a run's reconstruction.onnx (the CPU unless `config` says otherwise). */
export async function loadReconstructor(path: string, config: SessionConfig = {}): Promise<Reconstructor> {
  const bytes = readModelFile(path);
  try {
    return await Reconstructor.fromBytes(bytes, async (b) => (await createSession(b, config)).session, path);
  } catch (e) {
    if (isUserFacing(e)) throw e;
    throw new UserError(
      `${path} is not a usable reconstruction model (${firstLine(e)}): train the run again`,
    );
  }
}

export { Embedder, Reconstructor };
