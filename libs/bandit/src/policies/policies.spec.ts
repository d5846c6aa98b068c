import { Rng } from '../rng';
import { BetaModel } from '../models/beta';
import { HybridModel } from '../models/hybrid';
import { LinearModel } from '../models/linear';
import { createModel } from '../models/registry';
import type { Candidate } from '../types';
import { EpsilonGreedyPolicy } from './epsilon-greedy';
import { RandomPolicy } from './random';
import { RankerPolicy } from './ranker';
import { POLICIES, PolicyConfigError, createPolicy, parsePolicyConfig, policyModelType } from './registry';
import { topKAt } from '../kernels';
import { greedyGivenEarlier, topK } from './slate';
import { ThompsonPolicy } from './thompson';

const vec = (r: Rng, k: number): number[] => Array.from({ length: k }, () => r.normal());

function hybridSetup(seed = 1): { m: HybridModel; cands: Candidate[]; ctx: number[] } {
  const r = new Rng(seed);
  const m = HybridModel.create({ contextDim: 3, itemDim: 2 });
  const cands: Candidate[] = Array.from({ length: 8 }, (_, i) => ({
    id: `i${i}`,
    features: vec(r, 2),
    rankerScore: r.uniform(),
  }));
  for (let t = 0; t < 150; t++) {
    const c = cands[r.int(6)]; // i6, i7 stay cold
    const ctx = vec(r, 3);
    m.observe(ctx, c, (c.features as number[])[0] + 0.3 * r.normal());
  }
  return { m, cands, ctx: vec(r, 3) };
}

describe('slate helpers', () => {
  it("topKAt (one pass, the re-draws' top-k) gives exactly topK's order, ties included", () => {
    const r = new Rng(11);
    for (let t = 0; t < 500; t++) {
      const n = 1 + r.int(30);
      const k = 1 + r.int(n);
      // few distinct values, so ties are frequent
      const scores = Array.from({ length: n }, () => r.int(6) - 2);
      const order = new Int32Array(k);
      topKAt(Float64Array.from(scores), 0, n, k, order, new Float64Array(k));
      expect(Array.from(order)).toEqual(Array.from(topK(scores, k)));
    }
  });

  it('topK fills greedily without repeats (ties: lower index)', () => {
    expect(Array.from(topK([1, 3, 3, 2], 3))).toEqual([1, 2, 3]);
  });
  it('greedy given the same earlier slots', () => {
    // mean order 0 > 1 > 2; chosen slot 1 = item 2 → greedy for slot 2 is 0 (not yet used)
    expect(Array.from(greedyGivenEarlier([3, 2, 1], [2, 1]))).toEqual([0, 0]);
  });
});

describe('policy registry', () => {
  it('declares options with defaults (epsilon 0.05 like Vowpal Wabbit)', () => {
    expect(Object.keys(POLICIES).sort()).toEqual(['epsilon-greedy', 'random', 'ranker', 'thompson']);
    expect(parsePolicyConfig({ type: 'epsilon-greedy' }).options).toEqual({ epsilon: 0.05, model: 'linear' });
    expect(policyModelType({ type: 'thompson', model: 'beta' })).toBe('beta');
    expect(policyModelType({ type: 'ranker' })).toBeNull();
  });
  it('reports every invalid option as {path, message}', () => {
    try {
      parsePolicyConfig({ type: 'epsilon-greedy', epsilon: 2, model: 'nope', foo: 1 });
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyConfigError);
      expect((e as PolicyConfigError).errors.map((x) => x.path).sort()).toEqual(['epsilon', 'foo', 'model']);
    }
    expect(() => parsePolicyConfig({ type: 'bandit9000' })).toThrow(PolicyConfigError);
  });
  it('checks that the model matches', () => {
    expect(() => createPolicy({ type: 'thompson', model: 'hybrid' })).toThrow(/needs a model/);
    expect(() => createPolicy({ type: 'thompson', model: 'hybrid' }, BetaModel.create())).toThrow(
      /configured for model/,
    );
    expect(createPolicy({ type: 'thompson', model: 'beta' }, BetaModel.create()).type).toBe('thompson');
    expect(createPolicy({ type: 'random' }).type).toBe('random');
  });
});

