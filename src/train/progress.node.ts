// Training progress in the terminal: a live bar on a TTY, plain periodic lines otherwise, with an ETA
// from the average pace since training began that knows where a time budget will stop the run.
import cliProgress from 'cli-progress';

export interface ProgressUpdate {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  lr: number;
  samplesPerSecond: number;
}

/** Shows batch progress; `line` prints a message without breaking the bar. */
export interface Progress {
  update(p: ProgressUpdate): void;
  line(text: string): void;
  stop(): void;
}

/** `m:ss` (or `h:mm:ss`), rounded to the second. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A time budget as people say it: `100 s`, `5 min`. */
export function formatBudget(seconds: number): string {
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${Math.round(seconds)} s`;
}

/** Where a run is and how fast it has gone, for {@link estimateRemaining}. */
export interface Pace {
  /** Epoch in progress (0-based) and the batch just done (1-based) of `batches`. */
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Seconds since training began, and batches done in that time (validation time included). */
  elapsed: number;
  batchesDone: number;
  /** Training stops after the epoch in which this many seconds have passed. */
  budgetSeconds?: number;
}

/**
 * Seconds left: the remaining batches at the average pace so far (steady, unlike the rate of the
 * last few batches), ending early at the end of the epoch in which the budget runs out.
 */
export function estimateRemaining(p: Pace): { seconds: number; byBudget: boolean } {
  const perBatch = p.elapsed / Math.max(1, p.batchesDone);
  const toEpochEnd = (p.batches - p.batch) * perBatch;
  const perEpoch = p.batches * perBatch;
  const epochsAfter = Math.max(0, p.epochs - p.epoch - 1);
  const full = toEpochEnd + epochsAfter * perEpoch;
  if (p.budgetSeconds === undefined) return { seconds: full, byBudget: false };
  // Epoch ends fall at elapsed + toEpochEnd + i·perEpoch; the first at or past the budget is the last.
  const firstEnd = p.elapsed + toEpochEnd;
  const i = firstEnd >= p.budgetSeconds ? 0 : Math.ceil((p.budgetSeconds - firstEnd) / perEpoch);
  if (i >= epochsAfter) return { seconds: full, byBudget: false };
  return { seconds: toEpochEnd + i * perEpoch, byBudget: true };
}

/** Options for {@link createProgress}. */
export interface ProgressOptions {
  /** The run's time budget (`--max-minutes`), so the ETA says where it will stop. */
  budgetSeconds?: number;
  /** Seconds between plain lines when stdout is not a terminal (default 15). */
  everySeconds?: number;
}

/** A progress display for this terminal (silent when `quiet`). */
export function createProgress(quiet = false, options: ProgressOptions = {}): Progress {
  if (quiet) return { update() {}, line() {}, stop() {} };
  const began = performance.now();
  let batchesDone = 0;
  const eta = (p: ProgressUpdate): string => {
    batchesDone++;
    const r = estimateRemaining({
      ...p,
      elapsed: (performance.now() - began) / 1000,
      batchesDone,
      budgetSeconds: options.budgetSeconds,
    });
    return `${formatDuration(r.seconds)}${r.byBudget ? ' (time budget)' : ''}`;
  };
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          'epoch {epoch} |{bar}| {value}/{total} batches  loss {loss}  lr {lr}  {rate} samples/s  ETA {remaining}',
        hideCursor: true,
        clearOnComplete: true,
        barsize: 24,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = {
          epoch: `${p.epoch + 1}/${p.epochs}`,
          loss: p.loss.toFixed(4),
          lr: p.lr.toExponential(2),
          rate: Math.round(p.samplesPerSecond),
          remaining: eta(p),
        };
        if (!started || p.batch === 1) {
          if (started) bar.stop();
          bar.start(p.batches, p.batch, payload);
          started = true;
        } else bar.update(p.batch, payload);
      },
      line(text) {
        if (started) {
          bar.stop();
          started = false;
        }
        console.log(text);
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  const every = options.everySeconds ?? 15;
  let last = performance.now();
  return {
    update(p) {
      const remaining = eta(p);
      const now = performance.now();
      if (now - last < every * 1000) return;
      last = now;
      console.log(
        `  epoch ${p.epoch + 1}/${p.epochs}  batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${Math.round(p.samplesPerSecond)} samples/s  ETA ${remaining}`,
      );
    },
    line: (text) => console.log(text),
    stop() {},
  };
}
