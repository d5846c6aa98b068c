import { oracleSlate, slateValue, VariantTracker, median } from './metrics';
import type { RequestTruth } from './world';

/** A tiny world by hand: 3 candidates with click probabilities .5, .2, .1 at the top slot; slot 2 halves them. */
const truth: RequestTruth = {
  eta: Float64Array.from([0.5, 0.2, 0.1]), // here eta IS the top-slot probability
  clickProbability: (eta, j) => eta * [1, 0.5][j],
};

describe('regret arithmetic (hand-computed)', () => {
  it('values a slate as the sum of its slots’ click probabilities', () => {
    expect(slateValue(truth, [0, 1])).toBeCloseTo(0.5 + 0.1, 12);
    expect(slateValue(truth, [1, 0])).toBeCloseTo(0.2 + 0.25, 12);
    expect(slateValue(truth, [2, 1])).toBeCloseTo(0.1 + 0.1, 12);
  });

  it('finds the oracle slate: best items, best order', () => {
    expect(oracleSlate(truth, 2)).toEqual({ slate: [0, 1], value: expect.closeTo(0.6, 12) });
    expect(oracleSlate(truth, 1).value).toBeCloseTo(0.5, 12);
    expect(oracleSlate(truth, 5).slate).toEqual([0, 1, 2]); // k larger than the candidate set
  });

  it('searches the order when the slots are not a common multiple (additive position effect)', () => {
    // p = eta + position effect: slot 2 better than slot 1 for everyone; any order of the top-2 gives the same sum.
    const additive: RequestTruth = {
      eta: Float64Array.from([0.3, 0.1, 0.2]),
      clickProbability: (e, j) => Math.min(1, e + [0, 0.05][j]),
    };
    expect(oracleSlate(additive, 2).value).toBeCloseTo(0.3 + 0.2 + 0.05, 12);
    // A non-modular truth: item 1 shines only in slot 2.
    const odd: RequestTruth = {
      eta: Float64Array.from([0.4, 0.3]),
      clickProbability: (e, j) => (j === 1 && e === 0.3 ? 0.9 : e),
    };
    expect(oracleSlate(odd, 2)).toEqual({ slate: [0, 1], value: expect.closeTo(1.3, 12) });
  });

  it('accumulates regret, reward, explore and cold-start rates and graduation per variant', () => {
    const t = new VariantTracker('ts', 'thompson', 2);
    // decision 1: chose [1, 0] → value .45, oracle .6, regret .15; slot 1 explored, clicked.
    t.record({
      value: slateValue(truth, [1, 0]),
      oracle: 0.6,
      slots: [
        { itemId: 'b', explored: true, coldStart: true, clicked: true },
        { itemId: 'a', explored: false, coldStart: true, clicked: false },
      ],
    });
    t.itemArrived('c'); // arrives after 1 decision of this variant
    // decision 2: chose [0, 2] → value .5 + .05 = .55, regret .05
    t.record({
      value: slateValue(truth, [0, 2]),
      oracle: 0.6,
      slots: [
        { itemId: 'a', explored: false, coldStart: true, clicked: false },
        { itemId: 'c', explored: true, coldStart: true, clicked: false },
      ],
    });
    t.closeWindow(2);
    // decision 3: the oracle slate → regret 0; c is shown a second time → graduates (threshold 2), 2 decisions after arriving.
    t.record({
      value: 0.6,
      oracle: 0.6,
      slots: [
        { itemId: 'a', explored: false, coldStart: false, clicked: true },
        { itemId: 'c', explored: false, coldStart: true, clicked: false },
      ],
    });
    t.closeWindow(3);
    const random = 0.4; // random's regret per decision
    const s = t.summary(random, false);
    expect(s.decisions).toBe(3);
    expect(s.slots).toBe(6);
    expect(s.cumulativeReward).toBe(2);
    expect(s.expectedReward).toBeCloseTo(0.45 + 0.55 + 0.6, 4);
    expect(s.cumulativeRegret).toBeCloseTo(0.2, 4);
    expect(s.regretPerDecision).toBeCloseTo(0.2 / 3, 6);
    expect(s.regretRatioToRandom).toBeCloseTo(0.2 / 3 / 0.4, 4);
    expect(s.exploreRate).toBeCloseTo(2 / 6, 4);
    expect(s.coldStartRate).toBeCloseTo(5 / 6, 4);
    expect(s.newItems).toEqual({ arrived: 1, shown: 1, graduated: 1, medianDecisionsToGraduate: 2 });
    expect(s.series).toEqual([
      { upTo: 2, decisions: 2, cumulativeReward: 1, cumulativeRegret: 0.2, exploreRate: 0.5, coldStartRate: 1 },
      { upTo: 3, decisions: 3, cumulativeReward: 2, cumulativeRegret: 0.2, exploreRate: 0, coldStartRate: 0.5 },
    ]);
  });

  it('IPS replay counts a logged click with weight 1/propensity when the slot matches', () => {
    const t = new VariantTracker('r', 'random', 100);
    t.record({ value: 0, oracle: 0, slots: [], replay: { matched: true, click: 1, propensity: 0.25 } });
    t.record({ value: 0, oracle: 0, slots: [], replay: { matched: false, click: 1, propensity: 0.25 } });
    expect(t.summary(null, true).replay).toEqual({ ipsClicksPerDecision: 2, matches: 1 });
  });

  it('median', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
