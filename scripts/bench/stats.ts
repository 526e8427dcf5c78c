// Small statistics helpers for the benchmark: median and best-of timing.
import { performance } from 'node:perf_hooks';

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `fn` twice untimed, then at least `minReps` times and for at least `minMs`; returns each time in ms. */
export async function timeRepeated(
  fn: () => Promise<unknown>,
  minMs: number,
  minReps: number,
): Promise<number[]> {
  await fn();
  await fn();
  const times: number[] = [];
  const end = performance.now() + minMs;
  while (times.length < minReps || performance.now() < end) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
