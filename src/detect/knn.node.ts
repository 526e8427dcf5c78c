// The onnxruntime-node runtime for k-NN search and scoring: sessions from the project's Node session factory.
import * as ort from 'onnxruntime-node';
import { createSession, type SessionConfig } from '../runtime/session.node.ts';
import type { KnnRuntime } from './knn.ts';

/** Options for the Node k-NN runtime. */
export interface NodeKnnRuntimeOptions extends SessionConfig {
  /** Receives the one-line notice when the session lands on another device than asked (a CUDA fallback). */
  onNotice?: (notice: string) => void;
}

/**
 * A `KnnRuntime` on onnxruntime-node. Sessions come from `createSession` (device `auto` by default: CUDA
 * when it works, else the CPU, reporting the fallback through `onNotice`).
 */
export function nodeKnnRuntime(options: NodeKnnRuntimeOptions = {}): KnnRuntime {
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
