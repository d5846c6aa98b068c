import golden from './__golden__/history.json';
import { addInteractions, countsAsInteraction, HISTORY_CAPACITY, historyMatrix, Interaction } from './history';

type GoldenReward = Interaction & { value: number; arrivedMs: number };
const rewards = golden.rewards as GoldenReward[];

/** Incremental: rewards applied in arrival order, in batches, each batch added to the stored history. */
function incremental(upTo: number, batch: number): Interaction[] {
  let stored: Interaction[] = [];
  const arrived = rewards.filter((r) => r.arrivedMs <= upTo);
  for (let i = 0; i < arrived.length; i += batch) {
    const chunk = arrived.slice(i, i + batch).filter((r) => countsAsInteraction(r.value));
    stored = addInteractions(
      stored,
      chunk.map((r) => ({ itemId: r.itemId, ms: r.ms })),
    );
  }
  return stored;
}

describe('interaction histories against the batch recomputation (tools/features/gen_history_golden.py)', () => {
  expect(golden.capacity).toBe(HISTORY_CAPACITY);
  for (const c of golden.cases) {
    for (const batch of [1, 7, 300]) {
      it(`at arrival ${c.atArrivalMs}, batches of ${batch}`, () => {
        expect(incremental(c.atArrivalMs, batch)).toEqual(c.history);
      });
    }
  }

  it('does not depend on arrival order (late rewards land at their own time)', () => {
    const positive = rewards.filter((r) => countsAsInteraction(r.value)).map((r) => ({ itemId: r.itemId, ms: r.ms }));
    const reversed = [...positive].reverse().reduce<Interaction[]>((h, r) => addInteractions(h, [r]), []);
    expect(reversed).toEqual(golden.cases[golden.cases.length - 1].history);
  });

  it('counts positive finite rewards only', () => {
    expect([1, 0.001, 0, -1, NaN, Infinity].map(countsAsInteraction)).toEqual([true, true, false, false, false, false]);
  });
});

describe('historyMatrix', () => {
  const vectors: Record<string, number[]> = { a: [1, 2], b: [3, 4] };
  it('puts the newest first and zero-pads (unknown items are zero rows too)', () => {
    expect(Array.from(historyMatrix(['b', 'x', 'a'], 4, 2, (id) => vectors[id]))).toEqual([3, 4, 0, 0, 1, 2, 0, 0]);
  });
  it('keeps only the K newest', () => {
    expect(Array.from(historyMatrix(['a', 'b'], 1, 2, (id) => vectors[id]))).toEqual([1, 2]);
  });
  it('refuses a vector of the wrong width', () => {
    expect(() => historyMatrix(['a'], 1, 3, (id) => vectors[id])).toThrow(
      'item "a" has 2 features, the history needs 3',
    );
  });
});
