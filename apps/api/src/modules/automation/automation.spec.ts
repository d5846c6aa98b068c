import { guardrailBreached } from '@slotwise/stats';
import type { AutomationEvaluation } from '../reports/reports.service';
import { autoStopDecision } from './automation.scheduler';

const evaluation = (over: Partial<AutomationEvaluation>): AutomationEvaluation => ({
  phase: 1,
  generatedAt: '2026-01-01T00:00:00.000Z',
  srm: { flagged: false, pValue: 0.4, observed: { a: 10, b: 10 }, expected: { a: 10, b: 10 } },
  guardrailBreaches: [],
  primarySignificant: [],
  ...over,
});

describe('autoStopDecision', () => {
  const breach = {
    variant: 'b',
    metric: 'errors',
    estimate: 0.5,
    ci: { lower: 0.4, upper: 0.6 },
    nonInferiorityMargin: 0.005,
    direction: 'lower-is-better' as const,
  };

  it('acts on a guardrail breach only when "guardrail" is chosen, and on SRM only when "srm" is chosen', () => {
    expect(autoStopDecision(['guardrail'], evaluation({ guardrailBreaches: [breach] }))).toMatch(
      /^guardrail "errors" of "b" is beyond its non-inferiority margin 0.005 \(always-valid interval 0.4 to 0.6, lower-is-better\)\.$/,
    );
    expect(autoStopDecision(['srm'], evaluation({ guardrailBreaches: [breach] }))).toBeNull();
    const srm = evaluation({
      srm: { flagged: true, pValue: 1e-5, observed: { a: 10, b: 30 }, expected: { a: 20, b: 20 } },
    });
    expect(autoStopDecision(['guardrail'], srm)).toBeNull();
    expect(autoStopDecision(['srm', 'guardrail'], srm)).toBe('sample ratio mismatch (p = 0.00001).');
    expect(autoStopDecision(['guardrail', 'srm'], evaluation({}))).toBeNull();
  });
});

describe("guardrailBreached (libs/stats; the recommendation's rollback rule)", () => {
  it('is true only when the interval, signed so that better is positive, lies entirely beyond −margin', () => {
    const g = (lower: number, upper: number, direction: 'higher-is-better' | 'lower-is-better') => ({
      metric: 'm',
      estimate: null,
      ci: { lower, upper },
      direction,
      nonInferiorityMargin: 0.1,
    });
    expect(guardrailBreached(g(-0.5, -0.11, 'higher-is-better'))).toBe(true);
    expect(guardrailBreached(g(-0.5, -0.1, 'higher-is-better'))).toBe(false); // touches the margin
    expect(guardrailBreached(g(-0.5, 0.2, 'higher-is-better'))).toBe(false);
    expect(guardrailBreached(g(0.11, 0.5, 'lower-is-better'))).toBe(true);
    expect(guardrailBreached(g(0.05, 0.5, 'lower-is-better'))).toBe(false);
    expect(guardrailBreached({ metric: 'm', estimate: null, ci: null, nonInferiorityMargin: 0.1 })).toBe(false);
  });
});
