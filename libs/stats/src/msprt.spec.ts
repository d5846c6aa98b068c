import { alwaysValidTest, AlwaysValidResult, mixingRhoSquared } from './msprt';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';
import { ArmSummary } from './types';

interface E {
  difference: number;
  standardError: number;
  rhoSquared: number;
  mixingVariance: number;
  logLikelihoodRatio: number;
  pValue: number;
  ciLower: number;
  ciUpper: number;
}
interface Case {
  name: string;
  alpha: number;
  tuningN: number;
  control: ArmSummary;
  treatment: ArmSummary;
  expected: E | null;
}
interface G {
  cases: Case[];
  sequence: {
    alpha: number;
    tuningN: number;
    looks: {
      control: ArmSummary;
      treatment: ArmSummary;
      expected: { pValue: number; ciLower: number; ciUpper: number };
    }[];
  };
}

const g = loadGolden<G>('msprt');

describe('alwaysValidTest (golden: normal-mixture likelihood ratio in NumPy, GrowthBook interval)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = alwaysValidTest(c.control, c.treatment, { alpha: c.alpha, tuningN: c.tuningN });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.pValue).toBeNull();
      expect(r.ci).toBeNull();
      return;
    }
    expect(r.reason).toBeNull();
    const e = c.expected;
    expectClose(r.difference, e.difference, 1e-6, 1e-12, 'diff');
    expectClose(r.standardError, e.standardError, 1e-6, 1e-12, 'se');
    expectClose(r.rhoSquared, e.rhoSquared, 1e-6, 1e-12, 'rho2');
    expectClose(r.mixingVariance, e.mixingVariance, 1e-6, 1e-12, 'tau2');
    expectClose(r.logLikelihoodRatio, e.logLikelihoodRatio, 1e-6, 1e-12, 'logLR');
    expectClose(r.pValue, e.pValue, 1e-6, 1e-300, 'p');
    expectClose(r.ci?.lower, e.ciLower, 1e-6, 1e-12, 'lower');
    expectClose(r.ci?.upper, e.ciUpper, 1e-6, 1e-12, 'upper');
  });

  it('carries the running minimum p-value and intersected interval across looks', () => {
    let prev: AlwaysValidResult | null = null;
    for (const look of g.sequence.looks) {
      const r: AlwaysValidResult = alwaysValidTest(look.control, look.treatment, {
        alpha: g.sequence.alpha,
        tuningN: g.sequence.tuningN,
        previous: prev,
      });
      expectClose(r.pValue, look.expected.pValue, 1e-6, 1e-300, 'p');
      expectClose(r.ci?.lower, look.expected.ciLower, 1e-6, 1e-12, 'lower');
      expectClose(r.ci?.upper, look.expected.ciUpper, 1e-6, 1e-12, 'upper');
      prev = r;
    }
  });

  it('is wider than the fixed-horizon interval and consistent with its p-value', () => {
    const c = { n: 5000, mean: 1, variance: 1 };
    const t = { n: 5000, mean: 1.06, variance: 1 };
    const r = alwaysValidTest(c, t);
    const half = ((r.ci as { upper: number }).upper - (r.ci as { lower: number }).lower) / 2;
    expect(half).toBeGreaterThan(1.96 * Math.sqrt(2 / 5000));
    // p < α exactly when 0 is outside the confidence sequence
    expect((r.pValue as number) < 0.05).toBe((r.ci as { lower: number }).lower > 0);
  });

  it('documents the N* = 5000 tuning: ρ² = (−2 ln α + ln(1 − 2 ln α))/N*', () => {
    const l = -2 * Math.log(0.05);
    expect(mixingRhoSquared(0.05, 5000)).toBeCloseTo((l + Math.log(1 + l)) / 5000, 15);
  });

  it('degenerate inputs give a reason', () => {
    expect(alwaysValidTest({ n: 1, mean: 0, variance: 0 }, { n: 3, mean: 0, variance: 1 }).reason).toMatch(
      /at least 2/,
    );
    expect(alwaysValidTest({ n: 3, mean: 0, variance: 0 }, { n: 3, mean: 1, variance: 0 }).reason).toMatch(
      /zero variance/,
    );
    expect(
      alwaysValidTest({ n: 3, mean: 0, variance: 1 }, { n: 3, mean: 1, variance: 1 }, { tuningN: 0 }).reason,
    ).toMatch(/tuningN/);
  });
});
