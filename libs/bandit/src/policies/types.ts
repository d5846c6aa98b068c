import type { Rng } from '../rng';
import type { BanditModel, Candidate, Contribution, FeatureNames, ModelType, Vector } from '../types';
import type { PropensityJob } from './propensity-job';

export type PolicyType = 'thompson' | 'epsilon-greedy' | 'random' | 'ranker';

export interface DecisionInput {
  /** context vector in the experiment's context-feature order (may be empty for context-free models) */
  context: Vector;
  /** the shortlist; ids must be unique */
  candidates: readonly Candidate[];
  /** number of slots k (filled up to the number of candidates) */
  slots: number;
  /** Monte-Carlo re-draws for propensities (policies without a closed form). Default 1,000; 0 disables. */
  propensityDraws?: number;
  /**
   * Sequential stopping of those re-draws (slate.ts, `monteCarloPropensitiesStopped`): stop once every slot's
   * standard-error bound is ≤ this (a probability, > 0), after at least 256 and at most `propensityDraws` draws.
   * Default (undefined): the worst-case bound of all `propensityDraws` draws, 1/√(2N) (0.022 at N = 1,000) — the
   * guarantee of the full run, without the draws it does not need. null: always all draws.
   */
  propensityError?: number | null;
  /** attach the 5 (or `top`) largest feature contributions per slot */
  explain?: boolean | { names?: FeatureNames; top?: number };
  /**
   * Monte-Carlo propensities later (thompson): the decision's slots carry `propensity: null` and the decision a
   * `deferredPropensities()` that computes exactly the numbers an inline decision with the same rng and model state
   * would have logged, whatever the model learns meanwhile. Default false.
   */
  deferPropensities?: boolean;
}

export interface SlotDecision {
  /** 1-based position */
  position: number;
  /** index of the chosen candidate in the input list */
  index: number;
  itemId: string;
  /** the drawn score that placed the item (thompson), the exploited mean (epsilon-greedy), the ranker score (ranker) */
  score: number | null;
  /** posterior mean score (null without a model) */
  mean: number | null;
  /**
   * marginal posterior sd of the score; null where not meaningful, and unless the request asked for explanations or
   * propensities were drawn (without the score covariance it costs one solve with the full factor per slot)
   */
  sd: number | null;
  /** what the same policy picks with the posterior mean instead of a draw, given the same earlier slots */
  greedyIndex: number;
  greedyItemId: string;
  /** chosen ≠ greedy */
  explored: boolean;
  /** P(policy puts this item in this position); null when propensities were disabled */
  propensity: number | null;
  explanation?: Contribution[];
}

export interface SlateDecision {
  policy: PolicyType;
  model: ModelType | null;
  slots: SlotDecision[];
  propensity: { method: 'exact' | 'monte-carlo' | 'none'; draws: number };
  /**
   * With `deferPropensities`: the per-slot Monte-Carlo propensities, computed when called (once; O(draws · n)). The
   * joint score distribution it re-draws from is fixed when the decision is made, so the model may change before
   * the call.
   */
  deferredPropensities?: () => number[];
  /**
   * With `deferPropensities` and a Gaussian scorer: the same computation as plain data (runPropensityJob gives
   * exactly deferredPropensities()'s numbers), for running it in a worker thread.
   */
  propensityJob?: PropensityJob;
}

export interface SlatePolicy {
  readonly type: PolicyType;
  /** the validated options, defaults filled in */
  readonly options: Readonly<Record<string, unknown>>;
  readonly model: BanditModel | null;
  /** Decides a slate. Replayable: the same rng state, model state and input give the same output. */
  decide(input: DecisionInput, rng: Rng): SlateDecision;
}

/**
 * One option of a policy or model (like a Vowpal Wabbit reduction's declared options): the bandit validates with it
 * and libs/contracts generates the API's zod schema and the console's defaults from it.
 */
export interface OptionSpec {
  readonly name: string;
  readonly type: 'number' | 'integer' | 'enum' | 'boolean';
  readonly description: string;
  readonly default?: unknown;
  readonly required?: boolean;
  /** inclusive bounds */
  readonly min?: number;
  readonly max?: number;
  /** exclusive lower bound (a value must be greater) */
  readonly exclusiveMin?: number;
  readonly values?: readonly string[];
}

/** A policy type: declares its options (like Vowpal Wabbit's cb_explore_adf_* reductions) and builds policies. */
export interface PolicyDefinition {
  type: PolicyType;
  description: string;
  options: readonly OptionSpec[];
  /** the model type the policy needs for these (validated) options, or null */
  modelType(options: Readonly<Record<string, unknown>>): ModelType | null;
  create(options: Readonly<Record<string, unknown>>, model: BanditModel | null): SlatePolicy;
}
