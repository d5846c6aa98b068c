import { DecisionInput, recommendDecision } from './decision';
import { loadGolden } from './testing/golden';

interface Case {
  standardError: number;
  units: number;
  mde: number;
  alpha: number;
  power: number;
  unitsPerDay: number;
  expected: { requiredUnits: number; extraUnits: number; extraDays: number };
}
const g = loadGolden<{ cases: Case[] }>('decision');

const primary = (lower: number, upper: number) => ({
  metric: 'reward',
  estimate: (lower + upper) / 2,
  ci: { lower, upper },
});

describe('recommendDecision', () => {
  it('ships when the primary metric wins and guardrails are non-inferior', () => {
    const r = recommendDecision({
      primary: primary(0.01, 0.05),
      guardrails: [
        {
          metric: 'latency',
          estimate: 0.002,
          ci: { lower: -0.004, upper: 0.008 },
          direction: 'lower-is-better',
          nonInferiorityMargin: 0.01,
        },
      ],
    });
    expect(r.decision).toBe('ship');
    expect(r.reason).toMatch(/Ship/);
  });

  it('rolls back when the primary metric is significantly worse', () => {
    expect(recommendDecision({ primary: primary(-0.05, -0.01) }).decision).toBe('rollback');
    const lowerBetter = recommendDecision({ primary: { ...primary(0.01, 0.05), direction: 'lower-is-better' } });
    expect(lowerBetter.decision).toBe('rollback');
  });

  it('rolls back when a guardrail is worse than its margin even if the primary wins', () => {
    const r = recommendDecision({
      primary: primary(0.01, 0.05),
      guardrails: [
        { metric: 'revenue', estimate: -0.03, ci: { lower: -0.04, upper: -0.02 }, nonInferiorityMargin: 0.01 },
      ],
    });
    expect(r.decision).toBe('rollback');
    expect(r.reason).toMatch(/revenue/);
  });

  it('keeps running when a guardrail is inconclusive', () => {
    const r = recommendDecision({
      primary: primary(0.01, 0.05),
      guardrails: [
        { metric: 'revenue', estimate: -0.005, ci: { lower: -0.02, upper: 0.01 }, nonInferiorityMargin: 0.01 },
      ],
    });
    expect(r.decision).toBe('keep-running');
    expect(r.reason).toMatch(/guardrail "revenue" is not yet shown within its margin/);
  });

  it('is unhealthy on SRM or multiple exposures, whatever the effect', () => {
    expect(recommendDecision({ primary: primary(0.01, 0.05), srm: { flagged: true, pValue: 1e-6 } }).decision).toBe(
      'unhealthy',
    );
    const r = recommendDecision({
      primary: primary(-0.05, -0.01),
      multipleExposure: { units: 300, totalUnits: 10000 },
    });
    expect(r.decision).toBe('unhealthy');
    expect(r.reason).toMatch(/3 % of units/);
    expect(
      recommendDecision({ primary: primary(0.01, 0.05), multipleExposure: { units: 50, totalUnits: 10000 } }).decision,
    ).toBe('ship');
  });

  it.each(g.cases)('estimates extra units and days to reach power (golden %#)', (c) => {
    const input: DecisionInput = {
      alpha: c.alpha,
      power: c.power,
      primary: {
        ...primary(-0.01, 0.02),
        standardError: c.standardError,
        units: c.units,
        minimumDetectableEffect: c.mde,
      },
      traffic: { unitsPerDay: c.unitsPerDay },
    };
    const r = recommendDecision(input);
    expect(r.decision).toBe('keep-running');
    expect(r.requiredUnits).toBe(c.expected.requiredUnits);
    expect(r.extraUnits).toBe(c.expected.extraUnits);
    expect(r.extraDays).toBe(c.expected.extraDays);
    if (c.expected.extraUnits > 0) expect(r.reason).toMatch(/more units/);
    else expect(r.reason).toMatch(/already has/);
  });

  it('keeps running without an extra-units estimate when there is no data yet', () => {
    const r = recommendDecision({ primary: { metric: 'reward', estimate: null, ci: null } });
    expect(r.decision).toBe('keep-running');
    expect(r.extraUnits).toBeNull();
    expect(r.reason).toMatch(/not enough data/);
  });
});
