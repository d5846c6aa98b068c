import { Rng } from '../rng';
import { HybridModel } from '../models/hybrid';
import { LinearModel } from '../models/linear';
import type { Candidate } from '../types';
import {
  PROPENSITY_MIN_DRAWS,
  monteCarloPropensities,
  monteCarloPropensitiesStopped,
  propensityErrorBound,
  topK,
} from './slate';
import { ThompsonPolicy } from './thompson';

/** Issue 13: antithetic propensity re-draws (error bound) and deferred propensities (exact replay). */
const vec = (r: Rng, k: number): number[] => Array.from({ length: k }, () => r.normal());

function hybridSetup(seed = 1): { m: HybridModel; cands: Candidate[]; ctx: number[]; r: Rng } {
  const r = new Rng(seed);
  const m = HybridModel.create({ contextDim: 3, itemDim: 2 });
  const cands: Candidate[] = Array.from({ length: 8 }, (_, i) => ({
    id: `i${i}`,
    features: vec(r, 2),
    rankerScore: r.uniform(),
  }));
  for (let t = 0; t < 150; t++) {
    const c = cands[r.int(6)];
    m.observe(vec(r, 3), c, (c.features as number[])[0] + 0.3 * r.normal());
  }
  return { m, cands, ctx: vec(r, 3), r };
}

