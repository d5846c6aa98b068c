/**
 * Epsilon-greedy at the decision level: with probability ε the slate is the first k of a uniformly random
 * permutation of the candidates, otherwise the top k by posterior mean of the configured model.
 * Exact propensity: P(item i at position j) = ε/n + (1 − ε)·[i is the j-th by mean]. ε defaults to 0.05
 * (Vowpal Wabbit's cb_explore_adf default).
 */
import type { Rng } from '../rng';
import { type BanditModel, DEFAULT_MODEL_TYPE, MODEL_TYPES, type ModelType } from '../types';
import { attachExplanations, buildSlots, checkInput, finiteOrNull, greedyGivenEarlier, topK } from './slate';
import type { DecisionInput, OptionSpec, PolicyDefinition, SlateDecision, SlatePolicy } from './types';

/** Vowpal Wabbit's cb_explore_adf default exploration rate. */
export const DEFAULT_EPSILON = 0.05;

export const EPSILON_GREEDY_OPTIONS = [
  {
    name: 'epsilon',
    type: 'number',
    min: 0,
    max: 1,
    default: DEFAULT_EPSILON,
    description: 'exploration probability per decision',
  },
  {
    name: 'model',
    type: 'enum',
    values: MODEL_TYPES,
    default: DEFAULT_MODEL_TYPE,
    description: 'model whose posterior mean is exploited',
  },
] as const satisfies readonly OptionSpec[];

export class EpsilonGreedyPolicy implements SlatePolicy {
  readonly type = 'epsilon-greedy' as const;
  readonly epsilon: number;
  constructor(
    readonly model: BanditModel,
    readonly options: Readonly<Record<string, unknown>> = { epsilon: DEFAULT_EPSILON, model: model.type },
  ) {
    this.epsilon = (options.epsilon as number | undefined) ?? DEFAULT_EPSILON;
    if (!(this.epsilon >= 0 && this.epsilon <= 1))
      throw new RangeError(`epsilon must be in [0, 1], got ${this.epsilon}`);
  }

  decide(input: DecisionInput, rng: Rng): SlateDecision {
    const { n, k } = checkInput(input);
    const cands = input.candidates;
    const scorer = this.model.prepare(input.context, cands);
    const byMean = topK(scorer.mean, k);
    const explore = rng.uniform() < this.epsilon;
    const chosen = explore ? Int32Array.from(rng.samplePrefix(n, k)) : byMean;
    const greedy = greedyGivenEarlier(scorer.mean, chosen);
    const eps = this.epsilon;
    const slots = buildSlots(cands, chosen, greedy, {
      score: (i) => scorer.mean[i],
      mean: (i) => scorer.mean[i],
      sd: (i) => (input.explain ? finiteOrNull(scorer.sdOf(i)) : null),
      propensity: (j) => eps / n + (1 - eps) * (chosen[j] === byMean[j] ? 1 : 0),
    });
    attachExplanations(slots, input, this.model);
    return { policy: 'epsilon-greedy', model: this.model.type, slots, propensity: { method: 'exact', draws: 0 } };
  }
}

export const epsilonGreedyDefinition: PolicyDefinition = {
  type: 'epsilon-greedy',
  description: 'With probability epsilon a uniformly random slate, otherwise the top slots by posterior mean.',
  options: EPSILON_GREEDY_OPTIONS,
  modelType: (o) => o.model as ModelType,
  create(options, model) {
    if (!model) throw new RangeError('epsilon-greedy needs a model');
    if (model.type !== options.model)
      throw new RangeError(
        `epsilon-greedy is configured for model "${String(options.model)}" but got a "${model.type}" model`,
      );
    return new EpsilonGreedyPolicy(model, options);
  },
};
