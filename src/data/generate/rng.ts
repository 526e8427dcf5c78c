// Seeded pseudo-random numbers for the synthetic generator: sfc32 streams keyed by (seed, stream), plus samplers.

/** Mixes a 32-bit value into a well-spread 32-bit hash (splitmix32 finaliser); bijective on uint32. */
export function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** Hashes a list of integers into one uint32; the same inputs always give the same output. */
export function hashInts(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = splitmix32(h ^ (p >>> 0));
    h = splitmix32(h ^ (Math.floor(p / 4294967296) >>> 0));
  }
  return h;
}

/**
 * A small, fast deterministic generator (sfc32). Each `(seed, stream)` pair gives an independent
 * sequence, so parts of the generator can draw numbers without disturbing each other.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Creates the stream `stream` of seed `seed`. */
  constructor(seed: number, stream = 0) {
    this.a = hashInts(seed, stream, 1);
    this.b = hashInts(seed, stream, 2);
    this.c = hashInts(seed, stream, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Next uniform unsigned 32-bit integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in the open interval (0, 1). */
  float(): number {
    return (this.u32() + 0.5) / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** One element of `items`, drawn with the matching relative `weights`. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.float() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i]!;
      if (r < 0) return items[i]!;
    }
    return items[items.length - 1]!;
  }

  /** Standard normal deviate (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.float())) * Math.cos(2 * Math.PI * this.float());
  }

  /** Log-normal deviate with the given median and log-space standard deviation. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential deviate with the given mean. */
  exp(mean: number): number {
    return -mean * Math.log(this.float());
  }

  /** Lowercase hex string of `n` random characters. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }
}

/** Picks an index from a cumulative weight table (ascending, last entry = total) by binary search. */
export function pickCumulative(
  cumulative: ArrayLike<number>,
  from: number,
  count: number,
  r: number,
): number {
  const total = cumulative[from + count - 1]!;
  const target = r * total;
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[from + mid]! > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
