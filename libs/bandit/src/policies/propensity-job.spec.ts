import { HybridModel } from '../models/hybrid';
import { Rng } from '../rng';
import type { Candidate } from '../types';
import { covarianceFromInputs, runPropensityJob } from './propensity-job';
import { ThompsonPolicy } from './thompson';

describe('PropensityJob: deferred propensities as data (worker threads)', () => {
  const r = new Rng(21);
  const vec = (k: number) => Array.from({ length: k }, () => r.normal());
  const catalog: Candidate[] = Array.from({ length: 30 }, (_, i) => ({ id: `item-${i}`, features: vec(4) }));
  const model = HybridModel.create({ contextDim: 3, itemDim: 4 });
  for (let t = 0; t < 400; t++) model.observe(vec(3), catalog[r.int(30)], r.uniform() < 0.3 ? 1 : 0);
  const policy = new ThompsonPolicy(model);

  it('a structured-cloned job gives exactly the in-thread deferred and the inline propensities', () => {
    for (const [seed, draws, propensityError] of [
      [1, 1000, undefined],
      [2, 999, null],
      [3, 300, 0.02],
    ] as const) {
      const context = vec(3);
      const candidates = r.samplePrefix(30, 12).map((i) => catalog[i]);
      const input = { context, candidates, slots: 4, propensityDraws: draws, propensityError };
      const inline = policy.decide(input, new Rng(seed));
      const deferred = policy.decide({ ...input, deferPropensities: true }, new Rng(seed));
      expect(deferred.propensityJob).toBeDefined();
      // what a worker thread receives: a structured clone (typed arrays and the stream state copied)
      const job = structuredClone(deferred.propensityJob!);
      // the model learns before the job runs: the job, like the closure, keeps the distribution of decision time
      for (const s of deferred.slots) model.observe(context, candidates[s.index], 1);
      const fromJob = runPropensityJob(job);
      expect(fromJob).toEqual(deferred.deferredPropensities!());
      expect(fromJob).toEqual(inline.slots.map((s) => s.propensity));
      expect(deferred.slots.map((s) => s.itemId)).toEqual(inline.slots.map((s) => s.itemId));
    }
  });

  it('the hybrid job carries the covariance inputs (a packed copy of the factor), not the formed covariance', () => {
    const context = vec(3);
    const candidates = r.samplePrefix(30, 10).map((i) => catalog[i]);
    const input = { context, candidates, slots: 3, propensityDraws: 500, deferPropensities: true };
    const deferred = policy.decide(input, new Rng(7));
    const job = deferred.propensityJob!;
    // the decision left the n forward solves, the Gram matrix and its factorisation to whoever runs the job
    expect('F' in job).toBe(false);
    if (!('G' in job)) throw new Error('expected the covariance inputs');
    expect(job.G.length).toBe(10 * model.dz);
    expect(job.L.length).toBe((model.dz * (model.dz + 1)) / 2);
    const L = Float64Array.from(job.L);
    const expected = structuredClone(job);
    // the covariance it forms is the scorer's own (the same kernels), exactly
    expect(covarianceFromInputs(expected)).toEqual(model.prepare(context, candidates).covariance!());
    for (const s of deferred.slots) model.observe(context, candidates[s.index], 0);
    // the model's factor moved; the job's copy did not
    expect(job.L).toEqual(L);
    expect(runPropensityJob(expected)).toEqual(deferred.deferredPropensities!());
  });
});
