/**
 * Learning regression tests for issue 12's failure classes, on small seeded worlds (worlds.ts) that every policy
 * sees with the same contexts. Figures before the fix (pooled noise, item prior λ = 0.25) are in the README,
 * "Learning failure classes".
 */
import { HybridModel } from './models/hybrid';
import { LinearModel } from './models/linear';
import { createModel } from './models/registry';
import { EpsilonGreedyPolicy } from './policies/epsilon-greedy';
import { ThompsonPolicy } from './policies/thompson';
import type { Rng } from './rng';
import type { Candidate } from './types';
import { type World, coldStartWorld, mushroomWorld, runWorld } from './worlds';

/** Riquelme et al.'s LinFullPost: one NIG linear model per action on [1, context], its own σ² each. */
function linFullPost(world: World, contextDim: number, seed: number): ReturnType<typeof runWorld> {
  const models = new Map<string, LinearModel>();
  const get = (id: string): LinearModel => {
    let m = models.get(id);
    if (!m) models.set(id, (m = LinearModel.create({ contextDim, itemDim: 0, featureMap: 'concat', noise: 'pooled' })));
    return m;
  };
  const choose = (ctx: number[], cands: Candidate[], rng: Rng): number => {
    let best = 0;
    let bv = -Infinity;
    cands.forEach((c, i) => {
      const s = get(c.id)
        .prepare(ctx, [{ id: 'x' }])
        .draw(rng)[0];
      if (s > bv) {
        bv = s;
        best = i;
      }
    });
    return best;
  };
  return runWorld(
    world,
    choose,
    { observe: (ctx: number[], c: Candidate, r: number) => get(c.id).observe(ctx, { id: 'x' }, r) },
    seed,
  );
}

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

describe('heavy-tailed classification bandit (mushroom shape: 117 one-hot features, act +5 / −35, skip 0)', () => {
  const seeds = [1, 2, 3];
  const reference = seeds.map((s) => linFullPost(mushroomWorld(s), 117, s).regret);

  for (const type of ['linear', 'hybrid'] as const) {
    it(`${type}: "act" is never abandoned after large negative rewards, regret within 1.3× LinFullPost`, () => {
      const runs = seeds.map((s) => {
        const m = createModel({ type, contextDim: 117, itemDim: 2 });
        return runWorld(mushroomWorld(s), new ThompsonPolicy(m), m, s);
      });
      // "act" is optimal in about half of the contexts: it must still be chosen there at the end of every run
      for (const r of runs) expect(r.lateRecall.act).toBeGreaterThan(0.6);
      expect(mean(runs.map((r) => r.regret)) / mean(reference)).toBeLessThan(1.3);
    }, 120_000);
  }
});

describe('cold start with late items (50 items, 20 arriving after 1,500 and 3,000 decisions, logistic truth)', () => {
  const seeds = [1, 2];
  const run = (type: 'linear' | 'hybrid', s: number) => {
    const m = createModel({ type, contextDim: 8, itemDim: 6 });
    return runWorld(coldStartWorld(s), new ThompsonPolicy(m), m, s);
  };
  const linear = seeds.map((s) => run('linear', s));

  it('linear (the default): beats ε-greedy on the same model, exploration falls below half', () => {
    const eps = seeds.map((s) => {
      const m = createModel({ type: 'linear', contextDim: 8, itemDim: 6 });
      return runWorld(coldStartWorld(s), new EpsilonGreedyPolicy(m, { epsilon: 0.05, model: 'linear' }), m, s);
    });
    expect(mean(linear.map((r) => r.regret))).toBeLessThan(mean(eps.map((r) => r.regret)));
    for (const r of linear) expect(r.exploreLast).toBeLessThan(r.exploreFirst / 2);
  }, 120_000);

  it('hybrid: the per-item prior keeps it within 1.8× of linear (it was 3.5×) and its exploration decays', () => {
    const hybrid = seeds.map((s) => run('hybrid', s));
    expect(mean(hybrid.map((r) => r.regret)) / mean(linear.map((r) => r.regret))).toBeLessThan(1.8);
    for (const r of hybrid) expect(r.exploreLast).toBeLessThan(0.3);
    expect((createModel({ type: 'hybrid', contextDim: 8, itemDim: 6 }) as HybridModel).itemLambda).toBe(90);
  }, 120_000);
});
