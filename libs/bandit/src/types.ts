import type { ScoreCovarianceInputs, ScoreDistribution } from './policies/propensity-job';
import type { Rng } from './rng';

/** A numeric vector: number[] or a typed array. */
export type Vector = ArrayLike<number>;

/** One candidate of a request (the ranker's shortlist). */
export interface Candidate {
  id: string;
  /** item features in the experiment's item-feature order; missing means all zeros */
  features?: Vector;
  /** the neural ranker's score, if any */
  rankerScore?: number;
  /** the neural ranker's embedding (neural-linear) */
  embedding?: Vector;
}

/** The bandit models (models/*.ts), the one list the API's schema, the console and the simulator read. */
export const MODEL_TYPES = ['beta', 'linear', 'hybrid', 'neural-linear'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];
/**
 * The default Thompson / ε-greedy model: `linear` won the issue-12 reproductions on average (README, "Learning
 * failure classes": cold start with late items 290 vs hybrid 410 regret; heavy-tailed classification 1.39× vs 1.35×
 * LinFullPost).
 */
export const DEFAULT_MODEL_TYPE: ModelType = 'linear';

/** Feature names for explanations, in schema order. */
export interface FeatureNames {
  context: readonly string[];
  item: readonly string[];
}

export interface Contribution {
  feature: string;
  value: number;
  coefficient: number;
  contribution: number;
}

/**
 * Posterior scores for one request's candidates. `draw` is the model's canonical posterior draw (one per request);
 * `redraw` is a draw from the same joint distribution of the n scores, optimised for propensity estimation.
 */
export interface SlateScorer {
  readonly n: number;
  /** posterior mean score per candidate */
  readonly mean: Float64Array;
  /** marginal posterior sd of candidate i's score (NaN when undefined); computed on demand */
  sdOf(i: number): number;
  draw(rng: Rng): Float64Array;
  redraw(rng: Rng, out: Float64Array): void;
  /** `count` re-draws into out (count × n), the same values and variates as `count` redraw() calls; optional. */
  redrawMany?(rng: Rng, count: number, out: Float64Array): void;
  /**
   * Antithetic re-draws for Monte-Carlo propensities (optional; Gaussian models): `pairs` pairs into out
   * (2·pairs × n), pair t from one σ_t and one ζ_t as s = m + σ_t p_t and s' = m − σ_t p_t (p_t = F ζ_t). Each draw is
   * exactly distributed as redraw(); a pair costs one draw's variates and product.
   */
  redrawPairs?(rng: Rng, pairs: number, out: Float64Array): void;
  /**
   * redrawPairs(rng, pairs, …) followed by counting (optional): each of the 2·pairs draws is filled greedily (top
   * chosen.length, ties to the lower index) and counts[j] += 1 where slot j holds chosen[j]. Same variates and counts
   * as redrawPairs plus counting in the caller; the draws themselves are not handed back.
   */
  redrawPairCounts?(rng: Rng, pairs: number, chosen: Int32Array, counts: Float64Array): void;
  /** Gaussian models: the n×n score covariance per unit noise variance σ² (the draw's covariance is σ² times it). */
  covariance?(): Float64Array;
  /**
   * Gaussian models: the fixed distribution the propensity re-draws use (means, covariance factor, noise posterior),
   * as plain data for a {@link PropensityJob} run elsewhere (forces the covariance and its factor).
   */
  scoreDistribution?(): ScoreDistribution;
  /**
   * Gaussian models whose covariance is a solve away (the hybrid model): what the covariance is formed from, copied
   * where the model would change it, WITHOUT forming it — so a {@link PropensityJob} in another thread does that work
   * and the decision never pays for it. Gives the same distribution as scoreDistribution().
   */
  scoreCovarianceInputs?(): ScoreCovarianceInputs;
}

export interface SnapshotBase<T extends ModelType, C, S> {
  type: T;
  version: 1;
  config: C;
  stats: S;
}

/** Options of {@link BanditModel.takeDelta}. */
export interface DeltaOptions {
  /** number arrays may be Float64Array (no per-number copy; the taken arrays belong to the caller) */
  typedArrays?: boolean;
}

