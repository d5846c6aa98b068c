/**
 * The reward model q̂(x, a, p) for the direct method and the doubly robust family.
 *
 * Model: one L2-penalised logistic regression per slot p (as OBP's RegressionModel fits one model per position),
 *     P(r = 1 | x, a, p) = σ(β₀ + θ_pᵀ x + γ_{p,a}),
 * i.e. features [1, x, one-hot(a)], fitted by Newton's method (IRLS) with a backtracking line search to the
 * minimum of  Σ_i −[r_i log σ_i + (1 − r_i) log(1 − σ_i)] + (λ/2)(‖θ‖² + ‖γ‖²)  (intercept unpenalised; the
 * objective of scikit-learn's LogisticRegression with C = 1/λ). Rewards in [0, 1] (fractional rewards use the
 * same cross-entropy).
 *
 * Cross-fitting (Chernozhukov et al. 2018; Narita, Yasui & Yata 2021; OBP's `fit_predict(n_folds)`): the log is cut
 * into K contiguous blocks of rounds (fold of round i = ⌊i·K/n⌋, so earlier/later traffic is held out together);
 * the predictions for the rounds of block k come from the models fitted on the other K − 1 blocks, so no round's
 * q̂ has seen its own reward (the DR correction stays unbiased given the fitted model). K = 1 fits and predicts on
 * the whole log (no cross-fitting).
 */
import { cholesky, cholSolve } from '@slotwise/bandit';
import type { BanditLog, RewardEstimates } from './types';
import { checkLog } from './validation';

export interface RewardModelOptions {
  nActions: number;
  /** x_i: context features per round, row-major (n, dContext); may be empty (dContext = 0). Zeros are skipped. */
  context?: Float64Array;
  dContext?: number;
  /** K, number of cross-fitting folds (default 3) */
  folds?: number;
  /** λ, L2 penalty (default 1, i.e. scikit-learn C = 1) */
  l2?: number;
  /** Newton stops when every coefficient moves less than this (default 1e-10) */
  tolerance?: number;
  maxIterations?: number;
}

/** Fitted coefficients for one slot: [β₀, θ (dContext), γ (nActions)]. */
export interface LogisticFit {
  coefficients: Float64Array;
  iterations: number;
}

const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Sparse rows of [1, x_i] (the action's one-hot is added on the fly). */
interface Sparse {
  start: Int32Array;
  index: Int32Array;
  value: Float64Array;
}

function sparseContext(n: number, d: number, context: Float64Array | undefined): Sparse {
  const start = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < n; i++) {
    start[i] = idx.length;
    idx.push(0);
    val.push(1);
    for (let j = 0; j < d; j++) {
      const v = context![i * d + j];
      if (v !== 0) {
        idx.push(1 + j);
        val.push(v);
      }
    }
  }
  start[n] = idx.length;
  return { start, index: Int32Array.from(idx), value: Float64Array.from(val) };
}

/**
 * Penalised logistic regression by Newton's method on the given rounds. Throws RangeError when the rewards of the
 * rounds are all equal (no finite intercept) or Newton fails to converge.
 */
