// A scoring worker thread of the service: opens the run itself, then scores the micro-batches it is sent
// and answers each with the service's results (see score-pool.node.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { LoadedModel, type OpenOptions } from '../run/model.node.ts';
import { scoreResults } from './score-results.node.ts';

/** What a scoring worker is started with. */
export interface ScoreWorkerData {
  /** The run directory (or model file) the service serves. */
  path: string;
  open: OpenOptions;
}

/** A message to a scoring worker: one batch of events. */
export interface ScoreRequest {
  id: number;
  events: object[];
}

/** A scoring worker's answer: ready (or not) once it has opened the run, then one reply per batch. */
export type ScoreReply =
  | { ready: true }
  | { ready: false; error: string }
  | { id: number; results: Awaited<ReturnType<typeof scoreResults>> }
  | { id: number; error: string };

const port = parentPort!;
const data = workerData as ScoreWorkerData;
const post = (m: ScoreReply) => port.postMessage(m);
let model: LoadedModel;
try {
  model = await LoadedModel.open(data.path, data.open);
  post({ ready: true });
} catch (e) {
  post({ ready: false, error: (e as Error)?.message ?? String(e) });
  process.exit(0);
}
port.on('message', (m: ScoreRequest | 'close') => {
  if (m === 'close') {
    void model.release().finally(() => port.close());
    return;
  }
  scoreResults(model, m.events).then(
    (results) => post({ id: m.id, results }),
    (e: unknown) => post({ id: m.id, error: (e as Error)?.message ?? String(e) }),
  );
});
