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
    if (!m)
      models.set(
        id,
        (m = LinearModel.create({ contextDim, itemDim: 0, featureMap: 'concat', noise: 'pooled', itemEffect: 'none' })),
      );
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

/** Late "act" recall (last quarter: share of the steps where acting is optimal in which it was chosen) below this: a miss. */
const RECALL_BAR = 0.6;

describe('heavy-tailed classification bandit (mushroom shape: 117 one-hot features, act +5 / −35, skip 0)', () => {
  // 20 seeds, each its own contexts, reward draws and decision stream. With the per-item noise scale taken from the
  // residual around the shared fit (before issue 12 session 7) the default missed the recall bar in seeds 7 and 20
  // (0.42, 0.45; over seeds 1–40 in 7, and seed 34 kept 1 late "act"): its noise collapsed to the pooled estimate,
  // which "skip"'s exactly fitted zeros drive to 0 (models/linear.ts noiseScales). The regret bound is a sanity bar
  // only (1.17 before, 1.13 after on these seeds); the counts are the regression.
  const seeds = Array.from({ length: 20 }, (_, i) => i + 1);
  const misses = (runs: Array<ReturnType<typeof runWorld>>): number[] =>
    seeds.filter((_, i) => !(runs[i].lateRecall.act >= RECALL_BAR));
  const abandoned = (runs: Array<ReturnType<typeof runWorld>>): number[] =>
    seeds.filter((_, i) => !runs[i].lateChoices.act);
  const reference = seeds.map((s) => linFullPost(mushroomWorld(s), 117, s));

  it('the reference, LinFullPost (per-action NIG), keeps "act" in every seed', () => {
    expect(misses(reference)).toEqual([]);
    expect(abandoned(reference)).toEqual([]);
  }, 600_000);

  it('linear (the default): "act" is never abandoned after large negative rewards in 20 seeds, regret within 1.2× LinFullPost', () => {
    const runs = seeds.map((s) => {
      const m = createModel({ type: 'linear', contextDim: 117, itemDim: 2 });
      return runWorld(mushroomWorld(s), new ThompsonPolicy(m), m, s);
    });
    expect(misses(runs)).toEqual([]);
    expect(abandoned(runs)).toEqual([]);
    expect(mean(runs.map((r) => r.regret)) / mean(reference.map((r) => r.regret))).toBeLessThan(1.2);
  }, 600_000);

  it('hybrid: "act" is kept in seeds 1–3, regret within 1.3× LinFullPost (not the default; 20 seeds: docs/simulation.md)', () => {
    const few = [1, 2, 3];
    const runs = few.map((s) => {
      const m = createModel({ type: 'hybrid', contextDim: 117, itemDim: 2 });
      return runWorld(mushroomWorld(s), new ThompsonPolicy(m), m, s);
    });
    for (const r of runs) expect(r.lateRecall.act).toBeGreaterThan(RECALL_BAR);
    expect(mean(runs.map((r) => r.regret)) / mean(few.map((s) => reference[s - 1].regret))).toBeLessThan(1.3);
  }, 600_000);
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
