import { type Candidate, createRng, HybridModel, ThompsonPolicy } from '@slotwise/bandit';
import { PropensityWorkers } from './propensity-workers';

describe('PropensityWorkers: deferred propensities in a worker thread', () => {
  const workers = new PropensityWorkers();
  afterAll(() => workers.stop());

  it('gives exactly the in-thread numbers for the same decision (seeded), while the model moves on', async () => {
    expect(await workers.whenReady()).toBe(true);
    const r = createRng(8);
    const vec = (k: number) => Array.from({ length: k }, () => r.normal());
    const catalog: Candidate[] = Array.from({ length: 40 }, (_, i) => ({ id: `item-${i}`, features: vec(5) }));
    const model = HybridModel.create({ contextDim: 4, itemDim: 5 });
    for (let t = 0; t < 300; t++) model.observe(vec(4), catalog[r.int(40)], r.uniform() < 0.2 ? 1 : 0);
    const policy = new ThompsonPolicy(model);
    const decisions = Array.from({ length: 6 }, (_, t) => {
      const context = vec(4);
      const candidates = r.samplePrefix(40, 20).map((i) => catalog[i]);
      const d = policy.decide(
        { context, candidates, slots: 5, propensityDraws: 1000, deferPropensities: true },
        createRng(100 + t),
      );
      for (const s of d.slots) model.observe(context, candidates[s.index], 0);
      return d;
    });
    const fromWorker = await Promise.all(decisions.map((d) => workers.run(d.propensityJob!)));
    expect(fromWorker).toEqual(decisions.map((d) => d.deferredPropensities!()));
    expect(fromWorker[0].every((p) => p > 0 && p < 1)).toBe(true);
    expect(workers.inFlight).toBe(0);
  });

  it('a job the worker cannot run is rejected with its error (the caller then computes it in-thread)', async () => {
    const bad = {
      mean: new Float64Array(2),
      F: new Float64Array(4),
      r: 2,
      lower: true,
      an: 2,
      bn: 1,
      chosen: Int32Array.of(0),
      draws: 100,
      maxError: -1,
      rng: { s: [1, 2, 3, 4] as [number, number, number, number], spare: null },
    };
    await expect(workers.run(bad)).rejects.toThrow(/positive number/);
  });
});