function fitLogistic(
  rows: ArrayLike<number>,
  X: Sparse,
  action: ArrayLike<number>,
  reward: ArrayLike<number>,
  dContext: number,
  nActions: number,
  l2: number,
  tolerance = 1e-10,
  maxIterations = 100,
): LogisticFit {
  const d = 1 + dContext + nActions;
  const aOff = 1 + dContext;
  let lo = Infinity;
  let hi = -Infinity;
  for (let t = 0; t < rows.length; t++) {
    const r = reward[rows[t]];
    if (r < 0 || r > 1) throw new RangeError(`reward model: reward ${r} is outside [0, 1]`);
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
  }
  if (!(hi > lo))
    throw new RangeError(
      `reward model: the ${rows.length} training rounds of a fold and slot all have reward ${lo}; use fewer folds or more data`,
    );
  const beta = new Float64Array(d);
  const eta = new Float64Array(rows.length);
  const objective = (b: Float64Array): number => {
    let f = 0;
    for (let t = 0; t < rows.length; t++) {
      const i = rows[t];
      let z = b[aOff + action[i]];
      for (let s = X.start[i]; s < X.start[i + 1]; s++) z += b[X.index[s]] * X.value[s];
      eta[t] = z;
      // −[r log σ(z) + (1 − r) log(1 − σ(z))] = log(1 + e^z) − r z, computed stably
      f += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - reward[i] * z;
    }
    let pen = 0;
    for (let j = 1; j < d; j++) pen += b[j] * b[j];
    return f + 0.5 * l2 * pen;
  };
  let f = objective(beta);
  const H = new Float64Array(d * d);
  const g = new Float64Array(d);
  const nz = new Int32Array(d);
  const nzv = new Float64Array(d);
  for (let iter = 1; iter <= maxIterations; iter++) {
    H.fill(0);
    g.fill(0);
    for (let t = 0; t < rows.length; t++) {
      const i = rows[t];
      const p = sigmoid(eta[t]);
      const res = p - reward[i];
      const s = p * (1 - p);
      let m = 0;
      for (let q = X.start[i]; q < X.start[i + 1]; q++) {
        nz[m] = X.index[q];
        nzv[m++] = X.value[q];
      }
      nz[m] = aOff + action[i];
      nzv[m++] = 1;
      for (let u = 0; u < m; u++) {
        const ju = nz[u];
        const xu = nzv[u];
        g[ju] += res * xu;
        for (let v = 0; v < m; v++) {
          const jv = nz[v];
          if (jv <= ju) H[ju * d + jv] += s * xu * nzv[v];
        }
      }
    }
    for (let j = 1; j < d; j++) {
      g[j] += l2 * beta[j];
      H[j * d + j] += l2;
    }
    const step = cholSolve(cholesky(H, d), g, d);
    // backtracking on the penalised objective (Newton from β = 0 can overshoot when clicks are rare)
    let scale = 1;
    const trial = new Float64Array(d);
    let fTrial: number;
    let h = 0;
    do {
      for (let j = 0; j < d; j++) trial[j] = beta[j] - scale * step[j];
      fTrial = objective(trial); // also leaves eta at the trial point, the one accepted last
      scale /= 2;
    } while (fTrial > f && ++h < 50);
    let moved = 0;
    for (let j = 0; j < d; j++) moved = Math.max(moved, Math.abs(trial[j] - beta[j]));
    beta.set(trial);
    f = fTrial;
    if (moved < tolerance) return { coefficients: beta, iterations: iter };
  }
  throw new RangeError(`reward model: Newton did not converge in ${maxIterations} iterations`);
}

/**
 * Cross-fitted q̂(x_i, a, p_i) for every round and action at the round's own slot, shape (n, nActions).
 * Cost: per fold and slot, O(iterations · (n·m² + d³)) with m non-zero features per round and d = 1 + dContext + nActions.
 */
export function fitRewardModel(log: BanditLog, options: RewardModelOptions): RewardEstimates {
  const n = checkLog(log, options.nActions);
  const k = options.nActions;
  const dc = options.dContext ?? 0;
  if (dc > 0 && (!options.context || options.context.length !== n * dc))
    throw new RangeError(`context: expected length n·dContext = ${n * dc}`);
  const folds = options.folds ?? 3;
  if (!(Number.isInteger(folds) && folds >= 1 && folds <= n))
    throw new RangeError(`folds: ${folds} must be an integer in [1, n]`);
  const l2 = options.l2 ?? 1;
  if (!(l2 > 0)) throw new RangeError(`l2: ${l2} must be > 0`);
  const X = sparseContext(n, dc, options.context);
  const pos = (i: number): number => (log.position ? log.position[i] : 0);
  let slots = 1;
  for (let i = 0; i < n; i++) slots = Math.max(slots, pos(i) + 1);
  const fold = (i: number): number => Math.floor((i * folds) / n);
  const out = new Float64Array(n * k);
  for (let f = 0; f < folds; f++) {
    for (let p = 0; p < slots; p++) {
      const train: number[] = [];
      const test: number[] = [];
      for (let i = 0; i < n; i++) {
        if (pos(i) !== p) continue;
        if (folds === 1 || fold(i) !== f) train.push(i);
        if (folds === 1 || fold(i) === f) test.push(i);
      }
      if (test.length === 0) continue;
      const { coefficients: b } = fitLogistic(
        train,
        X,
        log.action,
        log.reward,
        dc,
        k,
        l2,
        options.tolerance,
        options.maxIterations,
      );
      for (const i of test) {
        let z = 0;
        for (let s = X.start[i]; s < X.start[i + 1]; s++) z += b[X.index[s]] * X.value[s];
        for (let a = 0; a < k; a++) out[i * k + a] = sigmoid(z + b[1 + dc + a]);
      }
    }
    if (folds === 1) break;
  }
  return { nActions: k, values: out };
}
