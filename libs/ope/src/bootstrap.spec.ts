// The percentile bootstrap replayed exactly by tools/ope/gen_golden.py with libs/bandit's Python Rng port and
// NumPy's percentile (type 7).
import { Rng } from '@slotwise/bandit';
import golden from './__golden__/bootstrap.json';
import { bootstrapInterval, normalInterval, quantileSorted, standardError } from './intervals';

describe('bootstrapInterval', () => {
  it.each(golden.cases)('replays the golden resampling exactly (seed $seed, B = $nBootstrap)', (c) => {
    const b = bootstrapInterval(golden.samples, { rng: new Rng(c.seed), alpha: c.alpha, nBootstrap: c.nBootstrap });
    expect(Array.from(b.means.subarray(0, 5))).toEqual(c.firstMeans);
    expect(b.means.reduce((s, v) => s + v, 0) / b.means.length).toBeCloseTo(c.meanOfMeans, 14);
    expect(b.lower).toBeCloseTo(c.lower, 14);
    expect(b.upper).toBeCloseTo(c.upper, 14);
    expect(b.level).toBe(1 - c.alpha);
  });

  it('is reproducible from the seed and changes with it', () => {
    const a = bootstrapInterval(golden.samples, { rng: new Rng(5), nBootstrap: 50 });
    const b = bootstrapInterval(golden.samples, { rng: new Rng(5), nBootstrap: 50 });
    const c = bootstrapInterval(golden.samples, { rng: new Rng(6), nBootstrap: 50 });
    expect(b.lower).toBe(a.lower);
    expect(c.means).not.toEqual(a.means);
  });

  it('rejects fewer than 2 rounds, a bad alpha or a bad B', () => {
    expect(() => bootstrapInterval([1], { rng: new Rng(1) })).toThrow(RangeError);
    expect(() => bootstrapInterval([1, 2], { rng: new Rng(1), alpha: 1 })).toThrow(RangeError);
    expect(() => bootstrapInterval([1, 2], { rng: new Rng(1), nBootstrap: 0 })).toThrow(RangeError);
  });
});

describe('normalInterval and quantiles', () => {
  it('computes mean ± z s/√n by hand on a small case', () => {
    // x = [1, 2, 3, 4]: mean 2.5, s² = 5/3, se = √(5/12); z_0.975 = 1.959963984540054
    const ci = normalInterval([1, 2, 3, 4], 0.05);
    expect(ci.standardError).toBeCloseTo(Math.sqrt(5 / 12), 15);
    expect(ci.lower).toBeCloseTo(2.5 - 1.959963984540054 * Math.sqrt(5 / 12), 13);
    expect(ci.upper).toBeCloseTo(2.5 + 1.959963984540054 * Math.sqrt(5 / 12), 13);
    expect(() => standardError([1])).toThrow(RangeError);
  });

  it('interpolates quantiles linearly between order statistics (NumPy type 7)', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.025)).toBeCloseTo(1.075, 15);
    expect(quantileSorted([1, 2, 3, 4], 1)).toBe(4);
  });
});
