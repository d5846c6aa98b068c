/**
 * Thompson sampling over a slate: ONE posterior draw per request scores every candidate; slots are filled greedily
 * by the drawn scores without repeats. Greedy = the same filling by posterior mean given the earlier slots.
 * Propensities by Monte-Carlo re-draws of the joint score distribution (seeded child of the decision rng).
 */
import type { Rng } from '../rng';
import { type BanditModel, DEFAULT_MODEL_TYPE, MODEL_TYPES, type ModelType } from '../types';
import {
  attachExplanations,
  buildSlots,
  checkInput,
  DEFAULT_PROPENSITY_DRAWS,
  finiteOrNull,
  greedyGivenEarlier,
  monteCarloPropensities,
  topK,
} from './slate';
import { type PropensityJob, runPropensityJob } from './propensity-job';
import type { DecisionInput, OptionSpec, PolicyDefinition, SlateDecision, SlatePolicy } from './types';

/**
 * Thompson sampling's options. `propensityDraws` and `propensities` are the serving layer's (the draws come with
 * each DecisionInput): `inline` (absent) puts the Monte-Carlo propensities in the answer; `deferred` computes them
 * after it (README "Deferred propensities").
 */
export const THOMPSON_OPTIONS = [
  {
    name: 'model',
    type: 'enum',
    values: MODEL_TYPES,
    default: DEFAULT_MODEL_TYPE,
    description: 'posterior model (linear won the issue-12 reproductions on average)',
  },
  {
    name: 'propensityDraws',
    type: 'integer',
    min: 0,
    max: 100_000,
    default: DEFAULT_PROPENSITY_DRAWS,
    description: 'Monte-Carlo re-draws per decision for the slot propensities (0: none)',
  },
  {
    name: 'propensities',
    type: 'enum',
    values: ['inline', 'deferred'],
    description: 'propensities in the answer (inline, the default) or computed after it (deferred)',
  },
] as const satisfies readonly OptionSpec[];

export class ThompsonPolicy implements SlatePolicy {
  readonly type = 'thompson' as const;
  constructor(
    readonly model: BanditModel,
    readonly options: Readonly<Record<string, unknown>> = { model: model.type },
  ) {}

  decide(input: DecisionInput, rng: Rng): SlateDecision {
    const { k, draws } = checkInput(input);
    const cands = input.candidates;
    const scorer = this.model.prepare(input.context, cands);
    const drawn = scorer.draw(rng);
    const chosen = topK(drawn, k);
    const greedy = greedyGivenEarlier(scorer.mean, chosen);
    const wanted = draws > 0 && k > 0;
    // the re-draws' stream: Ziggurat normals (faster; the decision's own draw above keeps the polar variates)
    const child = wanted ? rng.split('ziggurat') : null;
    const target = input.propensityError === undefined ? 'auto' : input.propensityError;
    let deferred: (() => number[]) | undefined;
    let job: PropensityJob | undefined;
    if (child && input.deferPropensities) {
      // Fix the joint score distribution now (the covariance and its factor read the model's current factor, which
      // the observations of this very decision update next); the re-draws and counting run when called. The hybrid
      // model hands over the covariance's inputs (a copy of its factor) instead of forming it: that is the job's work.
      const distribution = scorer.scoreCovarianceInputs?.() ?? scorer.scoreDistribution?.();
      if (distribution)
        job = { ...distribution, chosen: Int32Array.from(chosen), draws, maxError: target, rng: child.getState() };
      let done: number[] | null = null;
      if (job) {
        const fixed = job;
        deferred = () => (done ??= runPropensityJob(fixed));
      } else {
        scorer.redrawPairs?.(child, 0, new Float64Array(0));
        if (!scorer.redrawPairs) scorer.covariance?.();
        deferred = () => (done ??= monteCarloPropensities(scorer, chosen, draws, child, target));
      }
    }
    const props = child && !deferred ? monteCarloPropensities(scorer, chosen, draws, child, target) : null;
    const slots = buildSlots(cands, chosen, greedy, {
      score: (i) => drawn[i],
      mean: (i) => scorer.mean[i],
      sd: (i) => (input.explain || props ? finiteOrNull(scorer.sdOf(i)) : null),
      propensity: (j) => (props ? props[j] : null),
    });
    attachExplanations(slots, input, this.model);
    return {
      policy: 'thompson',
      model: this.model.type,
      slots,
      propensity: { method: props || deferred ? 'monte-carlo' : 'none', draws: props || deferred ? draws : 0 },
      ...(deferred ? { deferredPropensities: deferred } : {}),
      ...(job ? { propensityJob: job } : {}),
    };
  }
}

export const thompsonDefinition: PolicyDefinition = {
  type: 'thompson',
  description: 'Thompson sampling: one posterior draw per request, slots filled greedily by the drawn scores.',
  options: THOMPSON_OPTIONS,
  modelType: (o) => o.model as ModelType,
  create(options, model) {
    if (!model) throw new RangeError('thompson needs a model');
    if (model.type !== options.model)
      throw new RangeError(
        `thompson is configured for model "${String(options.model)}" but got a "${model.type}" model`,
      );
    return new ThompsonPolicy(model, options);
  },
};
