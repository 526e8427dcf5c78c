// Counter-based random numbers emitted in-graph from `seed` and `step` inputs, and their
// TypeScript reference. No hidden RNG state: the same (seed, step, stream, index) always gives
// the same bits, on every runtime.
import type { Value } from './onnx/builder.ts';
import * as op from './onnx/ops.ts';

const GOLDEN = 0x9e3779b9;
const M1 = 0x7feb352d;
const M2 = 0x846ca68b;
/** 2^-24: uniforms take the top 24 bits of a hash, so they are exact in float32. */
const INV_2_24 = 1 / 16777216;

// ---- TypeScript reference --------------------------------------------------------------

/** The 32-bit integer hash used everywhere (lowbias32). */
export function hash32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, M1) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, M2) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The key of one random stream at one step. */
export function keyOf(seed: number, step: number, stream: number): number {
  const k0 = hash32((seed ^ Math.imul(stream + 1, GOLDEN)) >>> 0);
  return hash32((k0 + step) >>> 0);
}

/** The raw bits of elements 0..n-1 of a stream. */
export function bitsOf(key: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = hash32((i ^ key) >>> 0);
  return out;
}

/** Uniforms in [0, 1) of elements 0..n-1. */
export function uniformOf(key: number, n: number): Float32Array {
  const bits = bitsOf(key, n);
  return Float32Array.from(bits, (h) => (h >>> 8) * INV_2_24);
}

