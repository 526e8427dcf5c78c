// Scoring in worker threads: ONNX Runtime runs a session on the thread that calls it, so one service
// thread scores one batch at a time on one core. A pool of workers, each with the run opened, scores
// several micro-batches side by side while the service's thread reads requests and writes answers.
import { Worker } from 'node:worker_threads';
import type { OpenOptions } from '../run/model.node.ts';
import type { ScoreResult } from './score-results.node.ts';
import type { ScoreReply, ScoreRequest, ScoreWorkerData } from './score-worker.node.ts';

interface Slot {
  worker: Worker;
  /** The batch it is scoring. */
  job: { id: number; resolve: (r: ScoreResult[]) => void; reject: (e: Error) => void } | null;
  /** The worker stopped (it crashed): it gets no more batches. */
  stopped: boolean;
}

/**
 * A scoring worker: the built module beside this one, or, in a source checkout (run through tsx, which a
 * worker thread does not inherit), a small script that registers tsx in the worker and then imports it.
 */
function startWorker(data: ScoreWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./score-worker.node.js', import.meta.url), { workerData: data });
  }
  const target = new URL('./score-worker.node.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

const ALL_STOPPED = 'every scoring worker has stopped: restart the service';

/** Worker threads that each score whole batches with their own copy of the run. */
export class ScorePool {
  private nextId = 0;
  /** Batches waiting for a free worker. */
  private waiting: { resolve: (slot: Slot) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly slots: Slot[]) {
    for (const slot of slots) {
      slot.worker.on('message', (m: ScoreReply) => this.reply(slot, m));
      slot.worker.on('error', (e) => this.fail(slot, e));
      slot.worker.on('exit', () => {
        slot.stopped = true;
        this.fail(slot, new Error('a scoring worker stopped'));
      });
    }
  }

  /** Starts `size` workers, each opening `path` with `open`; resolves once all have it open. */
  static async start(path: string, open: OpenOptions, size: number): Promise<ScorePool> {
    const data: ScoreWorkerData = { path, open };
    const workers = Array.from({ length: size }, () => startWorker(data));
    const ready = workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: ScoreReply) =>
            'ready' in m && m.ready ? resolve() : reject(new Error((m as { error: string }).error)),
          );
          w.once('error', reject);
        }),
    );
    try {
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
    return new ScorePool(workers.map((worker) => ({ worker, job: null, stopped: false })));
  }

  /** Number of workers, the most batches scored at once. */
  get size(): number {
    return this.slots.length;
  }

  /** Scores one batch in the first free worker. */
  async score(events: object[]): Promise<ScoreResult[]> {
    const live = this.slots.filter((s) => !s.stopped);
    if (live.length === 0) throw new Error(ALL_STOPPED);
    const slot =
      live.find((s) => s.job === null) ??
      (await new Promise<Slot>((resolve, reject) => this.waiting.push({ resolve, reject })));
    return new Promise<ScoreResult[]>((resolve, reject) => {
      const id = this.nextId++;
      slot.job = { id, resolve, reject };
      slot.worker.postMessage({ id, events } satisfies ScoreRequest);
    });
  }

  /** Lets each worker release its sessions, then stops it. */
  async close(): Promise<void> {
    await Promise.all(
      this.slots.map(async ({ worker, stopped }) => {
        if (stopped) return;
        worker.removeAllListeners('exit');
        const exited = new Promise((r) => worker.once('exit', r));
        worker.postMessage('close');
        const timer = setTimeout(() => void worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private reply(slot: Slot, m: ScoreReply): void {
    const job = slot.job;
    if (!job || !('id' in m) || m.id !== job.id) return;
    slot.job = null;
    if ('results' in m) job.resolve(m.results);
    else job.reject(new Error(m.error));
    this.waiting.shift()?.resolve(slot);
  }

  private fail(slot: Slot, e: Error): void {
    const job = slot.job;
    slot.job = null;
    job?.reject(e);
    if (!slot.stopped) this.waiting.shift()?.resolve(slot);
    else if (this.slots.every((s) => s.stopped)) {
      // No worker is left to take the batches that wait: they fail now rather than never.
      for (const w of this.waiting.splice(0)) w.reject(new Error(ALL_STOPPED));
    }
  }
}