describe('thompson', () => {
  it('is replayable: same seed, model state and input → identical output', () => {
    const { m, cands, ctx } = hybridSetup();
    const p = new ThompsonPolicy(m);
    const input = { context: ctx, candidates: cands, slots: 4, propensityDraws: 300, explain: true };
    const a = p.decide(input, new Rng('decision-1'));
    const b = p.decide(input, new Rng('decision-1'));
    expect(b).toEqual(a);
    // a model rebuilt from the stored snapshot gives the same decision too
    const m2 = HybridModel.fromSnapshot(JSON.parse(JSON.stringify(m.snapshot())));
    const c = new ThompsonPolicy(m2).decide(input, new Rng('decision-1'));
    expect(c.slots.map((s) => s.itemId)).toEqual(a.slots.map((s) => s.itemId));
    c.slots.forEach((s, j) => {
      expect(s.score).toBeCloseTo(a.slots[j].score as number, 9);
      expect(s.propensity).toBeCloseTo(a.slots[j].propensity as number, 12);
    });
    const other = p.decide(input, new Rng('decision-2'));
    expect(other.slots.map((s) => s.score)).not.toEqual(a.slots.map((s) => s.score));
  });

  it('the number of propensity draws never changes the decision', () => {
    const { m, cands, ctx } = hybridSetup();
    const p = new ThompsonPolicy(m);
    const a = p.decide({ context: ctx, candidates: cands, slots: 3, propensityDraws: 0 }, new Rng(5));
    const b = p.decide({ context: ctx, candidates: cands, slots: 3, propensityDraws: 50 }, new Rng(5));
    expect(b.slots.map((s) => [s.itemId, s.score])).toEqual(a.slots.map((s) => [s.itemId, s.score]));
    expect(a.slots[0].propensity).toBeNull();
    expect(a.propensity).toEqual({ method: 'none', draws: 0 });
    expect(b.propensity).toEqual({ method: 'monte-carlo', draws: 50 });
  });

  it('makes ONE posterior draw per request and fills slots greedily without repeats', () => {
    const { m, cands, ctx } = hybridSetup();
    let draws = 0;
    const spy = {
      ...m,
      type: m.type,
      prepare: (c: number[], cs: readonly Candidate[]) => {
        const sc = m.prepare(c, cs);
        return {
          ...sc,
          n: sc.n,
          mean: sc.mean,
          sdOf: sc.sdOf,
          redraw: sc.redraw,
          draw: (r: Rng) => {
            draws++;
            return sc.draw(r);
          },
        };
      },
      explain: m.explain.bind(m),
    } as unknown as HybridModel;
    const d = new ThompsonPolicy(spy).decide(
      { context: ctx, candidates: cands, slots: 5, propensityDraws: 10 },
      new Rng(1),
    );
    expect(draws).toBe(1);
    expect(new Set(d.slots.map((s) => s.itemId)).size).toBe(5);
    for (let j = 1; j < d.slots.length; j++)
      expect(d.slots[j - 1].score as number).toBeGreaterThanOrEqual(d.slots[j].score as number);
    d.slots.forEach((s) => expect(s.explored).toBe(s.itemId !== s.greedyItemId));
  });

  it('Monte-Carlo propensities match how often the policy really puts the item there', () => {
    const { m, cands, ctx } = hybridSetup(2);
    const p = new ThompsonPolicy(m);
    const input = { context: ctx, candidates: cands, slots: 2 };
    const N = 3000;
    const freq = new Map<string, number>();
    for (let t = 0; t < N; t++) {
      const d = p.decide({ ...input, propensityDraws: 0 }, new Rng(`s${t}`));
      freq.set(`0:${d.slots[0].itemId}`, (freq.get(`0:${d.slots[0].itemId}`) ?? 0) + 1);
      freq.set(`1:${d.slots[1].itemId}`, (freq.get(`1:${d.slots[1].itemId}`) ?? 0) + 1);
    }
    const d = p.decide({ ...input, propensityDraws: 20000 }, new Rng('estimate'));
    d.slots.forEach((s, j) => {
      const emp = (freq.get(`${j}:${s.itemId}`) ?? 0) / N;
      const pr = s.propensity as number;
      expect(Math.abs(emp - pr)).toBeLessThan(4 * Math.sqrt((pr * (1 - pr)) / N) + 0.01);
    });
  });

  it('works with every model type, slots beyond the candidates, and explanations by name', () => {
    const r = new Rng(3);
    const cands: Candidate[] = Array.from({ length: 3 }, (_, i) => ({
      id: `c${i}`,
      features: vec(r, 2),
      embedding: vec(r, 4),
    }));
    const models = [
      createModel({ type: 'beta' }),
      createModel({ type: 'linear', contextDim: 1, itemDim: 2 }),
      createModel({ type: 'hybrid', contextDim: 1, itemDim: 2 }),
      createModel({ type: 'neural-linear', embeddingDim: 4 }),
    ];
    for (const model of models) {
      for (let t = 0; t < 20; t++) model.observe([r.normal()], cands[t % 3], r.uniform());
      const d = createPolicy({ type: 'thompson', model: model.type }, model).decide(
        {
          context: [0.5],
          candidates: cands,
          slots: 10,
          propensityDraws: 100,
          explain: { names: { context: ['age'], item: ['price', 'len'] } },
        },
        new Rng(1),
      );
      expect(d.slots).toHaveLength(3);
      expect(d.model).toBe(model.type);
      const total = d.slots.reduce((s, x) => s + (x.propensity as number), 0);
      expect(total).toBeGreaterThan(0);
      for (const s of d.slots) {
        expect(s.propensity as number).toBeGreaterThan(0);
        expect(s.propensity as number).toBeLessThanOrEqual(1);
        expect(s.explanation?.length).toBeLessThanOrEqual(5);
        expect(s.sd).not.toBeNull();
      }
    }
    const lin = models[1] as LinearModel;
    const d = new ThompsonPolicy(lin).decide(
      {
        context: [0.5],
        candidates: cands,
        slots: 1,
        explain: { names: { context: ['age'], item: ['price', 'len'] }, top: 2 },
      },
      new Rng(1),
    );
    expect(d.slots[0].explanation?.length).toBe(2);
    expect(['bias', 'price', 'len', 'age', 'age×price', 'age×len']).toContain(d.slots[0].explanation?.[0].feature);
  });

  it('rejects bad input with RangeError (for a 4xx)', () => {
    const { m, cands, ctx } = hybridSetup();
    const p = new ThompsonPolicy(m);
    expect(() => p.decide({ context: ctx, candidates: cands, slots: 0 }, new Rng(1))).toThrow(RangeError);
    expect(() => p.decide({ context: ctx, candidates: [cands[0], cands[0]], slots: 1 }, new Rng(1))).toThrow(
      /duplicate/,
    );
    expect(() => p.decide({ context: [1], candidates: cands, slots: 1 }, new Rng(1))).toThrow(RangeError);
    expect(() => p.decide({ context: ctx, candidates: cands, slots: 1, propensityDraws: -1 }, new Rng(1))).toThrow(
      RangeError,
    );
    expect(p.decide({ context: ctx, candidates: [], slots: 3 }, new Rng(1)).slots).toEqual([]);
  });
});

