// The onnxruntime-web runtime for k-NN search and scoring: sessions from the project's web session factory.
import * as ort from 'onnxruntime-web';
import { createSession, type SessionConfig } from '../runtime/session.web.ts';
import type { KnnRuntime } from './knn.ts';

/** Options for the web k-NN runtime. */
export interface WebKnnRuntimeOptions extends SessionConfig {
  /** Receives the one-line notice when the session differs from what was asked (threads, device). */
  onNotice?: (notice: string) => void;
}

/** A `KnnRuntime` on onnxruntime-web (wasm by default; WebGPU when asked for and available). */
export function webKnnRuntime(options: WebKnnRuntimeOptions = {}): KnnRuntime {
  const { onNotice, ...config } = options;
  return {
    Tensor: ort.Tensor,
    async createSession(model) {
      const created = await createSession(model, config);
      if (created.notice) onNotice?.(created.notice);
      return created.session;
    },
  };
}
