import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EcommerceWorld } from './ecommerce';
import { worldSummary } from './golden';
import { fitObdModel, loadObd, ObdWorld, resolveObdDataDir } from './obd';

const golden = (name: string) => JSON.parse(readFileSync(join(__dirname, '__golden__', `${name}.json`), 'utf8'));

/**
 * The worlds are deterministic for a seed: the same trajectory (contexts, churn, click uniforms, lags) and the same
 * truth. The committed summaries were produced by `worldSummary` (apps/simulator/src/worlds/golden.ts); a change
 * to a world must update them deliberately (see docs/simulation.md).
 */
describe('worlds are deterministic for a seed (golden summaries)', () => {
  it('e-commerce, 16 × 16 with the fixture ranker in the truth', async () => {
    const world = await EcommerceWorld.create({ seed: 1 });
    try {
      expect(await worldSummary(world, 3000)).toEqual(golden('ecommerce-seed1'));
    } finally {
      await world.close();
    }
  });

  it('e-commerce, 4 × 4 without a ranker (the e2e test’s shape)', async () => {
    const world = await EcommerceWorld.create({ seed: 7, contextDim: 4, itemDim: 4, catalogSize: 20, slots: 3 });
    expect(world.spec.ranker).toBe('none');
    expect(await worldSummary(world, 3000)).toEqual(golden('ecommerce-4x4-seed7'));
  });

  it('a different seed gives a different trajectory; the same seed the same one', async () => {
    const a = await worldSummary(await EcommerceWorld.create({ seed: 2, contextDim: 3, itemDim: 3 }), 200);
    const b = await worldSummary(await EcommerceWorld.create({ seed: 2, contextDim: 3, itemDim: 3 }), 200);
    const c = await worldSummary(await EcommerceWorld.create({ seed: 3, contextDim: 3, itemDim: 3 }), 200);
    expect(b).toEqual(a);
    expect(c.contextSum).not.toEqual(a.contextSum);
  });

  it('OBD replay', async () => {
    const world = await ObdWorld.create({
      seed: 1,
      dataDir: resolveObdDataDir(),
      coldStartThreshold: 100,
      meanLagSeconds: 1800,
    });
    const { fittedModel, ...summary } = golden('obd-seed1');
    expect(await worldSummary(world, 3000)).toEqual(summary);
    expect(world.model.intercept).toBeCloseTo(fittedModel.intercept, 6);
    world.model.position.forEach((g, k) => expect(g).toBeCloseTo(fittedModel.position[k], 6));
    expect(world.model.affinity).toBeCloseTo(fittedModel.affinity, 6);
  });

  it('OBD truth: the fitted model reproduces the logged click rate and is fitted on the committed sample', () => {
    const data = loadObd(resolveObdDataDir());
    expect(data.random).toHaveLength(10_000);
    expect(data.bts).toHaveLength(10_000);
    expect(data.nItems).toBe(34);
    const m = fitObdModel(data);
    expect(m.clicks).toBe(115);
    // The fitted probabilities sum close to the observed clicks (an intercept-free penalty keeps the mean calibrated).
    let expected = 0;
    for (const r of [...data.random, ...data.bts]) {
      let eta = m.intercept + m.item[r.item] + m.position[r.position - 1] + m.affinity * r.affinity[r.item];
      r.user.forEach((k, f) => (eta += m.user[f][k]));
      expected += 1 / (1 + Math.exp(-eta));
    }
    expect(expected).toBeGreaterThan(115 * 0.97);
    expect(expected).toBeLessThan(115 * 1.03);
  });
});