describe('epsilon-greedy', () => {
  it('exact propensities ε/n + (1 − ε)·[top-k by mean] match simulation', () => {
    const { m, cands, ctx } = hybridSetup();
    const p = new EpsilonGreedyPolicy(m, { epsilon: 0.3, model: 'hybrid' });
    const n = cands.length;
    const N = 20000;
    const counts = new Map<string, number>();
    let explored = 0;
    let last = p.decide({ context: ctx, candidates: cands, slots: 3 }, new Rng(0));
    for (let t = 0; t < N; t++) {
      last = p.decide({ context: ctx, candidates: cands, slots: 3 }, new Rng(t));
      last.slots.forEach((s, j) => counts.set(`${j}:${s.itemId}`, (counts.get(`${j}:${s.itemId}`) ?? 0) + 1));
      if (last.slots.some((s) => s.explored)) explored++;
    }
    const greedy = p.decide({ context: ctx, candidates: cands, slots: 3 }, new Rng(1)); // any exploit decision
    const byMean = Array.from(topK(m.prepare(ctx, cands).mean, 3));
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i < n; i++) {
        const pr = 0.3 / n + 0.7 * (byMean[j] === i ? 1 : 0);
        const emp = (counts.get(`${j}:${cands[i].id}`) ?? 0) / N;
        expect(Math.abs(emp - pr)).toBeLessThan(4 * Math.sqrt((pr * (1 - pr)) / N) + 1e-3);
      }
    }
    expect(explored / N).toBeGreaterThan(0.25);
    expect(explored / N).toBeLessThan(0.315);
    expect(greedy.propensity.method).toBe('exact');
    // the reported propensity is the closed form
    for (const s of last.slots) {
      const j = s.position - 1;
      expect(s.propensity).toBeCloseTo(0.3 / n + 0.7 * (byMean[j] === s.index ? 1 : 0), 15);
      expect(s.score).toBe(s.mean);
    }
  });
  it('epsilon 0 is greedy by posterior mean', () => {
    const { m, cands, ctx } = hybridSetup();
    const d = createPolicy({ type: 'epsilon-greedy', epsilon: 0, model: 'hybrid' }, m).decide(
      { context: ctx, candidates: cands, slots: 4 },
      new Rng(9),
    );
    expect(d.slots.every((s) => !s.explored && s.propensity === 1)).toBe(true);
  });
});

