import { bivariateFromSums, summarize, summarizePairs, summaryFromSums } from './summaries';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

describe('summaries', () => {
  it('summarize gives n, mean and the ddof = 1 variance', () => {
    expect(summarize([1, 2, 3, 4])).toEqual({ n: 4, mean: 2.5, variance: 5 / 3 });
    expect(summarize([7])).toEqual({ n: 1, mean: 7, variance: 0 });
    expect(summarize([])).toEqual({ n: 0, mean: 0, variance: 0 });
  });

  it('summaryFromSums (SQL COUNT/SUM/SUM of squares) agrees with summarize and never goes negative', () => {
    const xs = [3.2, 1.1, 4.8, 0.5, 2.2, 9.9];
    const s = summarize(xs);
    const f = summaryFromSums(
      xs.length,
      xs.reduce((a, b) => a + b, 0),
      xs.reduce((a, b) => a + b * b, 0),
    );
    expectClose(f.mean, s.mean, 1e-12);
    expectClose(f.variance, s.variance, 1e-12);
    expect(summaryFromSums(3, 3e8, 3e16).variance).toBe(0);
    expect(summaryFromSums(0, 0, 0)).toEqual({ n: 0, mean: 0, variance: 0 });
  });

  it('bivariateFromSums agrees with summarizePairs', () => {
    const xs = [1, 2, 3, 4, 5];
    const ys = [2, 1, 4, 3, 7];
    const p = summarizePairs(xs, ys);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    const b = bivariateFromSums(
      5,
      sum(xs),
      sum(ys),
      sum(xs.map((x) => x * x)),
      sum(ys.map((y) => y * y)),
      sum(xs.map((x, i) => x * ys[i])),
    );
    for (const k of ['meanX', 'meanY', 'varianceX', 'varianceY', 'covarianceXY'] as const)
      expectClose(b[k], p[k], 1e-12);
    expect(p.covarianceXY).toBe(3); // numpy.cov([1..5], [2,1,4,3,7])[0, 1]
  });
});

interface SummaryCase {
  name: string;
  values: number[];
  paired: number[];
  expected: { n: number; mean: number; variance: number; pairedVariance: number; covariance: number };
}

describe('summaries at large offsets (golden: NumPy two-pass moments; issue 14 "large values, small spread")', () => {
  const g = loadGolden<{ cases: SummaryCase[] }>('summaries');
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

  it.each(g.cases)('summaryFromSums with a shift by one of the values: $name', (c) => {
    const shift = c.values[0];
    const d = c.values.map((v) => v - shift);
    const s = summaryFromSums(d.length, sum(d), sum(d.map((v) => v * v)), shift);
    expect(s.n).toBe(c.expected.n);
    expectClose(s.mean, c.expected.mean, 1e-12, 1e-12, 'mean');
    expectClose(s.variance, c.expected.variance, 1e-6, 1e-12, 'variance');
  });

  it.each(g.cases)('summarize / summarizePairs (shifted two-pass): $name', (c) => {
    expectClose(summarize(c.values).variance, c.expected.variance, 1e-6, 1e-12, 'variance');
    const p = summarizePairs(c.values, c.paired);
    expectClose(p.varianceX, c.expected.variance, 1e-6, 1e-12, 'varianceX');
    expectClose(p.varianceY, c.expected.pairedVariance, 1e-6, 1e-12, 'varianceY');
    expectClose(p.covarianceXY, c.expected.covariance, 1e-6, 1e-12, 'covariance');
  });

  it('the unshifted form loses every digit at 1e9 (why the report must not use it)', () => {
    const c = g.cases.find((x) => x.name === 'two offset=1e+09')!;
    const naive = summaryFromSums(2, sum(c.values), sum(c.values.map((v) => v * v)));
    expect(c.expected.variance).toBe(0.5);
    expect(Math.abs(naive.variance - 0.5)).toBeGreaterThan(0.4);
  });
});
