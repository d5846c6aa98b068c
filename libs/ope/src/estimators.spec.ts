// Hand-worked cases and properties of the per-position estimators (the OBP comparison is golden.spec.ts).
import { Rng } from '@slotwise/bandit';
import { directMethod, doublyRobust, ips, selfNormalizedDoublyRobust, snips, switchDoublyRobust } from './estimators';
import { evaluatePolicy } from './evaluate';
import type { ActionDistribution, BanditLog, RewardEstimates } from './types';
import { contextFreeActionDist, importanceWeights, uniformActionDist, weightDiagnostics } from './weights';

// 4 rounds, 2 actions, one slot. π_b(a_i) = 0.5, 0.25, 0.5, 0.75; π_e puts 0.8 on action 0.
const log: BanditLog = { action: [0, 1, 0, 1], reward: [1, 0, 0, 1], pscore: [0.5, 0.25, 0.5, 0.75] };
const dist: ActionDistribution = { nActions: 2, probs: Float64Array.from([0.8, 0.2, 0.8, 0.2, 0.8, 0.2, 0.8, 0.2]) };
const qHat: RewardEstimates = { nActions: 2, values: Float64Array.from([0.5, 0.2, 0.5, 0.2, 0.4, 0.3, 0.4, 0.3]) };
// weights: 0.8/0.5 = 1.6, 0.2/0.25 = 0.8, 1.6, 0.2/0.75 = 4/15
const w = [1.6, 0.8, 1.6, 4 / 15];
const mw = (1.6 + 0.8 + 1.6 + 4 / 15) / 4;
// q̂(x_i, π_e) = 0.8 q0 + 0.2 q1: 0.44, 0.44, 0.38, 0.38
const dm = [0.44, 0.44, 0.38, 0.38];

describe('per-position estimators on a hand-worked log', () => {
  it('importance weights, effective sample size and largest weight', () => {
    const iw = importanceWeights(log, dist);
    w.forEach((v, i) => expect(iw[i]).toBeCloseTo(v, 15));
    const d = weightDiagnostics(iw, 1.5);
    const s = w.reduce((a, b) => a + b, 0);
    expect(d.effectiveSampleSize).toBeCloseTo((s * s) / w.reduce((a, b) => a + b * b, 0), 14);
    expect(d.maxWeight).toBe(1.6);
    expect(d.clippedCount).toBe(2);
  });

  it('IPS, clipped IPS and SNIPS', () => {
    expect(ips(log, dist).value).toBeCloseTo((1.6 + 4 / 15) / 4, 15);
    expect(ips(log, dist, { clip: 1 }).value).toBeCloseTo((1 + 4 / 15) / 4, 15);
    expect(snips(log, dist).value).toBeCloseTo((1.6 + 4 / 15) / 4 / mw, 15);
  });

  it('DM, DR, SNDR and Switch-DR', () => {
    const qf = [0.5, 0.2, 0.4, 0.3];
    const r = [1, 0, 0, 1];
    const corr = (i: number): number => w[i] * (r[i] - qf[i]);
    const mean = (f: (i: number) => number): number => [0, 1, 2, 3].reduce((s, i) => s + f(i), 0) / 4;
    expect(directMethod(log, dist, qHat).value).toBeCloseTo(
      mean((i) => dm[i]),
      15,
    );
    expect(doublyRobust(log, dist, qHat).value).toBeCloseTo(
      mean((i) => dm[i] + corr(i)),
      15,
    );
    expect(selfNormalizedDoublyRobust(log, dist, qHat).value).toBeCloseTo(
      mean((i) => dm[i] + corr(i) / mw),
      15,
    );
    // τ = 1: rounds 0 and 2 (w = 1.6) fall back to the DM term
    expect(switchDoublyRobust(log, dist, qHat, { threshold: 1 }).value).toBeCloseTo(
      mean((i) => dm[i] + (w[i] <= 1 ? corr(i) : 0)),
      15,
    );
    expect(switchDoublyRobust(log, dist, qHat, { threshold: Infinity }).value).toBeCloseTo(
      doublyRobust(log, dist, qHat).value,
      15,
    );
    expect(switchDoublyRobust(log, dist, qHat, { threshold: 0 }).value).toBeCloseTo(
      directMethod(log, dist, qHat).value,
      15,
    );
    const clipped = doublyRobust(log, dist, qHat, { clip: 1 }).value;
    expect(clipped).toBeCloseTo(
      mean((i) => dm[i] + Math.min(w[i], 1) * (r[i] - qf[i])),
      15,
    );
  });

  it('DR with a perfect reward model and DM agree; IPS of the logging policy is the logged mean', () => {
    const same: ActionDistribution = {
      nActions: 2,
      probs: Float64Array.from([0.5, 0.5, 0.75, 0.25, 0.5, 0.5, 0.25, 0.75]),
    };
    expect(ips(log, same).value).toBeCloseTo(0.5, 15);
    expect(snips(log, same).value).toBeCloseTo(0.5, 15);
    // q̂ equal to the observed reward at the logged action: the DR correction vanishes
    const perfect: RewardEstimates = { nActions: 2, values: Float64Array.from([1, 0.3, 0.6, 0, 0, 0.2, 0.1, 1]) };
    expect(doublyRobust(log, dist, perfect).value).toBeCloseTo(directMethod(log, dist, perfect).value, 15);
    expect(selfNormalizedDoublyRobust(log, dist, perfect).value).toBeCloseTo(
      directMethod(log, dist, perfect).value,
      15,
    );
  });

  it('rejects bad shapes and values with the field in the message', () => {
    expect(() => ips({ ...log, pscore: [0.5, 0, 0.5, 0.5] }, dist)).toThrow(/pscore\[1\]/);
    expect(() => ips({ ...log, action: [0, 2, 0, 1] }, dist)).toThrow(/action\[1\]/);
    expect(() => ips({ ...log, reward: [1, 0] }, dist)).toThrow(/reward/);
    expect(() => ips(log, { nActions: 2, probs: new Float64Array(6) })).toThrow(/actionDist/);
    expect(() => ips(log, dist, { clip: 0 })).toThrow(/clip/);
    expect(() => directMethod(log, dist, { nActions: 2, values: new Float64Array(7) })).toThrow(/qHat/);
    expect(() => switchDoublyRobust(log, dist, qHat, { threshold: -1 })).toThrow(/threshold/);
    expect(() => directMethod(log, { nActions: 2, probs: new Float64Array(8) }, qHat)).toThrow(/sums to 0/);
  });
});

