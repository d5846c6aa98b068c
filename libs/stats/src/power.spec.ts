import { achievedPower, MdeInput, minimumDetectableEffect, SampleSizeInput, sampleSizePerArm } from './power';
import { expectClose } from './testing/expect-close';
import { loadGolden } from './testing/golden';

interface G {
  cases: {
    name: string;
    input: SampleSizeInput;
    expected: {
      effectSize: number;
      absoluteMde: number;
      nControl: number;
      nTreatment: number;
      nControlRounded: number;
      nTreatmentRounded: number;
      statsmodelsSolvePower: number;
    };
  }[];
  mde: {
    name: string;
    input: MdeInput;
    expected: { effectSize: number; absoluteMde: number; relativeMde: number | null; statsmodelsSolvePower: number };
  }[];
  power: { effectSize: number; nControl: number; ratio: number; alpha: number; expected: number }[];
}

const g = loadGolden<G>('power');

describe('power (golden: statsmodels NormalIndPower, two-sided)', () => {
  it.each(g.cases)('sample size: $name', ({ input, expected: e }) => {
    const r = sampleSizePerArm(input);
    expect(r.reason).toBeNull();
    expectClose(r.effectSize, e.effectSize, 1e-6, 1e-12, 'd');
    expectClose(r.absoluteMde, e.absoluteMde, 1e-6, 1e-12, 'mde');
    expectClose(r.nControl, e.nControl, 1e-6, 1e-12, 'n1');
    expectClose(r.nTreatment, e.nTreatment, 1e-6, 1e-12, 'n2');
    expect(r.nControlRounded).toBe(e.nControlRounded);
    expect(r.nTreatmentRounded).toBe(e.nTreatmentRounded);
    // statsmodels' own solve_power stops at a looser tolerance; we agree with it to 1e-4
    expectClose(r.nControl, e.statsmodelsSolvePower, 1e-4, 1e-12, 'vs solve_power');
  });

  it.each(g.mde)('MDE: $name', ({ input, expected: e }) => {
    const r = minimumDetectableEffect(input);
    expect(r.reason).toBeNull();
    expectClose(r.effectSize, e.effectSize, 1e-6, 1e-12, 'd');
    expectClose(r.absoluteMde, e.absoluteMde, 1e-6, 1e-12, 'abs');
    expectClose(r.relativeMde, e.relativeMde, 1e-6, 1e-12, 'rel');
    expectClose(r.effectSize, e.statsmodelsSolvePower, 1e-4, 1e-12, 'vs solve_power');
  });

  it.each(g.power)('achieved power d=$effectSize n=$nControl ratio=$ratio', (c) => {
    expectClose(achievedPower(c.effectSize, c.nControl, c.ratio, c.alpha), c.expected);
  });

  it('sample size and MDE are inverse to each other', () => {
    const s = sampleSizePerArm({ baseline: { proportion: 0.2 }, mde: 0.03, alpha: 0.05, power: 0.8, ratio: 1.5 });
    const m = minimumDetectableEffect({
      baseline: { proportion: 0.2 },
      nControl: s.nControl as number,
      alpha: 0.05,
      power: 0.8,
      ratio: 1.5,
    });
    expectClose(m.relativeMde, 0.03, 1e-9);
  });

  it('degenerate inputs give a reason', () => {
    expect(sampleSizePerArm({ baseline: { mean: 1, stdDev: 0 }, mde: 0.1 }).reason).toMatch(/standard deviation/);
    expect(sampleSizePerArm({ baseline: { mean: 0, stdDev: 1 }, mde: 0.1 }).reason).toMatch(/non-zero baseline/);
    expect(sampleSizePerArm({ baseline: { proportion: 1 }, mde: 0.1 }).reason).toMatch(/proportion/);
    expect(sampleSizePerArm({ baseline: { mean: 1, stdDev: 1 }, mde: 0 }).reason).toMatch(/mde/);
    expect(sampleSizePerArm({ baseline: { mean: 1, stdDev: 1 }, mde: 0.1, power: 0.01 }).reason).toMatch(/power/);
    expect(minimumDetectableEffect({ baseline: { mean: 1, stdDev: 1 }, nControl: 0 }).reason).toMatch(/nControl/);
  });
});
