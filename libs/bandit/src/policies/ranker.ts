/**
 * Ranker order: greedy by the neural ranker's score (ties and unscored candidates in input order; with no scores at
 * all, the input order). Deterministic: propensity 1, never explored.
 */
import type { Rng } from '../rng';
import { buildSlots, checkInput, rankerKeys, topK } from './slate';
import type { DecisionInput, PolicyDefinition, SlateDecision, SlatePolicy } from './types';

export class RankerPolicy implements SlatePolicy {
  readonly type = 'ranker' as const;
  readonly model = null;
  readonly options = {};

  decide(input: DecisionInput, _rng: Rng): SlateDecision {
    const { k } = checkInput(input);
    const cands = input.candidates;
    const keys = rankerKeys(cands);
    const chosen = topK(keys, k);
    const score = (i: number): number | null => (Number.isFinite(keys[i]) ? keys[i] : null);
    const slots = buildSlots(cands, chosen, chosen, { score, mean: score, sd: () => null, propensity: () => 1 });
    return { policy: 'ranker', model: null, slots, propensity: { method: 'exact', draws: 0 } };
  }
}

export const rankerDefinition: PolicyDefinition = {
  type: 'ranker',
  description: 'Greedy by ranker score (input order without scores); propensity 1.',
  options: [],
  modelType: () => null,
  create: () => new RankerPolicy(),
};
