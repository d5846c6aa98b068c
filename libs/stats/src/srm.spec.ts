import { sampleRatioMismatch } from './srm';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

interface Case {
  name: string;
  observed: Record<string, number>;
  weights: Record<string, number>;
  expected: {
    chiSquare: number;
    pValue: number;
    flagged: boolean;
    expected: Record<string, number>;
    degreesOfFreedom: number;
  } | null;
}

const g = loadGolden<{ cases: Case[] }>('srm');

describe('sampleRatioMismatch (golden: scipy.stats.chisquare)', () => {
  it.each(g.cases)('$name', (c) => {
    const r = sampleRatioMismatch(c.observed, c.weights);
    if (c.expected === null) {
      expect(r.reason).toEqual(expect.any(String));
      expect(r.pValue).toBeNull();
      expect(r.flagged).toBe(false);
      return;
    }
    expect(r.reason).toBeNull();
    expectClose(r.chiSquare, c.expected.chiSquare, 1e-6, 1e-12, 'chi2');
    expectClose(r.pValue, c.expected.pValue, 1e-6, 1e-300, 'p');
    expect(r.flagged).toBe(c.expected.flagged);
    expect(r.degreesOfFreedom).toBe(c.expected.degreesOfFreedom);
    for (const k of Object.keys(c.expected.expected))
      expectClose(r.expected?.[k], c.expected.expected[k], 1e-6, 1e-12, k);
  });

  it('the brief example (44,700 vs 45,489 at 50/50) is not flagged at 0.001 but is at 0.01', () => {
    const obs = { control: 44700, ts: 45489 };
    const w = { control: 50, ts: 50 };
    expect(sampleRatioMismatch(obs, w).flagged).toBe(false);
    expect(sampleRatioMismatch(obs, w, { threshold: 0.01 }).flagged).toBe(true);
  });

  it('rejects weights that are not positive and observations for unknown variants', () => {
    expect(sampleRatioMismatch({ a: 1, b: 2 }, { a: 0, b: 1 }).reason).toMatch(/positive/);
    expect(sampleRatioMismatch({ a: 1, b: 2, c: 3 }, { a: 1, b: 1 }).reason).toMatch(/without a weight/);
  });
});
