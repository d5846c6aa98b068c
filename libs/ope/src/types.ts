/**
 * Inputs of the off-policy estimators. Shapes follow Open Bandit Pipeline (Saito et al. 2021), with the evaluation
 * policy and the reward model already taken at each round's own position ("per-position": each slot of a slate
 * is one round, as OBP does for the Open Bandit Dataset).
 */

/** Logged bandit feedback, n rounds collected by the behaviour (logging) policy π_b. */
export interface BanditLog {
  /** a_i: logged action (item index in [0, nActions)), shape (n,). */
  action: ArrayLike<number>;
  /** r_i: observed reward (e.g. click 0/1), shape (n,). */
  reward: ArrayLike<number>;
  /** π_b(a_i | x_i, p_i): the logging policy's probability of the logged action at its position, in (0, 1], shape (n,). */
  pscore: ArrayLike<number>;
  /** p_i: 0-based slot of the round (omitted = every round in slot 0), shape (n,). */
  position?: ArrayLike<number>;
}

/**
 * π_e(· | x_i, p_i): the evaluation policy's distribution over actions at each round's position, row-major,
 * shape (n, nActions). (OBP's `action_dist[i, :, position[i]]`.) Deterministic policies are one-hot rows.
 */
export interface ActionDistribution {
  nActions: number;
  /** length n · nActions */
  probs: Float64Array;
}

/** q̂(x_i, a, p_i): estimated expected reward of every action at each round's position, row-major (n, nActions). */
export interface RewardEstimates {
  nActions: number;
  /** length n · nActions */
  values: Float64Array;
}

/** Per-round terms of an estimator; the estimate is their mean. */
export interface EstimatorResult {
  /** estimator name: ips | snips | dm | dr | sndr | switch-dr | sips | iips | rips | pi */
  estimator: string;
  /** V̂(π_e), mean of `roundRewards` */
  value: number;
  /** the estimator's per-round terms (per slate for slate estimators), shape (n,) */
  roundRewards: Float64Array;
}