/** Standard normals of elements 0..n-1 (Box–Muller over counters i and n + i). */
export function normalOf(key: number, n: number): Float64Array {
  const bits = bitsOf(key, 2 * n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = ((bits[i]! >>> 8) + 1) * INV_2_24;
    const u2 = (bits[n + i]! >>> 8) * INV_2_24;
    out[i] = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

/**
 * 16-bit uniforms of elements 0..n-1 (n even): element i takes the low half of hash i,
 * element n/2 + i its high half. Two draws per hash, for masks where 1/65536 steps suffice.
 */
export function halfWordsOf(key: number, n: number): Uint16Array {
  const bits = bitsOf(key, n / 2);
  const out = new Uint16Array(n);
  for (let i = 0; i < n / 2; i++) {
    out[i] = bits[i]! & 0xffff;
    out[n / 2 + i] = bits[i]! >>> 16;
  }
  return out;
}

// ---- in-graph --------------------------------------------------------------------------

function u32(x: Value, value: number): Value {
  return x.builder.scalar('uint32', value >>> 0);
}

function shiftRight(v: Value, n: number): Value {
  return op.bitShift(v, u32(v, n), 'RIGHT');
}

/** x ^ (x >> 16): the hash's first round. */
function foldHalves(x: Value): Value {
  return op.bitwiseXor(x, shiftRight(x, 16));
}

/** The hash's middle rounds, from h = foldHalves(x): all but the last foldHalves. */
function hashMiddle(h: Value): Value {
  let r = op.mul(h, u32(h, M1));
  r = op.bitwiseXor(r, shiftRight(r, 15));
  return op.mul(r, u32(r, M2));
}

/** The hash after its first round, from h = foldHalves(x). */
function hashRest(h: Value): Value {
  return foldHalves(hashMiddle(h));
}

function hashGraph(x: Value): Value {
  return hashRest(foldHalves(x));
}

/**
 * The uint32 key of `stream` at this step, from int64 scalar `seed` and `step` inputs.
 * Each use of randomness in a graph takes its own stream number.
 */
export function streamKey(seed: Value, step: Value, stream: number): Value {
  const s = op.cast(seed, 'uint32');
  const k0 = hashGraph(op.bitwiseXor(s, u32(s, Math.imul(stream + 1, GOLDEN))));
  return hashGraph(op.add(k0, op.cast(step, 'uint32')));
}

/**
 * The keys of several streams from one hash pass over a vector of stream constants, where each
 * `streamKey` is about twenty scalar nodes: `key(stream)` picks one out (the same bits). The vector
 * is built at the first call; a stream outside `streams` is hashed on its own.
 */
export function streamKeys(seed: Value, step: Value, streams: number[]): (stream: number) => Value {
  const b = seed.builder;
  let keys: Value | null = null;
  return (stream) => {
    const at = streams.indexOf(stream);
    if (at < 0) return streamKey(seed, step, stream);
    if (!keys) {
      const s = op.cast(seed, 'uint32');
      const salts = streams.map((n) => Math.imul(n + 1, GOLDEN) >>> 0);
      const k0 = hashGraph(op.bitwiseXor(s, b.constant('uint32', [streams.length], salts)));
      keys = hashGraph(op.add(k0, op.cast(step, 'uint32')));
    }
    return op.gather(keys, b.scalar('int64', at), 0);
  };
}

/**
 * hash(i ^ key) for the counters i = 0..count−1. Shifts and xors commute, so the hash's first round
 * splits: foldHalves(i ^ key) = foldHalves(i) ^ foldHalves(key). The counters' side depends on the
 * count alone (a constant ONNX Runtime folds when the count is static) and the key's is a scalar, so
 * one full-size xor does what an xor, a shift and an xor did.
 */
function counterBits(key: Value, count: Value): Value {
  return foldHalves(counterMiddle(key, count));
}

/** `counterBits` before the hash's last round (x ^ (x >> 16)). */
function counterMiddle(key: Value, count: Value): Value {
  const i = op.cast(op.range(key.builder, count, 'int64'), 'uint32');
  return hashMiddle(op.bitwiseXor(foldHalves(i), foldHalves(key)));
}

function topBitsToUnit(bits: Value, dtype: 'float32' | 'float64', offset: number): Value {
  let f = op.cast(op.bitShift(bits, u32(bits, 8), 'RIGHT'), dtype);
  if (offset) f = op.add(f, bits.builder.scalar(dtype, offset));
  return op.mul(f, bits.builder.scalar(dtype, INV_2_24));
}

function sizeOf(x: Value): Value {
  return x.builder.op('Size', [x]);
}

/** Uniforms in [0, 1) with `like`'s shape. */
export function randomUniformLike(key: Value, like: Value, dtype: 'float32' | 'float64' = 'float32'): Value {
  const flat = topBitsToUnit(counterBits(key, sizeOf(like)), dtype, 0);
  return like.builder.op('Reshape', [flat, op.shape(like)], {}, { shape: like.shape });
}

/** Standard normals with `like`'s shape. */
export function randomNormalLike(key: Value, like: Value, dtype: 'float32' | 'float64' = 'float32'): Value {
  const b = like.builder;
  const n = sizeOf(like);
  const bits = counterBits(key, op.mul(n, b.scalar('int64', 2)));
  const halves = b.opMulti(
    'Split',
    [bits, op.concat([op.reshape(n, [1]), op.reshape(n, [1])], 0)],
    { axis: 0 },
    { outputs: 2 },
  );
  const u1 = topBitsToUnit(halves[0]!, dtype, 1);
  const u2 = topBitsToUnit(halves[1]!, dtype, 0);
  const radius = op.sqrt(op.mul(op.log(u1), b.scalar(dtype, -2)));
  const z = op.mul(radius, op.cos(op.mul(u2, b.scalar(dtype, 2 * Math.PI))));
  return b.op('Reshape', [z, op.shape(like)], {}, { shape: like.shape });
}

/**
 * A Bernoulli mask with `like`'s (static, even-sized) shape: true with probability
 * round(p·65536)/65536, from 16-bit halves of the hash (two draws per hash, compared as uint32).
 */
export function bernoulliLike(key: Value, like: Value, p: number): Value {
  const dims = like.shape;
  if (!dims || dims.some((d) => typeof d !== 'number'))
    throw new Error(`bernoulliLike needs a static shape, got ${like}`);
  return bernoulliMask(key, dims as number[], p);
}

/**
 * A Bernoulli(p) mask of static `dims` (an even number of elements); see `bernoulliLike`. The
 * n/2 hashes are masked as a [2, n/2] broadcast (low halves, then high halves kept in place and
 * compared against the threshold shifted up by 16 bits), so no half is shifted or copied apart.
 */
export function bernoulliMask(key: Value, dims: number[], p: number): Value {
  const b = key.builder;
  const n = dims.reduce((a, d) => a * d, 1);
  if (n % 2 !== 0) throw new Error(`a Bernoulli mask needs an even number of elements, got ${n}`);
  const h = op.reshape(counterBits(key, b.scalar('int64', n / 2)), [1, n / 2]);
  const threshold = Math.round(p * 65536);
  const halves = op.bitwiseAnd(h, b.constant('uint32', [2, 1], [0xffff, 0xffff0000]));
  const bounds = b.constant('uint32', [2, 1], [threshold, Math.min(threshold * 65536, 0xffffffff)]);
  return op.reshape(op.less(halves, bounds), dims);
}

/** Masks handed out from one draw; see `bernoulliPool`. */
export interface BernoulliPool {
  readonly p: number;
  /** The next draws in `shape`, true where a draw is kept (not a hit of `bernoulliMask`). */
  take(shape: number[]): Value;
}

/**
 * The negation of `bernoulliMask(key, [n], p)` (true = kept) as its two halves [n/2]: draws
 * 0..n/2−1 from the low 16 bits of each hash, draws n/2..n−1 from the high 16 bits. Compared
 * without masking bits off: a 16-bit half is below t iff a uint32 holding it in its high half is
 * below t·65536.
 */
function keptHalves(key: Value, n: number, p: number): [Value, Value] {
  const b = key.builder;
  // The hash's last round h = m ^ (m >> 16) leaves the high half as it is (the high half of m) and
  // makes the low half low(m) ^ high(m), which is the high half of (m·65536) ^ m: so the halves are
  // compared from m, one pass fewer than finishing the hash.
  const m = counterMiddle(key, b.scalar('int64', n / 2));
  const threshold = Math.round(p * 65536);
  // p within 2⁻¹⁷ of 1 rounds to t = 65536: every draw is a hit, nothing is kept (hashes are ≥ 0).
  if (threshold >= 65536) return [op.less(m, u32(m, 0)), op.less(m, u32(m, 0))];
  const bound = u32(m, threshold * 65536);
  const low = op.bitwiseXor(op.mul(m, u32(m, 65536)), m);
  return [op.greaterOrEqual(low, bound), op.greaterOrEqual(m, bound)];
}

/**
 * One Bernoulli(p) draw for every mask of a step at once: `count` (even) draws from one hash pass,
 * handed out in order by `take(shape)` as bool masks of the kept draws. Fewer, larger nodes than a
 * hash per mask; the draws equal `bernoulliMask(key, [count], p)` sliced in order (negated).
 */
export function bernoulliPool(key: Value, count: number, p: number): BernoulliPool {
  if (count % 2 !== 0) throw new Error(`a Bernoulli pool needs an even number of draws, got ${count}`);
  const half = count / 2;
  const halves = keptHalves(key, count, p);
  let offset = 0;
  return {
    p,
    take(shape) {
      const n = shape.reduce((a, d) => a * d, 1);
      if (offset + n > count)
        throw new Error(`bernoulliPool: ${count} draws are not enough for another ${n}`);
      const pieces: Value[] = [];
      halves.forEach((kept, i) => {
        const [start, end] = [Math.max(offset, i * half), Math.min(offset + n, (i + 1) * half)];
        if (start < end) pieces.push(op.slice(kept, [start - i * half], [end - i * half], [0]));
      });
      offset += n;
      return op.reshape(pieces.length === 1 ? pieces[0]! : op.concat(pieces, 0), shape);
    },
  };
}

/** Exposes the raw bits, for tests against the reference. */
export function randomBitsLike(key: Value, like: Value): Value {
  return like.builder.op(
    'Reshape',
    [counterBits(key, sizeOf(like)), op.shape(like)],
    {},
    { shape: like.shape },
  );
}
