// Synthetic labelled embeddings for measuring scorers: normal rows in clusters of unequal size on the unit
// sphere (each spread along its own low-dimensional subspace), bursts of near-identical anomalies, and
// isolated anomalies, all off the clusters.
import { mulberry32, normal, type Random, randomInt } from './random.ts';

/** What to generate. */
export interface SyntheticOptions {
  /** Embedding width (default 64). */
  d?: number;
  /** Normal rows (default 5000). */
  normals?: number;
  /** Relative cluster sizes of the normal rows (default 8 clusters: 30%, 20%, 15%, 12%, 10%, 7%, 4%, 2%). */
  clusterWeights?: number[];
  /** Dimensions each cluster spreads along (default 8). */
  clusterRank?: number;
  /** Spread of normal rows along their cluster's subspace (default 0.35). */
  clusterSpread?: number;
  /** Bursts of near-identical anomalies (default 5). */
  bursts?: number;
  /** Smallest and largest burst (default 20 and 100). */
  burstSize?: [number, number];
  /** Spread of a burst around its centre (default 0.01). */
  burstSpread?: number;
  /** Isolated anomalies (default 30). */
  isolated?: number;
  /** How far anomalies sit from the cluster they start from, as a range of offset lengths (default 0.6–1.5). */
  offset?: [number, number];
  seed?: number;
}

/** Kind of each synthetic row. */
export const ROW_KIND = { normal: 0, burst: 1, isolated: 2 } as const;

/** Labelled synthetic embeddings, normal rows first. */
export interface SyntheticEmbeddings {
  d: number;
  /** Rows, unit length, [n, d]. */
  x: Float32Array;
  /** 1 for anomalies (bursts and isolated), 0 for normal rows. */
  labels: Uint8Array;
  /** `ROW_KIND` per row. */
  kind: Uint8Array;
  /** Cluster index for normal rows, burst index for burst rows, −1 for isolated rows. */
  group: Int32Array;
}

function unit(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

function gaussian(d: number, random: Random, scale = 1): Float64Array {
  const v = new Float64Array(d);
  for (let i = 0; i < d; i++) v[i] = normal(random) * scale;
  return v;
}

/** A unit point `offset` away (in direction orthogonal-ish to `from`) from the unit vector `from`. */
function awayFrom(from: Float64Array, offset: number, random: Random): Float64Array {
  const u = unit(gaussian(from.length, random));
  const v = new Float64Array(from.length);
  for (let i = 0; i < v.length; i++) v[i] = from[i]! + offset * u[i]!;
  return unit(v);
}

/** Generates labelled synthetic embeddings; the same options give the same rows. */
export function syntheticEmbeddings(options: SyntheticOptions = {}): SyntheticEmbeddings {
  const d = options.d ?? 64;
  const normals = options.normals ?? 5000;
  const weights = options.clusterWeights ?? [0.3, 0.2, 0.15, 0.12, 0.1, 0.07, 0.04, 0.02];
  const rank = options.clusterRank ?? 8;
  const spread = options.clusterSpread ?? 0.15;
  const bursts = options.bursts ?? 5;
  const [bMin, bMax] = options.burstSize ?? [20, 100];
  const burstSpread = options.burstSpread ?? 0.01;
  const isolated = options.isolated ?? 30;
  const [oMin, oMax] = options.offset ?? [0.6, 1.5];
  const random = mulberry32(options.seed ?? 1);

  const centres = weights.map(() => unit(gaussian(d, random)));
  const bases = weights.map(() => Array.from({ length: rank }, () => gaussian(d, random, 1 / Math.sqrt(d))));
  const total = weights.reduce((a, w) => a + w, 0);
  const counts = weights.map((w) => Math.floor((normals * w) / total));
  counts[0]! += normals - counts.reduce((a, c) => a + c, 0);
  const burstSizes = Array.from({ length: bursts }, () => bMin + randomInt(random, bMax - bMin + 1));
  const n = normals + burstSizes.reduce((a, s) => a + s, 0) + isolated;

  const x = new Float32Array(n * d);
  const labels = new Uint8Array(n);
  const kind = new Uint8Array(n);
  const group = new Int32Array(n);
  let row = 0;
  const put = (v: Float64Array, k: number, g: number) => {
    unit(v);
    for (let j = 0; j < d; j++) x[row * d + j] = v[j]!;
    kind[row] = k;
    labels[row] = k === ROW_KIND.normal ? 0 : 1;
    group[row] = g;
    row++;
  };
  counts.forEach((count, c) => {
    for (let i = 0; i < count; i++) {
      const v = Float64Array.from(centres[c]!);
      for (const b of bases[c]!) {
        const z = normal(random) * spread;
        for (let j = 0; j < d; j++) v[j]! += z * b[j]!;
      }
      const iso = gaussian(d, random, 0.02);
      for (let j = 0; j < d; j++) v[j]! += iso[j]!;
      put(v, ROW_KIND.normal, c);
    }
  });
  const offset = () => oMin + random() * (oMax - oMin);
  burstSizes.forEach((size, b) => {
    const centre = awayFrom(centres[randomInt(random, centres.length)]!, offset(), random);
    for (let i = 0; i < size; i++) {
      const noise = gaussian(d, random, burstSpread / Math.sqrt(d));
      put(
        centre.map((c, j) => c + noise[j]!),
        ROW_KIND.burst,
        b,
      );
    }
  });
  for (let i = 0; i < isolated; i++) {
    put(awayFrom(centres[randomInt(random, centres.length)]!, offset(), random), ROW_KIND.isolated, -1);
  }
  return { d, x, labels, kind, group };
}