/**
 * A Thompson-sampling model holding additive sufficient statistics. The state is (prior config, stats); a delta
 * has the same shape as a snapshot and adds to it element-wise, so replicas merge exactly.
 */
export interface BanditModel<
  S extends SnapshotBase<ModelType, unknown, unknown> = SnapshotBase<ModelType, unknown, unknown>,
> {
  readonly type: ModelType;
  /**
   * Records a shown slot with a reward (default 0: default reward accounting). slot: its 0-based index in the slate
   * (0 = top, the default); models with a position model (linear 'pbm') weigh it by the slot's examination.
   */
  observe(context: Vector, candidate: Candidate, reward?: number, slot?: number): void;
  /**
   * Optional: the shown slots of one decision at once, leaving exactly the state of `observe` called for each in
   * order (models implement it where batching is cheaper; hybrid: one rank-k factor update).
   */
  observeShown?(context: Vector, shown: ReadonlyArray<{ candidate: Candidate; reward?: number; slot?: number }>): void;
  /** Replaces an observed reward: changes only reward-side statistics. slot: as given to observe. */
  correct(context: Vector, candidate: Candidate, oldReward: number, newReward: number, slot?: number): void;
  /** Posterior scores of the candidates in this context. Candidate ids must be unique. */
  prepare(context: Vector, candidates: readonly Candidate[]): SlateScorer;
  /** Feature contributions (posterior-mean coefficient × value), largest |contribution| first. */
  explain(context: Vector, candidate: Candidate, names?: FeatureNames): Contribution[];
  /** Number of observations (shown slots) recorded for an item; hybrid/beta per item, linear overall. */
  observations(itemId?: string): number;
  snapshot(): S;
  /**
   * The statistics accumulated since the last takeDelta(), then resets them. With `{ typedArrays: true }` a model may
   * hand over its own pending buffers as Float64Array leaves instead of copying them into number[] (the caller then
   * owns them): for binary packing (the API's flush), not for JSON.stringify, which writes a typed array as an object.
   */
  takeDelta(options?: DeltaOptions): S;
  /** The pending delta without resetting it. */
  peekDelta(): S;
  /** Puts a taken delta back into the pending delta (e.g. its write to the database failed). */
  restoreDelta(delta: S): void;
  /** Adds another replica's delta to the state (not to the pending delta). */
  mergeDelta(delta: S): void;
  /** Replaces the state with `merged` (the database's sum) plus the still-pending local delta. */
  rebase(merged: S): void;
}

export function checkVector(v: Vector | undefined, d: number, what: string): Vector {
  if (v === undefined) throw new RangeError(`${what} is required`);
  if (v.length !== d) throw new RangeError(`${what}: expected ${d} numbers, got ${v.length}`);
  for (let i = 0; i < d; i++) if (!Number.isFinite(v[i])) throw new RangeError(`${what}[${i}] is not a finite number`);
  return v;
}

export function checkReward(r: number, what = 'reward'): number {
  if (typeof r !== 'number' || !Number.isFinite(r)) throw new RangeError(`${what} must be a finite number, got ${r}`);
  return r;
}

export function checkUniqueIds(candidates: readonly Candidate[]): void {
  const seen = new Set<string>();
  for (const c of candidates) {
    if (typeof c.id !== 'string') throw new RangeError('candidate id must be a string');
    if (seen.has(c.id)) throw new RangeError(`duplicate candidate id "${c.id}"`);
    seen.add(c.id);
  }
}

export function checkPositive(x: number, what: string): number {
  if (!(typeof x === 'number' && x > 0 && Number.isFinite(x)))
    throw new RangeError(`${what} must be a positive number, got ${x}`);
  return x;
}

export function sortContributions(list: Contribution[]): Contribution[] {
  return list.sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution) || a.feature.localeCompare(b.feature));
}

/** JSON with object keys sorted (jsonb does not keep key order). */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function assertCompatible(
  model: { type: ModelType; config: unknown },
  s: { type: ModelType; version: number; config: unknown },
): void {
  if (s.type !== model.type || s.version !== 1 || stableStringify(s.config) !== stableStringify(model.config)) {
    throw new RangeError(`snapshot/delta does not match this ${model.type} model (type, version or config differ)`);
  }
}
