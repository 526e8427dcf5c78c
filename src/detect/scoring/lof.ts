// The `lof` scoring method: local outlier factor on the k nearest reference rows, the mean reachability
// density of the neighbours over the row's own (densities 1 / (mean reach-distance + 1e-10)).
import { effectiveK, firstNeighbours, methodOptions, searchOnce } from './shared.ts';
import type { LofState, ScoringMethodDef } from './types.ts';

const LRD_EPSILON = 1e-10;

function lofScores(
  k: number,
  distances: Float32Array,
  indices: Int32Array,
  state: LofState,
  q: number,
): Float32Array {
  const out = new Float32Array(q);
  for (let i = 0; i < q; i++) {
    let reach = 0;
    let neighbourLrd = 0;
    for (let j = 0; j < k; j++) {
      const o = indices[i * k + j]!;
      reach += Math.max(state.kDistances[o]!, distances[i * k + j]!);
      neighbourLrd += state.lrd[o]!;
    }
    const lrd = 1 / (reach / k + LRD_EPSILON);
    out[i] = neighbourLrd / k / lrd;
  }
  return out;
}

/** Local outlier factor with k neighbours (k = 20). */
export const lof: ScoringMethodDef = {
  name: 'lof',
  meanDistance: false,
  neighbours: (options, n) => effectiveK(methodOptions('lof', options), n),
  async fit({ ref, n, d, options, runtime }) {
    const resolved = methodOptions('lof', options);
    const k = effectiveK(resolved, n);
    const { distances, indices } = await searchOnce(ref, ref, d, k, true, resolved, runtime);
    const kDistances = new Float32Array(n);
    for (let i = 0; i < n; i++) kDistances[i] = distances[i * k + k - 1]!;
    const lrd = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let reach = 0;
      for (let j = 0; j < k; j++) reach += Math.max(kDistances[indices[i * k + j]!]!, distances[i * k + j]!);
      lrd[i] = 1 / (reach / k + LRD_EPSILON);
    }
    const state = { kDistances, lrd };
    return {
      method: 'lof',
      options: resolved,
      n,
      d,
      k,
      lof: state,
      referenceScores: lofScores(k, distances, indices, state, n),
    };
  },
  async score(s, { ref, qs, q, d, excludeSelf, runtime }) {
    const { k, distances, indices } = await searchOnce(ref, qs, d, s.k, excludeSelf, s.options, runtime);
    return {
      scores: lofScores(k, distances, indices, s.lof!, q),
      neighbours: firstNeighbours(indices, k, q),
    };
  },
};
