// Event timing for the generator: the load curve over the window, sorted arrival times, and a time-ordered queue.
import type { Rng } from './rng.ts';
import type { World } from './world.ts';

const MINUTE = 60000;

/** The expected event rate over the generation window, minute by minute, with its inverse CDF. */
export class LoadCurve {
  readonly start: number;
  readonly end: number;
  private readonly cum: Float64Array;

  /** Builds the curve from the world's hour-of-week intensity, with 5-minute load jitter from `rng`. */
  constructor(world: World, rng: Rng, start: number, hours: number) {
    this.start = start;
    this.end = start + Math.round(hours * 3600000);
    const minutes = Math.max(1, Math.ceil((this.end - start) / MINUTE));
    this.cum = new Float64Array(minutes);
    let total = 0;
    let jitter = 1;
    for (let m = 0; m < minutes; m++) {
      if (m % 5 === 0) jitter = rng.logNormal(1, 0.12);
      const h = (start + (m + 0.5) * MINUTE) / 3600000 + 72 - 0.5;
      const s0 = Math.floor(h);
      const f = h - s0;
      const a = world.intensity[((s0 % 168) + 168) % 168]!;
      const b = world.intensity[(((s0 + 1) % 168) + 168) % 168]!;
      total += (a + (b - a) * f) * jitter;
      this.cum[m] = total;
    }
  }

  /** The time (epoch ms, integer) below which a fraction `u` of the expected load falls. */
  timeAt(u: number): number {
    const cum = this.cum;
    const target = u * cum[cum.length - 1]!;
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid]! > target) hi = mid;
      else lo = mid + 1;
    }
    return this.clamp(this.minuteTime(lo, target));
  }

  /**
   * Yields `n` arrival times following the load curve, in ascending order, in O(1) memory: ascending uniform
   * order statistics (built from the top down by the max-of-k method) mapped through the inverse CDF.
   */
  *arrivals(rng: Rng, n: number): Generator<number> {
    const cum = this.cum;
    const total = cum[cum.length - 1]!;
    let m = 1;
    let p = 0;
    for (let k = n; k >= 1; k--) {
      m *= rng.float() ** (1 / k);
      const target = (1 - m) * total;
      while (p < cum.length - 1 && cum[p]! <= target) p++;
      yield this.clamp(this.minuteTime(p, target));
    }
  }

  private minuteTime(m: number, target: number): number {
    const lo = m === 0 ? 0 : this.cum[m - 1]!;
    const width = this.cum[m]! - lo;
    const f = width > 0 ? Math.min(1, Math.max(0, (target - lo) / width)) : 0;
    return Math.floor(this.start + (m + f) * MINUTE);
  }

  /** Keeps a time inside [start, end). */
  clamp(t: number): number {
    return Math.min(this.end - 1, Math.max(this.start, Math.floor(t)));
  }
}

/** An item waiting to be emitted at `time`; `seq` breaks ties in insertion order. */
export interface Timed<T> {
  time: number;
  seq: number;
  item: T;
}

/** A binary min-heap ordered by (time, seq). */
export class TimeQueue<T> {
  private readonly heap: Timed<T>[] = [];
  private seq = 0;

  /** Number of queued items. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest item, without removing it. */
  peek(): Timed<T> | undefined {
    return this.heap[0];
  }

  /** Adds an item due at `time`. */
  push(time: number, item: T): void {
    const h = this.heap;
    h.push({ time, seq: this.seq++, item });
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Removes and returns the earliest item. */
  pop(): Timed<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less<T>(a: Timed<T>, b: Timed<T>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
