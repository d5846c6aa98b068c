import { bayesianComparison, GaussianPrior } from './bayesian';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';
import { ArmSummary, MetricDirection } from './types';

interface Case {
  name: string;
  scale: 'relative' | 'absolute';
  prior: GaussianPrior | null;
  direction: MetricDirection;
  control: ArmSummary;
  treatment: ArmSummary;
  expected: Record<
    | 'estimate'
    | 'standardError'
    | 'posteriorMean'
    | 'posteriorStdDev'
    | 'chanceToBeatBaseline'
    | 'expectedLoss'
    | 'expectedLossControl'
    | 'ciLower'
    | 'ciUpper',
    number
  > | null;
}

const g = loadGolden<{ cases: Case[] }>('bayesian');

describe('bayesianComparison (golden: SciPy normal formulas, losses cross-checked by quad)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = bayesianComparison(c.control, c.treatment, { scale: c.scale, prior: c.prior, direction: c.direction });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.chanceToBeatBaseline).toBeNull();
      expect(r.expectedLoss).toBeNull();
      return;
    }
    expect(r.reason).toBeNull();
    const e = c.expected;
    expectClose(r.estimate, e.estimate, 1e-6, 1e-12, 'estimate');
    expectClose(r.standardError, e.standardError, 1e-6, 1e-12, 'se');
    expectClose(r.posteriorMean, e.posteriorMean, 1e-6, 1e-12, 'post mean');
    expectClose(r.posteriorStdDev, e.posteriorStdDev, 1e-6, 1e-12, 'post sd');
    expectClose(r.chanceToBeatBaseline, e.chanceToBeatBaseline, 1e-6, 1e-12, 'ctb');
    expectClose(r.expectedLoss, e.expectedLoss, 1e-6, 1e-12, 'loss');
    expectClose(r.expectedLossControl, e.expectedLossControl, 1e-6, 1e-12, 'loss control');
    expectClose(r.credibleInterval?.lower, e.ciLower, 1e-6, 1e-12, 'lower');
    expectClose(r.credibleInterval?.upper, e.ciUpper, 1e-6, 1e-12, 'upper');
  });

  it('losses satisfy E[max(0,Δ)] − E[max(0,−Δ)] = E[Δ]', () => {
    const r = bayesianComparison(
      { n: 400, mean: 10, variance: 9 },
      { n: 410, mean: 10.3, variance: 10 },
      { scale: 'absolute' },
    );
    expectClose((r.expectedLossControl as number) - (r.expectedLoss as number), r.posteriorMean as number, 1e-9);
  });

  it('a strong prior pulls the effect towards the prior mean', () => {
    const c = { n: 100, mean: 10, variance: 4 };
    const t = { n: 100, mean: 11, variance: 4 };
    const flat = bayesianComparison(c, t);
    const shrunk = bayesianComparison(c, t, { prior: { mean: 0, variance: 0.0001 } });
    expect(Math.abs(shrunk.posteriorMean as number)).toBeLessThan(Math.abs(flat.posteriorMean as number) / 2);
    expect(bayesianComparison(c, t, { prior: { mean: 0, variance: 0 } }).reason).toMatch(/prior/);
  });
});
