import {
  DEFAULT_EPSILON,
  DEFAULT_MODEL_TYPE,
  DEFAULT_PROPENSITY_DRAWS,
  MODEL_TYPES,
  NIG_DEFAULTS,
  parsePolicyConfig,
} from '@slotwise/bandit';
import { policySchema } from './experiments';
import { POLICY_DEFAULTS } from './policy-options';

/** The API's policy schema is generated from libs/bandit's option specs: same defaults, bounds and enum values. */
describe('policy schema generated from the bandit option specs', () => {
  it('fills the bandit defaults', () => {
    expect(policySchema.parse({ type: 'thompson' })).toEqual({
      type: 'thompson',
      model: DEFAULT_MODEL_TYPE,
      ...NIG_DEFAULTS,
      propensityDraws: DEFAULT_PROPENSITY_DRAWS,
    });
    expect(policySchema.parse({ type: 'epsilon-greedy' })).toEqual({
      type: 'epsilon-greedy',
      epsilon: DEFAULT_EPSILON,
      model: DEFAULT_MODEL_TYPE,
      ...NIG_DEFAULTS,
    });
    expect(POLICY_DEFAULTS['epsilon-greedy']).toMatchObject({ epsilon: DEFAULT_EPSILON, model: DEFAULT_MODEL_TYPE });
    // the bandit's own parse of the policy part agrees
    expect(parsePolicyConfig({ type: 'epsilon-greedy' }).options).toMatchObject({
      epsilon: DEFAULT_EPSILON,
      model: DEFAULT_MODEL_TYPE,
    });
  });

  it('keeps the stored key order (model, prior, serving options)', () => {
    expect(Object.keys(policySchema.parse({ type: 'thompson', noise: 'item' }))).toEqual([
      'type',
      'model',
      'lambda',
      'a0',
      'b0',
      'noise',
      'propensityDraws',
    ]);
  });

  it('takes the bounds and enum values from the specs, with the API messages', () => {
    const issues = (v: unknown) =>
      policySchema.safeParse(v).error?.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) ?? [];
    expect(issues({ type: 'thompson', model: 'tree' })).toEqual([
      { path: 'model', message: `must be one of ${MODEL_TYPES.join(', ')}` },
    ]);
    expect(issues({ type: 'thompson', propensities: 'later' })).toEqual([
      { path: 'propensities', message: 'must be "inline" or "deferred"' },
    ]);
    expect(issues({ type: 'thompson', noise: 'x' })).toEqual([
      { path: 'noise', message: 'must be "item" or "pooled"' },
    ]);
    expect(issues({ type: 'thompson', propensityDraws: 1.5 }).map((i) => i.path)).toEqual(['propensityDraws']);
    expect(issues({ type: 'thompson', propensityDraws: 100_001 }).map((i) => i.path)).toEqual(['propensityDraws']);
    expect(issues({ type: 'thompson', lambda: 0 }).map((i) => i.path)).toEqual(['lambda']);
    expect(issues({ type: 'epsilon-greedy', epsilon: 1.01 }).map((i) => i.path)).toEqual(['epsilon']);
    expect(issues({ type: 'epsilon-greedy', epsilon: 0 })).toEqual([]);
    expect(issues({ type: 'thompson', unknown: 1 }).map((i) => i.path)).toEqual(['']);
  });
});
