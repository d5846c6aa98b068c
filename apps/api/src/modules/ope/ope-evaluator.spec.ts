import { createModel } from '@slotwise/bandit';
import { OpeAccumulator } from './ope-evaluator';
import type { LoggedDecisionRow } from './ope.repository';

function decision(
  i: number,
  ids: string[],
  slots: Array<[string, number, number]>,
  scores?: number[],
): LoggedDecisionRow {
  return {
    seq: String(i + 1),
    id: `d${i}`,
    variantKey: 'logs',
    context: [],
    shortlist: { ids, rankerScores: scores ?? ids.map(() => null as unknown as number), features: ids.map(() => []) },
    slots: slots.map(([itemId, propensity, reward], j) => ({
      position: j + 1,
      itemId,
      shortlistIndex: ids.indexOf(itemId),
      propensity,
      reward,
    })),
  };
}

describe('OpeAccumulator: target action distributions on logged decisions', () => {
  it('random target: π_e = 1/n exactly, so IPS = mean of r·(1/n)/π_b', async () => {
    const acc = new OpeAccumulator({ type: 'random' }, 2, 0, 1);
    const ids = ['a', 'b', 'c', 'd'];
    await acc.add(
      decision(0, ids, [
        ['a', 0.5, 1],
        ['b', 0.25, 0],
      ]),
    );
    await acc.add(
      decision(1, ids, [
        ['c', 0.2, 1],
        ['d', 0.4, 1],
      ]),
    );
    const r = acc.evaluate({ estimators: ['ips'], alpha: 0.05 });
    const expected = (0.25 / 0.5 + 0 + 0.25 / 0.2 + 0.25 / 0.4) / 4;
    expect(r.estimates[0].value).toBeCloseTo(expected, 14);
    expect(r.n).toBe(4);
    expect(r.warnings).toEqual([]);
  });

  it('ranker target on logs of a deterministic policy: missing support is flagged', async () => {
    const acc = new OpeAccumulator({ type: 'ranker' }, 1, 0, 1);
    // logged: "b" shown with propensity 1; the ranker target puts all mass on "a" (higher score)
    for (let i = 0; i < 5; i++) await acc.add(decision(i, ['a', 'b'], [['b', 1, 1]], [0.9, 0.1]));
    const r = acc.evaluate({ estimators: ['ips', 'snips'], alpha: 0.05 });
    expect(r.estimates[0].value).toBe(0);
    expect(r.warnings[0]).toMatch(/^Missing support: .* 100\.0% /);
  });

  it('epsilon-greedy target: ε/n + (1 − ε) on the top item by posterior mean', async () => {
    const model = createModel({ type: 'beta' });
    for (let t = 0; t < 20; t++) model.observe([], { id: 'a' }, 1);
    for (let t = 0; t < 20; t++) model.observe([], { id: 'b' }, 0);
    const acc = new OpeAccumulator({ type: 'epsilon-greedy', epsilon: 0.2, model }, 1, 0, 1);
    await acc.add(decision(0, ['a', 'b'], [['a', 0.5, 1]]));
    await acc.add(decision(1, ['a', 'b'], [['b', 0.5, 1]]));
    const r = acc.evaluate({ estimators: ['ips'], alpha: 0.05 });
    expect(r.estimates[0].value).toBeCloseTo(((0.1 + 0.8) / 0.5 + 0.1 / 0.5) / 2, 14);
  });

  it('Thompson target: Monte-Carlo shares are valid probabilities (regression: 11 × 1/11 summed to 1.0000000000000002)', async () => {
    const model = createModel({ type: 'beta' });
    const acc = new OpeAccumulator({ type: 'thompson', model, draws: 11 }, 1, 0, 7);
    for (let i = 0; i < 3; i++) await acc.add(decision(i, ['only'], [['only', 1, i % 2]]));
    const r = acc.evaluate({ estimators: ['ips'], alpha: 0.05 });
    expect(r.maxWeight).toBe(1);
    expect(r.estimates[0].value).toBeCloseTo(1 / 3, 14);
  });
});
