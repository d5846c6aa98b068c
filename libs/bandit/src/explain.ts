/** Explanations: the largest feature contributions (posterior-mean coefficient × feature value) of a candidate. */
import type { BanditModel, Candidate, Contribution, FeatureNames, Vector } from './types';

export function explainCandidate(
  model: BanditModel,
  context: Vector,
  candidate: Candidate,
  names?: FeatureNames,
  top = 5,
): Contribution[] {
  return model.explain(context, candidate, names).slice(0, top);
}

/** Top contributions for each chosen slot of a decision. */
export function explainSlate(
  model: BanditModel,
  context: Vector,
  candidates: readonly Candidate[],
  slots: readonly { index: number }[],
  names?: FeatureNames,
  top = 5,
): Contribution[][] {
  return slots.map((s) => explainCandidate(model, context, candidates[s.index], names, top));
}
