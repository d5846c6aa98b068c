import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';
import { ArmSummary } from './types';
import { welchTTest } from './welch';

interface Case {
  name: string;
  alpha: number;
  control: ArmSummary;
  treatment: ArmSummary;
  expected: {
    difference: number;
    standardError: number;
    tStatistic: number;
    degreesOfFreedom: number;
    pValue: number;
    ciLower: number;
    ciUpper: number;
  } | null;
}

const g = loadGolden<{ cases: Case[] }>('welch');

describe('welchTTest (golden: scipy ttest_ind(equal_var=False), statsmodels tconfint_diff)', () => {
  it('covers normal, unequal, n = 2, zero variance, single unit and large-n cases', () => {
    expect(g.cases.length).toBeGreaterThanOrEqual(14);
    expect(g.cases.some((c) => c.expected === null)).toBe(true);
  });

  it.each(g.cases)('$name', (c) => {
    const r = welchTTest(c.control, c.treatment, { alpha: c.alpha });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.pValue).toBeNull();
      expect(r.ci).toBeNull();
      expect(r.tStatistic).toBeNull();
      return;
    }
    expect(r.reason).toBeNull();
    const e = c.expected;
    expectClose(r.difference, e.difference, 1e-6, 1e-12, 'difference');
    expectClose(r.standardError, e.standardError, 1e-6, 1e-12, 'se');
    expectClose(r.tStatistic, e.tStatistic, 1e-6, 1e-12, 't');
    expectClose(r.degreesOfFreedom, e.degreesOfFreedom, 1e-6, 1e-12, 'df');
    expectClose(r.pValue, e.pValue, 1e-6, 1e-300, 'p');
    expectClose(r.ci?.lower, e.ciLower, 1e-6, 1e-12, 'ci.lower');
    expectClose(r.ci?.upper, e.ciUpper, 1e-6, 1e-12, 'ci.upper');
  });

  it('returns null numbers and a reason (never NaN or a throw) for bad inputs', () => {
    const ok = { n: 10, mean: 1, variance: 1 };
    for (const [c, t] of [
      [{ n: 1, mean: 1, variance: 0 }, ok],
      [ok, { n: 0, mean: 0, variance: 0 }],
      [
        { n: 5, mean: 2, variance: 0 },
        { n: 5, mean: 3, variance: 0 },
      ],
      [{ n: 10, mean: NaN, variance: 1 }, ok],
      [{ n: 10, mean: 1, variance: -1 }, ok],
    ] as [ArmSummary, ArmSummary][]) {
      const r = welchTTest(c, t);
      expect(r.reason).toEqual(expect.any(String));
      expect(r.pValue).toBeNull();
      expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
    }
    expect(welchTTest(ok, ok, { alpha: 2 }).reason).toMatch(/alpha/);
  });

  it('difference is treatment − control', () => {
    const r = welchTTest({ n: 100, mean: 1, variance: 1 }, { n: 100, mean: 1.5, variance: 1 });
    expect(r.difference).toBe(0.5);
    expect(r.tStatistic).toBeGreaterThan(0);
  });
});
