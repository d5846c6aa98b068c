import { DEFAULT_COLD_START_THRESHOLD, boundExploration, isCold, summarizeExploration } from './exploration';
import { explainSlate } from './explain';
import { LinearModel } from './models/linear';

describe('exploration helpers', () => {
  it('isCold: fewer than the threshold (default 100) rewarded impressions', () => {
    expect(DEFAULT_COLD_START_THRESHOLD).toBe(100);
    expect(isCold(0)).toBe(true);
    expect(isCold(99)).toBe(true);
    expect(isCold(100)).toBe(false);
    expect(isCold(5, 5)).toBe(false);
    expect(isCold(4, 5)).toBe(true);
    expect(() => isCold(-1)).toThrow(RangeError);
  });
  it('summarizes explore and cold-start rates per slot', () => {
    expect(
      summarizeExploration([
        { explored: true, coldStart: true },
        { explored: false, coldStart: true },
        { explored: false },
        { explored: true },
      ]),
    ).toEqual({ slots: 4, exploredSlots: 2, coldSlots: 2, exploreRate: 0.5, coldStartRate: 0.5 });
    expect(summarizeExploration([]).exploreRate).toBe(0);
  });
  it('bounds exploration into [floor, cap] (default 5–50%)', () => {
    expect(boundExploration(0.01)).toBe(0.05);
    expect(boundExploration(0.9)).toBe(0.5);
    expect(boundExploration(0.2, 0, 1)).toBe(0.2);
    expect(() => boundExploration(0.2, 0.6, 0.5)).toThrow(RangeError);
  });
});

describe('explanations', () => {
  it('gives the top contributions per slot by feature name', () => {
    const m = LinearModel.create({ contextDim: 1, itemDim: 1, featureMap: 'concat' });
    for (let t = 0; t < 50; t++) m.observe([t % 2], { id: 'a', features: [t % 3] }, 3 * (t % 3) - (t % 2));
    const ex = explainSlate(
      m,
      [1],
      [
        { id: 'x', features: [2] },
        { id: 'y', features: [0] },
      ],
      [{ index: 0 }, { index: 1 }],
      { context: ['age'], item: ['price'] },
      2,
    );
    expect(ex[0]).toHaveLength(2);
    expect(ex[0][0].feature).toBe('price');
    expect(ex[1].map((e) => e.feature)).not.toContain('price'); // zero-valued features contribute nothing
  });
});
