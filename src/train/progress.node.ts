// Training progress in the terminal: a live bar on a TTY, plain periodic lines otherwise.
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

function eta(p: ProgressUpdate, batchSize: number): string {
  const remaining = (p.epochs - p.epoch - 1) * p.batches + (p.batches - p.batch);
  const seconds = (remaining * batchSize) / Math.max(1, p.samplesPerSecond);
  const m = Math.floor(seconds / 60);
  return `${m}:${String(Math.round(seconds % 60)).padStart(2, '0')}`;
}

/** A progress display for this terminal (silent when `quiet`). */
export function createProgress(batchSize: number, quiet = false, everySeconds = 15): Progress {
  if (quiet) return { update() {}, line() {}, stop() {} };
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
          remaining: eta(p, batchSize),
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
  let last = performance.now();
  return {
    update(p) {
      const now = performance.now();
      if (now - last < everySeconds * 1000) return;
      last = now;
      console.log(
        `  epoch ${p.epoch + 1}/${p.epochs}  batch ${p.batch}/${p.batches}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(2)}  ${Math.round(p.samplesPerSecond)} samples/s  ETA ${eta(p, batchSize)}`,
      );
    },
    line: (text) => console.log(text),
    stop() {},
  };
}