describe('antithetic Monte-Carlo propensities', () => {
  it("are unbiased and within the stated bound: SE ≤ √(2p(1−p)/N), below independent draws' here", () => {
    const { m, cands, ctx } = hybridSetup(4);
    const scorer = m.prepare(ctx, cands);
    const chosen = topK(scorer.mean, 2);
    // reference: 60,000 independent re-draws (redraw(), one σ and one ζ each)
    const refRng = new Rng('reference');
    const row = new Float64Array(cands.length);
    const refCounts = [0, 0];
    const R = 60_000;
    for (let t = 0; t < R; t++) {
      scorer.redraw(refRng, row);
      const o = topK(row, 2);
      for (let j = 0; j < 2; j++) if (o[j] === chosen[j]) refCounts[j]++;
    }
    const p = refCounts.map((c) => c / R);
    const N = 1000;
    const seeds = 150;
    const anti: number[][] = [[], []];
    const indep: number[][] = [[], []];
    for (let s = 0; s < seeds; s++) {
      const a = monteCarloPropensities(scorer, chosen, N, new Rng(`anti-${s}`));
      // the same estimator without redrawPairs: independent draws
      const b = monteCarloPropensities(
        { ...scorer, redrawPairs: undefined, redrawMany: undefined, redraw: scorer.redraw },
        chosen,
        N,
        new Rng(`indep-${s}`),
      );
      for (let j = 0; j < 2; j++) {
        anti[j].push(a[j]);
        indep[j].push(b[j]);
      }
    }
    const mean = (xs: number[]): number => xs.reduce((x, y) => x + y, 0) / xs.length;
    const sd = (xs: number[]): number => Math.sqrt(xs.reduce((t, x) => t + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
    for (let j = 0; j < 2; j++) {
      const bound = Math.sqrt((2 * p[j] * (1 - p[j])) / N);
      expect(p[j]).toBeGreaterThan(0.05); // a propensity the check can see
      // unbiased: the mean of 150 estimates sits within 4 of its standard errors of p (plus the (c+1)/(N+1) shift)
      expect(Math.abs(mean(anti[j]) - p[j])).toBeLessThan((4 * bound) / Math.sqrt(seeds) + 2 / N);
      expect(sd(anti[j])).toBeLessThan(bound * 1.15); // the bound, with room for the SD's own sampling error
      expect(sd(anti[j])).toBeLessThan(sd(indep[j]) * 1.1); // ρ ≤ 0 here: no worse than independent draws
    }
  });

  it('an odd number of draws ends with one plain re-draw; 1 draw is valid', () => {
    const { m, cands, ctx } = hybridSetup(5);
    const scorer = m.prepare(ctx, cands);
    const chosen = topK(scorer.mean, 3);
    for (const N of [1, 3, 65, 129]) {
      const props = monteCarloPropensities(scorer, chosen, N, new Rng(N));
      props.forEach((x) => {
        expect(x).toBeGreaterThan(0);
        expect(x).toBeLessThanOrEqual(1);
        expect(Math.round(x * (N + 1))).toBeCloseTo(x * (N + 1), 9); // (count + 1)/(N + 1)
      });
    }
  });
});

describe('sequential stopping of the propensity re-draws (stated error bound)', () => {
  // reference propensities of one prepared decision: 60,000 independent re-draws (SE ≤ 0.002)
  const { m, cands, ctx } = hybridSetup(4);
  const scorer = m.prepare(ctx, cands);
  const chosen = topK(scorer.mean, 2);
  const refRng = new Rng('reference');
  const row = new Float64Array(cands.length);
  const refCounts = [0, 0];
  const R = 60_000;
  for (let t = 0; t < R; t++) {
    scorer.redraw(refRng, row);
    const o = topK(row, 2);
    for (let j = 0; j < 2; j++) if (o[j] === chosen[j]) refCounts[j]++;
  }
  const p = refCounts.map((c) => c / R);
  const rms = (target: number | 'auto', N: number): { rms: number[]; meanDraws: number } => {
    const se = [0, 0];
    let used = 0;
    const seeds = 150;
    for (let s = 0; s < seeds; s++) {
      const r = monteCarloPropensitiesStopped(scorer, chosen, N, new Rng(`stop-${s}`), target);
      used += r.draws;
      for (let j = 0; j < 2; j++) se[j] += (r.propensities[j] - p[j]) ** 2;
    }
    return { rms: se.map((x) => Math.sqrt(x / seeds)), meanDraws: used / seeds };
  };

  it("a target ε: the estimates' RMS error stays within ε, with fewer draws than the maximum", () => {
    expect(Math.min(...p)).toBeGreaterThan(0.05);
    const eps = 0.03;
    const r = rms(eps, 4000);
    for (const e of r.rms) expect(e).toBeLessThan(eps * 1.15); // room for the RMS's own sampling error (150 runs)
    expect(r.meanDraws).toBeLessThan(2000);
    expect(r.meanDraws).toBeGreaterThanOrEqual(PROPENSITY_MIN_DRAWS);
  });

  it("'auto' keeps the full run's worst-case bound 1/√(2N); null always uses every draw", () => {
    const N = 1000;
    const r = rms('auto', N);
    for (const e of r.rms) expect(e).toBeLessThan(Math.sqrt(1 / (2 * N)) * 1.15);
    expect(r.meanDraws).toBeLessThanOrEqual(N);
    const full = monteCarloPropensitiesStopped(scorer, chosen, N, new Rng(1), null);
    expect(full.draws).toBe(N);
    // the same variates as without stopping: the stopped run's first draws are the full run's (same rng)
    expect(monteCarloPropensities(scorer, chosen, N, new Rng(1))).toEqual(full.propensities);
  });

  it('the bound: larger for propensities near ½, √2 larger for antithetic pairs, shrinking as 1/√N', () => {
    expect(propensityErrorBound([500], 1000, 1)).toBeCloseTo(Math.sqrt(0.25 / 1000), 12);
    expect(propensityErrorBound([10], 1000, 1)).toBeLessThan(propensityErrorBound([300], 1000, 1));
    expect(propensityErrorBound([10], 1000, 2) / propensityErrorBound([10], 1000, 1)).toBeGreaterThan(
      Math.SQRT2 * 0.99,
    );
    expect(propensityErrorBound([0, 40], 400, 2)).toBeGreaterThan(propensityErrorBound([0, 160], 1600, 2));
  });

  it('the policy stops by default, reports valid propensities, and rejects a bad target', () => {
    const p2 = new ThompsonPolicy(m);
    const d = p2.decide({ context: ctx, candidates: cands, slots: 2, propensityDraws: 1000 }, new Rng(3));
    for (const s of d.slots) expect(s.propensity! > 0 && s.propensity! <= 1).toBe(true);
    expect(() => p2.decide({ context: ctx, candidates: cands, slots: 2, propensityError: -1 }, new Rng(3))).toThrow(
      RangeError,
    );
    const all = p2.decide(
      { context: ctx, candidates: cands, slots: 2, propensityDraws: 1000, propensityError: null },
      new Rng(3),
    );
    expect(all.slots.map((s) => s.itemId)).toEqual(d.slots.map((s) => s.itemId)); // the decision never depends on it
  });
});

describe('deferred propensities', () => {
  for (const kind of ['hybrid', 'linear'] as const) {
    it(`${kind}: the decision is the inline one, and the later propensities equal the inline ones although the model learnt meanwhile`, () => {
      const { m: hm, cands, ctx, r } = hybridSetup(6);
      const m = kind === 'hybrid' ? hm : LinearModel.create({ contextDim: 3, itemDim: 2 });
      if (kind === 'linear') for (let t = 0; t < 100; t++) m.observe(vec(r, 3), cands[r.int(8)], r.normal());
      const p = new ThompsonPolicy(m);
      const input = { context: ctx, candidates: cands, slots: 3, propensityDraws: 500 };
      const inline = p.decide(input, new Rng('replay'));
      const deferred = p.decide({ ...input, deferPropensities: true }, new Rng('replay'));
      expect(deferred.slots.map((s) => [s.itemId, s.score, s.explored])).toEqual(
        inline.slots.map((s) => [s.itemId, s.score, s.explored]),
      );
      expect(deferred.slots.every((s) => s.propensity === null)).toBe(true);
      expect(deferred.propensity).toEqual({ method: 'monte-carlo', draws: 500 });
      // the decision's own observations (default reward accounting) and more arrive before the propensities run
      for (const s of deferred.slots) m.observe(ctx, cands[s.index], 0);
      for (let t = 0; t < 20; t++) m.observe(vec(r, 3), cands[r.int(8)], 1);
      const later = deferred.deferredPropensities!();
      expect(later).toEqual(inline.slots.map((s) => s.propensity));
      expect(deferred.deferredPropensities!()).toBe(later); // computed once
    });
  }

  it('no draws or no slots: nothing deferred', () => {
    const { m, cands, ctx } = hybridSetup(7);
    const d = new ThompsonPolicy(m).decide(
      { context: ctx, candidates: cands, slots: 2, propensityDraws: 0, deferPropensities: true },
      new Rng(1),
    );
    expect(d.deferredPropensities).toBeUndefined();
    expect(d.propensity).toEqual({ method: 'none', draws: 0 });
  });
});
