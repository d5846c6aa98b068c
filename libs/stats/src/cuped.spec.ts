import { cupedTest, CupedArmSummary } from './cuped';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

interface WelchE {
  difference: number;
  standardError: number;
  tStatistic: number;
  degreesOfFreedom: number;
  pValue: number;
  ciLower: number;
  ciUpper: number;
}
interface Case {
  name: string;
  alpha: number;
  control: CupedArmSummary;
  treatment: CupedArmSummary;
  expected: {
    theta: number;
    covariateMean: number;
    controlAdjustedMean: number;
    controlAdjustedVariance: number;
    treatmentAdjustedMean: number;
    treatmentAdjustedVariance: number;
    varianceReduction: number;
    welch: WelchE | null;
    relative: { relativeLift: number; standardError: number; pValue: number; ciLower: number; ciUpper: number } | null;
  } | null;
}

const g = loadGolden<{ cases: Case[] }>('cuped');

describe('cupedTest (golden: unit-level adjusted arrays, scipy/statsmodels Welch)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = cupedTest(c.control, c.treatment, { alpha: c.alpha });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.theta).toBeNull();
      expect(r.welch.pValue).toBeNull();
      return;
    }
    const e = c.expected;
    expectClose(r.theta, e.theta, 1e-6, 1e-12, 'theta');
    expectClose(r.covariateMean, e.covariateMean, 1e-6, 1e-12, 'xbar');
    expectClose(r.controlAdjusted?.mean, e.controlAdjustedMean, 1e-6, 1e-12, 'c mean');
    expectClose(r.controlAdjusted?.variance, e.controlAdjustedVariance, 1e-6, 1e-12, 'c var');
    expectClose(r.treatmentAdjusted?.mean, e.treatmentAdjustedMean, 1e-6, 1e-12, 't mean');
    expectClose(r.treatmentAdjusted?.variance, e.treatmentAdjustedVariance, 1e-6, 1e-12, 't var');
    expectClose(r.varianceReduction, e.varianceReduction, 1e-6, 1e-12, 'reduction');
    const w = e.welch;
    expect(w).not.toBeNull();
    if (!w) return;
    expect(r.reason).toBeNull();
    expectClose(r.welch.difference, w.difference, 1e-6, 1e-12, 'diff');
    expectClose(r.welch.standardError, w.standardError, 1e-6, 1e-12, 'se');
    expectClose(r.welch.degreesOfFreedom, w.degreesOfFreedom, 1e-6, 1e-12, 'df');
    expectClose(r.welch.pValue, w.pValue, 1e-6, 1e-300, 'p');
    expectClose(r.welch.ci?.lower, w.ciLower, 1e-6, 1e-12, 'lower');
    expectClose(r.welch.ci?.upper, w.ciUpper, 1e-6, 1e-12, 'upper');
    if (e.relative) {
      expectClose(r.relative.relativeLift, e.relative.relativeLift, 1e-6, 1e-12, 'rel');
      expectClose(r.relative.pValue, e.relative.pValue, 1e-6, 1e-300, 'rel p');
      expectClose(r.relative.ci?.lower, e.relative.ciLower, 1e-6, 1e-12, 'rel lower');
      expectClose(r.relative.ci?.upper, e.relative.ciUpper, 1e-6, 1e-12, 'rel upper');
    }
  });

  it('a constant covariate gives θ = 0, zero reduction and a note', () => {
    const c = g.cases.find((x) => x.name === 'constant_covariate') as Case;
    const r = cupedTest(c.control, c.treatment);
    expect(r.theta).toBe(0);
    expect(r.varianceReduction).toBe(0);
    expect(r.note).toMatch(/no variance/);
  });

  it('the golden ρ = 0.95 case reduces the variance by about ρ²', () => {
    const c = g.cases.find((x) => x.name === 'rho_0.95_large_n') as Case;
    const r = cupedTest(c.control, c.treatment);
    expect(Math.abs((r.varianceReduction as number) - 0.95 ** 2)).toBeLessThan(0.01);
  });
});