describe('evaluatePolicy', () => {
  it('reports every estimator with normal and seeded bootstrap intervals and the weight diagnostics', () => {
    const report = evaluatePolicy(log, dist, {
      qHat,
      clip: 1.5,
      alpha: 0.1,
      bootstrap: { rng: new Rng(3), nBootstrap: 200 },
    });
    expect(report.estimates.map((e) => e.estimator)).toEqual(['ips', 'snips', 'dm', 'dr', 'sndr', 'switch-dr']);
    expect(report.switchThreshold).toBe(1.5);
    expect(report.clip).toBe(1.5);
    expect(report.weights.clippedCount).toBe(2);
    expect(report.loggedValue).toBe(0.5);
    for (const e of report.estimates) {
      expect(e.normal.level).toBeCloseTo(0.9, 15);
      expect(e.normal.lower).toBeLessThanOrEqual(e.value);
      expect(e.bootstrap!.upper).toBeGreaterThanOrEqual(e.bootstrap!.lower);
    }
    expect(report.estimates[0].value).toBeCloseTo(ips(log, dist, { clip: 1.5 }).value, 15);
    const again = evaluatePolicy(log, dist, {
      qHat,
      clip: 1.5,
      alpha: 0.1,
      bootstrap: { rng: new Rng(3), nBootstrap: 200 },
    });
    expect(again).toEqual(report);
  });

  it('without q-hat reports IPS and SNIPS only', () => {
    expect(evaluatePolicy(log, dist).estimates.map((e) => e.estimator)).toEqual(['ips', 'snips']);
  });

  it("builds context-free and uniform action distributions at each round's slot", () => {
    const d = contextFreeActionDist(
      [
        [0.9, 0.1],
        [0.1, 0.9],
      ],
      [0, 1, 1],
      3,
    );
    expect(Array.from(d.probs)).toEqual([0.9, 0.1, 0.1, 0.9, 0.1, 0.9]);
    expect(Array.from(uniformActionDist(4, 1).probs)).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(() =>
      contextFreeActionDist(
        [
          [0.9, 0.1],
          [0.1, 0.9],
        ],
        [0, 2],
        2,
      ),
    ).toThrow(/position\[1\]: slot 2/);
  });
});