describe('random and ranker', () => {
  const cands: Candidate[] = [
    { id: 'a', rankerScore: 0.1 },
    { id: 'b', rankerScore: 0.9 },
    { id: 'c' },
    { id: 'd', rankerScore: 0.5 },
  ];
  it('ranker: greedy by score, unscored last, propensity 1, never explored', () => {
    const d = new RankerPolicy().decide({ context: [], candidates: cands, slots: 4 }, new Rng(1));
    expect(d.slots.map((s) => s.itemId)).toEqual(['b', 'd', 'a', 'c']);
    expect(d.slots.map((s) => s.score)).toEqual([0.9, 0.5, 0.1, null]);
    expect(d.slots.every((s) => s.propensity === 1 && !s.explored)).toBe(true);
    const plain = new RankerPolicy().decide(
      { context: [], candidates: [{ id: 'x' }, { id: 'y' }], slots: 2 },
      new Rng(1),
    );
    expect(plain.slots.map((s) => s.itemId)).toEqual(['x', 'y']);
  });
  it('random: uniform, propensity 1/n, explored relative to the ranker order', () => {
    const p = new RandomPolicy();
    const N = 20000;
    let firstB = 0;
    let exploredFirst = 0;
    for (let t = 0; t < N; t++) {
      const d = p.decide({ context: [], candidates: cands, slots: 2 }, new Rng(t));
      if (d.slots[0].itemId === 'b') firstB++;
      if (d.slots[0].explored) exploredFirst++;
      if (d.slots[0].propensity !== 0.25) throw new Error('propensity must be 1/n');
    }
    expect(Math.abs(firstB / N - 0.25)).toBeLessThan(0.015);
    expect(Math.abs(exploredFirst / N - 0.75)).toBeLessThan(0.015);
    const d = p.decide({ context: [], candidates: cands, slots: 2 }, new Rng(3));
    expect(d).toEqual(p.decide({ context: [], candidates: cands, slots: 2 }, new Rng(3)));
  });
});
