import { RatioArmSummary, ratioEstimate, ratioMetricTest } from './ratio';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

type Expected = Record<
  | 'controlRatio'
  | 'treatmentRatio'
  | 'difference'
  | 'differenceStandardError'
  | 'pValue'
  | 'ciLower'
  | 'ciUpper'
  | 'relativeLift'
  | 'relativeStandardError'
  | 'relativePValue'
  | 'relativeCiLower'
  | 'relativeCiUpper',
  number | null
>;
interface Case {
  name: string;
  alpha: number;
  control: RatioArmSummary;
  treatment: RatioArmSummary;
  expected: Expected | null;
}

const g = loadGolden<{ cases: Case[] }>('ratio');

describe('ratioMetricTest (golden: delta method with NumPy gradient · covariance · gradient)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = ratioMetricTest(c.control, c.treatment, { alpha: c.alpha });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.pValue).toBeNull();
      expect(r.ci).toBeNull();
      return;
    }
    const e = c.expected;
    if (e.relativeLift === null) {
      // the control ratio is not clearly away from 0: absolute figures valid, relative ones null with a reason
      expect(r.reason).toMatch(/not clearly away from zero/);
      expect([r.relativeLift, r.relativeCi, r.relativePValue]).toEqual([null, null, null]);
    } else {
      expect(r.reason).toBeNull();
    }
    expectClose(r.controlRatio, e.controlRatio, 1e-6, 1e-12, 'Rc');
    expectClose(r.treatmentRatio, e.treatmentRatio, 1e-6, 1e-12, 'Rt');
    expectClose(r.difference, e.difference, 1e-6, 1e-12, 'diff');
    expectClose(r.differenceStandardError, e.differenceStandardError, 1e-6, 1e-12, 'se');
    expectClose(r.pValue, e.pValue, 1e-6, 1e-300, 'p');
    expectClose(r.ci?.lower, e.ciLower, 1e-6, 1e-12, 'lower');
    expectClose(r.ci?.upper, e.ciUpper, 1e-6, 1e-12, 'upper');
    expectClose(r.relativeLift, e.relativeLift, 1e-6, 1e-12, 'lift');
    expectClose(r.relativeStandardError, e.relativeStandardError, 1e-6, 1e-12, 'rse');
    expectClose(r.relativePValue, e.relativePValue, 1e-6, 1e-300, 'rp');
    expectClose(r.relativeCi?.lower ?? null, e.relativeCiLower, 1e-6, 1e-12, 'rlower');
    expectClose(r.relativeCi?.upper ?? null, e.relativeCiUpper, 1e-6, 1e-12, 'rupper');
  });

  it('a negative control ratio gives a relative lift with the sign of the absolute difference', () => {
    const neg = g.cases.find((c) => c.name === 'negative_ratio')!;
    const r = ratioMetricTest(neg.control, neg.treatment);
    expect(r.controlRatio! < 0 && r.difference! > 0).toBe(true);
    expect(r.relativeLift! > 0 && r.relativeCi!.upper > 0).toBe(true);
  });

  it('ratioEstimate reduces to the mean-of-ratios variance when the denominator is constant 1', () => {
    const e = ratioEstimate({
      n: 50,
      meanNumerator: 2,
      meanDenominator: 1,
      varianceNumerator: 4,
      varianceDenominator: 0,
      covariance: 0,
    });
    expect(e?.ratio).toBe(2);
    expectClose(e?.variance, 4 / 50);
  });

  it('zero denominator or too few units give a reason, not NaN', () => {
    const arm: RatioArmSummary = {
      n: 10,
      meanNumerator: 1,
      meanDenominator: 0,
      varianceNumerator: 1,
      varianceDenominator: 0,
      covariance: 0,
    };
    const r = ratioMetricTest(arm, { ...arm, meanDenominator: 2 });
    expect(r.reason).toMatch(/zero denominator/);
    expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
  });
});

describe('ratio metrics at a 1e7 offset (issue 14)', () => {
  it('the three-moment delta bracket cancels; the linearised variance does not', () => {
    const c = g.cases.find((x) => x.name === 'proportional_1e7')!;
    const stable = ratioEstimate(c.control)!;
    const { linearizedVariance: _l, ...moments } = c.control;
    const naive = ratioEstimate(moments)!;
    const expected = c.control.linearizedVariance! / (c.control.n * c.control.meanDenominator ** 2);
    expectClose(stable.variance, expected, 1e-12);
    expect(Math.abs(naive.variance - expected) / expected).toBeGreaterThan(1e-3);
  });
});
