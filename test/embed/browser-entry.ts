// Browser side of the cross-runtime test: fetches model.onnx and an events file from the page's
// server, parses the events with the portable readers and embeds them with onnxruntime-web.
import * as ort from 'onnxruntime-web';
import { parseEventBytes } from '../../src/data/parse.ts';
import { Embedder } from '../../src/embed/embedder.web.ts';
import { createSession } from '../../src/runtime/session.web.ts';

async function bytesOf(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Embeds the events at `eventsUrl` with the model at `modelUrl` on `device` (`cpu` is wasm);
 * onnxruntime-web loads its wasm files from `wasmPrefix`. Returns plain arrays for comparison in Node.
 */
export async function embedFile(
  modelUrl: string,
  eventsUrl: string,
  wasmPrefix: string,
  device: 'cpu' | 'webgpu' = 'cpu',
): Promise<{
  rows: number;
  dimension: number;
  embedding: number[];
  normalized: number[];
  threads: number;
  provider: string;
}> {
  ort.env.wasm.wasmPaths = new URL(wasmPrefix, location.href).href;
  let provider = '';
  const embedder = await Embedder.fromBytes(await bytesOf(modelUrl), async (model) => {
    const created = await createSession(model, { device, threads: 1 });
    provider = created.device;
    return created.session;
  });
  const name = eventsUrl.slice(eventsUrl.lastIndexOf('/') + 1);
  const { records } = await parseEventBytes(name, await bytesOf(eventsUrl));
  const embedding = await embedder.embed(records);
  const normalized = await embedder.embed(records, { normalized: true });
  await embedder.release();
  return {
    rows: records.length,
    dimension: embedder.dimension,
    embedding: Array.from(embedding),
    normalized: Array.from(normalized),
    threads: ort.env.wasm.numThreads ?? 1,
    provider,
  };
}
