/**
 * Slate (ranking) estimators. A slate log holds n slates of K slots, row-major: slot k of slate i at index i·K + k
 * (OBP's layout: slate_id = repeat(0..n−1, K), position = tile(0..K−1, n)). Rewards are per slot, r_ik; the slate
 * reward is their sum. Round terms are per slate; the estimate is their mean (OBP: sum over rows / number of slates).
 */
import type { EstimatorResult } from './types';

export interface SlateLog {
  /** K: slots per slate */
  slots: number;
  /** r_ik, shape (n·K,) */
  reward: ArrayLike<number>;
}

function check(log: SlateLog, arrays: Record<string, ArrayLike<number>>): number {
  const k = log.slots;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`slots: ${k} must be a positive integer`);
  const len = log.reward.length;
  if (len === 0 || len % k !== 0)
    throw new RangeError(`reward: length ${len} is not a positive multiple of slots = ${k}`);
  for (const [name, a] of Object.entries(arrays)) {
    if (a.length !== len) throw new RangeError(`${name}: length ${a.length}, expected ${len}`);
    for (let i = 0; i < len; i++)
      if (!(a[i] >= 0 && a[i] <= 1)) throw new RangeError(`${name}[${i}]: ${a[i]} is not a probability`);
  }
  for (let i = 0; i < len; i++) if (!Number.isFinite(log.reward[i])) throw new RangeError(`reward[${i}]: not finite`);
  return len / k;
}

function weightedSlotSum(
  name: string,
  log: SlateLog,
  behavior: ArrayLike<number>,
  evaluation: ArrayLike<number>,
  label: [string, string],
): EstimatorResult {
  const n = check(log, { [label[0]]: behavior, [label[1]]: evaluation });
  const k = log.slots;
  const rr = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * k; j < (i + 1) * k; j++) {
      if (!(behavior[j] > 0)) throw new RangeError(`${label[0]}[${j}]: must be > 0`);
      s += log.reward[j] * (evaluation[j] / behavior[j]);
    }
    rr[i] = s;
    total += s;
  }
  return { estimator: name, value: total / n, roundRewards: rr };
}

/**
 * Standard slate IPS (SIPS): V̂ = (1/n) Σ_i Σ_k r_ik · π_e(s_i|x_i) / π_b(s_i|x_i), with the JOINT slate
 * probabilities (the same value on each slot of a slate). No assumption on the reward; variance grows with the
 * number of slates. McInerney et al. (2020), eq. (1); OBP's SlateStandardIPS.
 */
export function slateStandardIps(
  log: SlateLog,
  behaviorPscore: ArrayLike<number>,
  evaluationPscore: ArrayLike<number>,
): EstimatorResult {
  return weightedSlotSum('sips', log, behaviorPscore, evaluationPscore, ['behaviorPscore', 'evaluationPscore']);
}

/**
 * Independent IPS (IIPS): V̂ = (1/n) Σ_i Σ_k r_ik · π_e(a_ik at k|x_i) / π_b(a_ik at k|x_i), with the MARGINAL
 * item-position probabilities. Unbiased when each slot's reward depends only on the item in that slot (item-position
 * model) — the per-position estimator of OBP's OBD examples summed over slots. Li et al. (2018); McInerney et al.
 * (2020), eq. (2); OBP's SlateIndependentIPS.
 */
export function slateIndependentIps(
  log: SlateLog,
  behaviorPscoreItemPosition: ArrayLike<number>,
  evaluationPscoreItemPosition: ArrayLike<number>,
): EstimatorResult {
  return weightedSlotSum('iips', log, behaviorPscoreItemPosition, evaluationPscoreItemPosition, [
    'behaviorPscoreItemPosition',
    'evaluationPscoreItemPosition',
  ]);
}

/**
 * Reward-interaction IPS (RIPS): V̂ = (1/n) Σ_i Σ_k r_ik · π_e(a_i1..a_ik|x_i) / π_b(a_i1..a_ik|x_i), with the
 * probabilities of the slate's first k items (cascade: a slot's reward depends on the items above it).
 * McInerney et al. (2020), eq. (5); OBP's SlateRewardInteractionIPS.
 */
export function slateRewardInteractionIps(
  log: SlateLog,
  behaviorPscoreCascade: ArrayLike<number>,
  evaluationPscoreCascade: ArrayLike<number>,
): EstimatorResult {
  return weightedSlotSum('rips', log, behaviorPscoreCascade, evaluationPscoreCascade, [
    'behaviorPscoreCascade',
    'evaluationPscoreCascade',
  ]);
}

/**
 * Pseudo-inverse (PI) estimator for ADDITIVE slate rewards, r_i = Σ_k φ(x_i, k, a_ik) observed only as a total,
 * under a FACTORISED logging policy π_b(s|x) = Π_k π_b(a_k at k|x):
 *
 *     V̂_PI = (1/n) Σ_i r_i · ( Σ_k π_e(a_ik at k|x_i) / π_b(a_ik at k|x_i) − K + 1 ),   r_i = Σ_k r_ik
 *
 * Swaminathan, Krishnamurthy, Agarwal, Dudík, Langford, Jose & Zitouni (2017), "Off-policy evaluation for slate
 * recommendation", NeurIPS, eq. (4) with the closed form of Γ⁺ for factorised π_b (their §3, Example). Unbiased
 * for additive rewards with exponentially smaller weights than SIPS. Takes the marginal item-position
 * probabilities (as IIPS). Not valid for logging without replacement (then Γ is not diagonal-plus-rank-one).
 */
export function slatePseudoInverse(
  log: SlateLog,
  behaviorPscoreItemPosition: ArrayLike<number>,
  evaluationPscoreItemPosition: ArrayLike<number>,
): EstimatorResult {
  const n = check(log, { behaviorPscoreItemPosition, evaluationPscoreItemPosition });
  const k = log.slots;
  const rr = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let r = 0;
    let w = 0;
    for (let j = i * k; j < (i + 1) * k; j++) {
      if (!(behaviorPscoreItemPosition[j] > 0)) throw new RangeError(`behaviorPscoreItemPosition[${j}]: must be > 0`);
      r += log.reward[j];
      w += evaluationPscoreItemPosition[j] / behaviorPscoreItemPosition[j];
    }
    rr[i] = r * (w - k + 1);
    total += rr[i];
  }
  return { estimator: 'pi', value: total / n, roundRewards: rr };
}
