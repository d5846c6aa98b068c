import { normalInterval } from '@slotwise/ope';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import { buildVariant, ExperimentRuntime, modelSpecFor, type BanditCandidate } from '../rank/experiment-runtime';
import { OpeAccumulator, targetTable } from './ope-evaluator';
import type { LoggedDecisionRow } from './ope.repository';
import { shadowDecision } from './shadow.service';

function runtime(): ExperimentRuntime {
  return new ExperimentRuntime({
    id: '00000000-0000-4000-8000-000000000001',
    key: 'exp',
    slots: 2,
    settings: {
      features: { context: ['age'], item: ['price'] },
      ranker: { model: 'none', shortlist: 50 },
      coldStartThreshold: 100,
    },
    variants: [],
  } as unknown as ExperimentEntity);
}

const candidates = (n: number): BanditCandidate[] =>
  Array.from({ length: n }, (_, i) => ({ id: `i${i}`, features: Float64Array.of(i / n), rankerScore: n - i }));

function logged(i: number, day: string, probs: number[], slots: Array<[number, number, number]>): LoggedDecisionRow {
  const ids = ['a', 'b'];
  return {
    seq: String(i + 1),
    id: `d${i}`,
    variantKey: 'served',
    context: [],
    createdAt: `${day}T12:00:00.000000Z`,
    targetProbs: probs,
    shortlist: { ids, rankerScores: [1, 0], features: [[], []] },
    slots: slots.map(([index, propensity, reward], j) => ({
      position: j + 1,
      itemId: ids[index],
      shortlistIndex: index,
      propensity,
      reward,
    })),
  };
}

describe('shadow decisions', () => {
  it('a random shadow logs its slate with propensities and π = 1/n at every position, from a seed derived from the served one', async () => {
    const v = buildVariant('apprentice', { type: 'random' }, null, null);
    const rt = runtime();
    const d = {
      runtime: rt,
      decisionId: 'dec-1',
      seed: 42,
      context: Float64Array.of(0.3),
      candidates: candidates(4),
      k: 2,
    };
    const a = await shadowDecision(d, v);
    const b = await shadowDecision(d, v);
    expect(a).toEqual(b);
    expect(a.seed).not.toBe(42);
    expect(a.slots).toHaveLength(2);
    expect(new Set(a.slots.map((s) => s.itemId)).size).toBe(2);
    for (const s of a.slots) expect(s.propensity).toBeGreaterThan(0);
    expect(a.probs).toEqual(new Array(8).fill(0.25));
    expect(a.modelVersion).toBe('none+random');
  });

  it('an ε-greedy shadow logs ε/n + (1 − ε) on its greedy slate; rows sum to 1', async () => {
    const spec = {
      type: 'epsilon-greedy' as const,
      epsilon: 0.2,
      model: 'linear' as const,
      lambda: 0.25,
      a0: 6,
      b0: 6,
    };
    const v = buildVariant('eg', spec, modelSpecFor(spec, { contextDim: 1, itemDim: 1, embeddingDim: null }), null);
    const d = {
      runtime: runtime(),
      decisionId: 'dec-2',
      seed: 7,
      context: Float64Array.of(1),
      candidates: candidates(5),
      k: 2,
    };
    const row = await shadowDecision(d, v);
    for (let j = 0; j < 2; j++) {
      const p = row.probs.slice(j * 5, (j + 1) * 5);
      expect(p.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
      expect(p.filter((x) => Math.abs(x - 0.04) < 1e-12)).toHaveLength(4);
      expect(Math.max(...p)).toBeCloseTo(0.84, 12);
    }
  });

  it("targetTable 'logged' takes the logged distribution and pads positions the served request did not ask for", async () => {
    const t = await targetTable(
      { type: 'logged' },
      { context: [], targetProbs: [0.5, 0.5] },
      [{ id: 'a' }, { id: 'b' }],
      2,
      undefined as never,
    );
    expect(Array.from(t)).toEqual([0.5, 0.5, 0, 0]);
  });
});

describe('OpeAccumulator.series: the estimate over time', () => {
  it('IPS per day and cumulative are means of r·π_e/π_b over the rounds of the day / up to it, with normal intervals', async () => {
    const acc = new OpeAccumulator({ type: 'logged' }, 1, 0, 1);
    // π_e(a) = 0.8, π_e(b) = 0.2 at position 1
    const rows = [
      logged(0, '2026-01-01', [0.8, 0.2], [[0, 0.5, 1]]),
      logged(1, '2026-01-01', [0.8, 0.2], [[1, 0.5, 1]]),
      logged(2, '2026-01-01', [0.8, 0.2], [[0, 0.5, 0]]),
      logged(3, '2026-01-02', [0.8, 0.2], [[0, 0.4, 1]]),
      logged(4, '2026-01-02', [0.8, 0.2], [[1, 0.25, 1]]),
    ];
    for (const r of rows) await acc.add(r);
    const { points } = acc.series({ alpha: 0.05 });
    const day1 = [0.8 / 0.5, 0.2 / 0.5, 0];
    const day2 = [0.8 / 0.4, 0.2 / 0.25];
    expect(points.map((p) => [p.day, p.n])).toEqual([
      ['2026-01-01', 3],
      ['2026-01-02', 2],
    ]);
    const check = (
      got: { value: number; ci: { lower: number; upper: number }; stdErr: number } | null,
      terms: number[],
    ) => {
      const want = normalInterval(terms, 0.05);
      expect(got!.value).toBeCloseTo(want.mean, 14);
      expect(got!.stdErr).toBeCloseTo(want.standardError, 14);
      expect(got!.ci.lower).toBeCloseTo(want.lower, 14);
      expect(got!.ci.upper).toBeCloseTo(want.upper, 14);
    };
    check(points[0].daily.ips, day1);
    check(points[1].daily.ips, day2);
    check(points[0].cumulative.ips, day1);
    check(points[1].cumulative.ips, [...day1, ...day2]);
    // the whole-window IPS is the last cumulative point
    const whole = acc.evaluate({ estimators: ['ips'], alpha: 0.05 });
    expect(whole.estimates[0].value).toBeCloseTo(points[1].cumulative.ips!.value, 14);
  });
});
