/**
 * Off-policy estimators of V(π_e) = E_x E_{a~π_e}[r], per round (per-position: each slot of a slate is a round).
 * Notation (Saito et al. 2021, Open Bandit Pipeline): w_i = π_e(a_i|x_i,p_i) / π_b(a_i|x_i,p_i),
 * q̂(x_i, π_e) = Σ_a π_e(a|x_i,p_i) q̂(x_i,a,p_i) / Σ_a π_e(a|x_i,p_i), E_n = mean over the n rounds.
 * Every function returns the per-round terms; the estimate is their mean (as OBP's `_estimate_round_rewards`).
 * Inputs are checked (RangeError on bad shapes/values).
 */
import type { ActionDistribution, BanditLog, EstimatorResult, RewardEstimates } from './types';
import { checkActionDist, checkLog, checkRewardEstimates } from './validation';
import { importanceWeights } from './weights';

function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

function result(estimator: string, roundRewards: Float64Array): EstimatorResult {
  return { estimator, value: mean(roundRewards), roundRewards };
}

function prepare(log: BanditLog, dist: ActionDistribution): number {
  const n = checkLog(log, dist.nActions);
  checkActionDist(dist, n);
  return n;
}

/**
 * Inverse propensity scoring (IPS / IPW): V̂ = E_n[ w_i r_i ], with optional clipping w_i ← min(w_i, λ).
 * Horvitz & Thompson (1952); Strehl et al. (2010); Dudík et al. (2011), eq. (2). Unbiased when π_b > 0 wherever
 * π_e > 0 and no clipping; clipping trades bias for variance.
 */
export function ips(log: BanditLog, dist: ActionDistribution, options: { clip?: number } = {}): EstimatorResult {
  const n = prepare(log, dist);
  const w = importanceWeights(log, dist, options.clip ?? Infinity);
  const rr = new Float64Array(n);
  for (let i = 0; i < n; i++) rr[i] = log.reward[i] * w[i];
  return result('ips', rr);
}

/**
 * Self-normalised IPS (SNIPS): V̂ = E_n[ w_i r_i ] / E_n[ w_i ]. Swaminathan & Joachims (2015). Biased but
 * consistent, bounded by the reward range. Round terms: w_i r_i / E_n[w].
 */
export function snips(log: BanditLog, dist: ActionDistribution): EstimatorResult {
  const n = prepare(log, dist);
  const w = importanceWeights(log, dist);
  const mw = mean(w);
  const rr = new Float64Array(n);
  for (let i = 0; i < n; i++) rr[i] = (log.reward[i] * w[i]) / mw;
  return result('snips', rr);
}

/** q̂(x_i, π_e) for every round (OBP's np.average(q̂, weights=π_e), i.e. divided by Σ_a π_e). */
function modelTerm(n: number, dist: ActionDistribution, q: RewardEstimates): Float64Array {
  const k = dist.nActions;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let sp = 0;
    const o = i * k;
    for (let a = 0; a < k; a++) {
      const p = dist.probs[o + a];
      s += p * q.values[o + a];
      sp += p;
    }
    if (!(sp > 0)) throw new RangeError(`actionDist row ${i} sums to 0`);
    out[i] = s / sp;
  }
  return out;
}

/**
 * Direct method (DM): V̂ = E_n[ q̂(x_i, π_e) ]. Beygelzimer & Langford (2009); Dudík et al. (2011), eq. (1).
 * Consistent only if the reward model is.
 */
export function directMethod(log: BanditLog, dist: ActionDistribution, qHat: RewardEstimates): EstimatorResult {
  const n = prepare(log, dist);
  checkRewardEstimates(qHat, n, dist.nActions);
  return result('dm', modelTerm(n, dist, qHat));
}

/**
 * Doubly robust (DR): V̂ = E_n[ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) ], optional clipping w_i ← min(w_i, λ)
 * (DR with pessimistic shrinkage, Su et al. 2020). Dudík, Langford & Li (2011), eq. (3): unbiased if either the
 * propensities or the reward model are right.
 */
export function doublyRobust(
  log: BanditLog,
  dist: ActionDistribution,
  qHat: RewardEstimates,
  options: { clip?: number } = {},
): EstimatorResult {
  return drFamily('dr', log, dist, qHat, options.clip ?? Infinity, Infinity, false);
}

/**
 * Self-normalised DR (SNDR): V̂ = E_n[ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) / E_n[w] ].
 * Kallus & Uehara (2019); as OBP's SelfNormalizedDoublyRobust.
 */
export function selfNormalizedDoublyRobust(
  log: BanditLog,
  dist: ActionDistribution,
  qHat: RewardEstimates,
): EstimatorResult {
  return drFamily('sndr', log, dist, qHat, Infinity, Infinity, true);
}

/**
 * Switch-DR: V̂ = E_n[ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) · 1{w_i ≤ τ} ] — the DM alone where the weight exceeds
 * the threshold τ. Wang, Agarwal & Dudík (2017), "Optimal and adaptive off-policy evaluation in contextual bandits".
 */
export function switchDoublyRobust(
  log: BanditLog,
  dist: ActionDistribution,
  qHat: RewardEstimates,
  options: { threshold: number },
): EstimatorResult {
  if (!(options.threshold >= 0)) throw new RangeError(`threshold: ${options.threshold} must be ≥ 0`);
  return drFamily('switch-dr', log, dist, qHat, Infinity, options.threshold, false);
}

function drFamily(
  name: string,
  log: BanditLog,
  dist: ActionDistribution,
  qHat: RewardEstimates,
  clip: number,
  threshold: number,
  selfNormalize: boolean,
): EstimatorResult {
  const n = prepare(log, dist);
  checkRewardEstimates(qHat, n, dist.nActions);
  const k = dist.nActions;
  const w = importanceWeights(log, dist, clip);
  const norm = selfNormalize ? mean(w) : 1;
  const rr = modelTerm(n, dist, qHat);
  for (let i = 0; i < n; i++) {
    if (w[i] > threshold) continue;
    const qf = qHat.values[i * k + log.action[i]];
    rr[i] += (w[i] * (log.reward[i] - qf)) / norm;
  }
  return result(name, rr);
}
