// Micro-batching: requests that arrive while the model is busy (or in the same turn of the event loop) are
// run together in one model call, up to a maximum number of items; each request gets its own slice back.

interface Pending<I, O> {
  items: I[];
  resolve: (out: O[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Queues requests of items and runs them through `run` in batches, whole requests each (at most `maxItems`
 * items unless a single request is larger). Up to `maxBatches` batches run at once (one per scoring
 * worker): a batch starts when a place is free, holding every request queued since the last one started.
 * Under light load a request runs on the next turn of the event loop.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private queued = 0;
  private running = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxItems: number,
    private readonly onBatch?: (size: number) => void,
    private readonly maxBatches = 1,
  ) {}

  /** Items waiting for a batch. */
  get pending(): number {
    return this.queued;
  }

  /** Runs `items` in the next batch; resolves with their outputs, in order. */
  submit(items: I[]): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running >= this.maxBatches || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.start();
    });
  }

  /** Starts batches from the queue while fewer than `maxBatches` run. */
  private start(): void {
    while (this.queue.length > 0 && this.running < this.maxBatches) {
      const batch: Pending<I, O>[] = [];
      let size = 0;
      while (this.queue.length > 0 && (size === 0 || size + this.queue[0]!.items.length <= this.maxItems)) {
        const p = this.queue.shift()!;
        batch.push(p);
        size += p.items.length;
      }
      this.queued -= size;
      this.running++;
      void this.runBatch(batch, size);
    }
  }

  private async runBatch(batch: Pending<I, O>[], size: number): Promise<void> {
    const items = batch.length === 1 ? batch[0]!.items : batch.flatMap((p) => p.items);
    this.onBatch?.(size);
    try {
      const out = await this.run(items);
      let at = 0;
      for (const p of batch) {
        p.resolve(out.slice(at, at + p.items.length));
        at += p.items.length;
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
    this.running--;
    if (this.queue.length > 0) {
      this.start();
      return;
    }
    if (this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Something that runs requests of items: a {@link MicroBatcher}, or {@link directRunner}. */
export interface BatchRunner<I, O> {
  submit(items: I[]): Promise<O[]>;
  idle(): Promise<void>;
}

/** Runs each request on its own as it arrives, concurrently with the others (no micro-batching). */
export function directRunner<I, O>(
  run: (items: I[]) => Promise<O[]>,
  onBatch?: (size: number) => void,
): BatchRunner<I, O> {
  const running = new Set<Promise<unknown>>();
  return {
    submit(items) {
      onBatch?.(items.length);
      const p = run(items);
      const tracked = p.catch(() => undefined).finally(() => running.delete(tracked));
      running.add(tracked);
      return p;
    },
    async idle() {
      await Promise.all(running);
    },
  };
}
