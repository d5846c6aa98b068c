/**
 * Uniformly random slate (first k of a random permutation). Propensity exactly 1/n per slot. There is no posterior:
 * the greedy reference is the ranker's order (ranker score, else input order) given the earlier slots, so
 * `explored` says where the random slate departs from the baseline.
 */
import type { Rng } from '../rng';
import { buildSlots, checkInput, greedyGivenEarlier, rankerKeys } from './slate';
import type { DecisionInput, PolicyDefinition, SlateDecision, SlatePolicy } from './types';

export class RandomPolicy implements SlatePolicy {
  readonly type = 'random' as const;
  readonly model = null;
  readonly options = {};

  decide(input: DecisionInput, rng: Rng): SlateDecision {
    const { n, k } = checkInput(input);
    const cands = input.candidates;
    const chosen = rng.samplePrefix(n, k);
    const greedy = greedyGivenEarlier(rankerKeys(cands), chosen);
    const slots = buildSlots(cands, chosen, greedy, {
      score: () => null,
      mean: () => null,
      sd: () => null,
      propensity: () => 1 / n,
    });
    return { policy: 'random', model: null, slots, propensity: { method: 'exact', draws: 0 } };
  }
}

export const randomDefinition: PolicyDefinition = {
  type: 'random',
  description: 'Uniformly random slate; propensity 1/n per slot.',
  options: [],
  modelType: () => null,
  create: () => new RandomPolicy(),
};
