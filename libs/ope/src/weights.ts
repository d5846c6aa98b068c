import type { ActionDistribution, BanditLog } from './types';

/**
 * Importance weights w_i = π_e(a_i | x_i, p_i) / π_b(a_i | x_i, p_i), shape (n,).
 * With `clip` = λ (> 0), w_i ← min(w_i, λ) (weight clipping; Strehl et al. 2010, Su et al. 2020).
 */
export function importanceWeights(log: BanditLog, dist: ActionDistribution, clip = Infinity): Float64Array {
  if (!(clip > 0)) throw new RangeError(`clip: ${clip} must be > 0`);
  const n = log.action.length;
  const k = dist.nActions;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = dist.probs[i * k + log.action[i]] / log.pscore[i];
    w[i] = v > clip ? clip : v;
  }
  return w;
}

/** Diagnostics of importance weights. */
export interface WeightDiagnostics {
  /** n_eff = (Σ w_i)² / Σ w_i² (Kish's effective sample size; Owen 2013, §9.3) */
  effectiveSampleSize: number;
  /** max_i w_i */
  maxWeight: number;
  /** mean of w_i (≈ 1 when π_e is supported by π_b; far from 1 flags a support or propensity problem) */
  meanWeight: number;
  /** number of rounds with w_i > clip (0 without clipping) */
  clippedCount: number;
}

/** Effective sample size, largest and mean weight of a weight vector (raw, unclipped weights expected). */
export function weightDiagnostics(w: ArrayLike<number>, clip = Infinity): WeightDiagnostics {
  let s = 0;
  let s2 = 0;
  let max = -Infinity;
  let clipped = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    s += v;
    s2 += v * v;
    if (v > max) max = v;
    if (v > clip) clipped++;
  }
  return {
    effectiveSampleSize: s2 > 0 ? (s * s) / s2 : 0,
    maxWeight: max,
    meanWeight: s / w.length,
    clippedCount: clipped,
  };
}

/**
 * Builds π_e(· | x_i, p_i) for a policy that does not depend on the context: `table[a][p]` is the probability of
 * action a in slot p (OBP's `action_dist[0]` of a context-free policy, shape (nActions, lenList)).
 */
export function contextFreeActionDist(
  table: ArrayLike<ArrayLike<number>>,
  position: ArrayLike<number> | undefined,
  n: number,
): ActionDistribution {
  const k = table.length;
  const probs = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const p = position ? position[i] : 0;
    for (let a = 0; a < k; a++) {
      if (!(p >= 0 && p < table[a].length))
        throw new RangeError(`position[${i}]: slot ${p} is not in the table (slots 0..${table[a].length - 1})`);
      probs[i * k + a] = table[a][p];
    }
  }
  return { nActions: k, probs };
}

/** The uniform-random policy over nActions, every round. */
export function uniformActionDist(nActions: number, n: number): ActionDistribution {
  return { nActions, probs: new Float64Array(n * nActions).fill(1 / nActions) };
}
