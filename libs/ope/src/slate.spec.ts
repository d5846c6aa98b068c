// Slate estimators against Open Bandit Pipeline's SlateStandardIPS / SlateIndependentIPS / SlateRewardInteractionIPS
// on OBP's SyntheticSlateBanditDataset (factorisable logging, independent slot rewards), and the pseudo-inverse
// estimator against NumPy (tools/ope/gen_golden.py). The OBD sample has no complete slates (each row is one slot
// of a different impression), hence synthetic slates.
import golden from './__golden__/slate.json';
import { normalInterval } from './intervals';
import {
  slateIndependentIps,
  slatePseudoInverse,
  slateRewardInteractionIps,
  slateStandardIps,
  type SlateLog,
} from './slate';

const REL = 1e-9;
const close = (a: number, b: number): void => expect(Math.abs(a - b)).toBeLessThanOrEqual(REL * Math.abs(b));
const log: SlateLog = { slots: golden.slots, reward: golden.reward };

describe('slate estimators on OBP synthetic slates', () => {
  it('SIPS, IIPS and RIPS equal OBP', () => {
    close(slateStandardIps(log, golden.pscore, golden.evaluationPscore).value, golden.sips);
    close(slateIndependentIps(log, golden.pscoreItemPosition, golden.evaluationPscoreItemPosition).value, golden.iips);
    close(slateRewardInteractionIps(log, golden.pscoreCascade, golden.evaluationPscoreCascade).value, golden.rips);
    const iips = slateIndependentIps(log, golden.pscoreItemPosition, golden.evaluationPscoreItemPosition);
    expect(iips.roundRewards.length).toBe(golden.nSlates);
    const ci = normalInterval(iips.roundRewards, golden.alpha);
    close(ci.lower, golden.iipsNormal.lower);
    close(ci.upper, golden.iipsNormal.upper);
  });

  it('the logging policy is factorised (joint = product of item-position marginals), as the pseudo-inverse assumes', () => {
    const k = golden.slots;
    for (let i = 0; i < golden.nSlates; i++) {
      let prod = 1;
      for (let j = 0; j < k; j++) prod *= golden.pscoreItemPosition[i * k + j];
      expect(Math.abs(golden.pscore[i * k] - prod)).toBeLessThanOrEqual(1e-12 * prod);
    }
  });

  it('pseudo-inverse equals the NumPy value and interval', () => {
    const pi = slatePseudoInverse(log, golden.pscoreItemPosition, golden.evaluationPscoreItemPosition);
    close(pi.value, golden.pseudoInverse.value);
    const ci = normalInterval(pi.roundRewards, golden.alpha);
    close(ci.standardError, golden.pseudoInverse.normal.standardError);
    close(ci.lower, golden.pseudoInverse.normal.lower);
  });

  it('pseudo-inverse is exact on a hand-worked slate, and equals the on-policy reward when π_e = π_b', () => {
    // one slate, K = 2, rewards (1, 0), marginal weights 2 and 0.5: r = 1, Σw − K + 1 = 1.5 → 1.5
    const one = slatePseudoInverse({ slots: 2, reward: [1, 0] }, [0.25, 0.5], [0.5, 0.25]);
    expect(one.value).toBe(1.5);
    const same = slatePseudoInverse(log, golden.pscoreItemPosition, golden.pscoreItemPosition);
    const total = golden.reward.reduce((s, r) => s + r, 0) / golden.nSlates;
    expect(same.value).toBeCloseTo(total, 12);
  });

  it('rejects lengths that are not whole slates and zero behaviour probabilities', () => {
    expect(() => slatePseudoInverse({ slots: 2, reward: [1, 0, 1] }, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])).toThrow(
      RangeError,
    );
    expect(() => slateStandardIps({ slots: 1, reward: [1] }, [0], [0.5])).toThrow(RangeError);
    expect(() => slateIndependentIps({ slots: 1, reward: [1] }, [0.5], [1.5])).toThrow(RangeError);
  });
});
