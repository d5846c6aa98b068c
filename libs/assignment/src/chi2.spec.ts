import golden from './__golden__/murmur3.json';
import { chiSquareSurvival, lnGamma, pearsonChiSquare, regularizedGammaP, regularizedGammaQ } from './chi2';

describe('local χ² survival function (against SciPy)', () => {
  it.each(golden.chiSquare.gammaincc)('gammaincc($a, $x)', ({ a, x, q, p }) => {
    expect(Math.abs(regularizedGammaQ(a, x) - q)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(q)) + 1e-14);
    expect(Math.abs(regularizedGammaP(a, x) - p)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(p)) + 1e-14);
  });

  it.each(golden.chiSquare.sf)('chi2.sf($x, $df)', ({ x, df, sf }) => {
    const got = chiSquareSurvival(x, df);
    // Relative tolerance: the tail values span many orders of magnitude.
    expect(Math.abs(got - sf)).toBeLessThanOrEqual(1e-9 * Math.abs(sf) + 1e-14);
  });

  it('lnGamma at known points', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    expect(lnGamma(2)).toBeCloseTo(0, 14);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(lnGamma(11)).toBeCloseTo(Math.log(3628800), 11);
  });

  it('Pearson χ² of a perfect fit is 0 with p = 1', () => {
    expect(pearsonChiSquare([50, 30, 20], [5, 3, 2])).toEqual({ chiSquare: 0, df: 2, pValue: 1 });
  });

  it('Pearson χ² flags a clear mismatch', () => {
    const r = pearsonChiSquare([5500, 4500], [1, 1]);
    expect(r.chiSquare).toBeCloseTo(100, 10);
    expect(r.pValue).toBeLessThan(1e-20);
  });
});
