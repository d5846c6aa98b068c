import { relativeLift } from './relative-lift';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';
import { ArmSummary } from './types';

interface Case {
  name: string;
  alpha: number;
  control: ArmSummary;
  treatment: ArmSummary;
  expected: { relativeLift: number; standardError: number; pValue: number; ciLower: number; ciUpper: number } | null;
}

const g = loadGolden<{ cases: Case[] }>('relative_lift');

describe('relativeLift (golden: delta method in NumPy)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = relativeLift(c.control, c.treatment, { alpha: c.alpha });
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.ci).toBeNull();
      expect(r.pValue).toBeNull();
      return;
    }
    expect(r.reason).toBeNull();
    const e = c.expected;
    expectClose(r.relativeLift, e.relativeLift, 1e-6, 1e-12, 'lift');
    expectClose(r.standardError, e.standardError, 1e-6, 1e-12, 'se');
    expectClose(r.pValue, e.pValue, 1e-6, 1e-300, 'p');
    expectClose(r.ci?.lower, e.ciLower, 1e-6, 1e-12, 'lower');
    expectClose(r.ci?.upper, e.ciUpper, 1e-6, 1e-12, 'upper');
  });

  it('zero control mean gives null numbers and a reason', () => {
    const r = relativeLift({ n: 10, mean: 0, variance: 1 }, { n: 10, mean: 1, variance: 1 });
    expect(r.relativeLift).toBeNull();
    expect(r.reason).toMatch(/control mean is zero/);
  });
});
