import { benchDecision, benchHybridObserve, benchLinearUpdate } from './bench';

// Smoke test only: the figures come from `npm run bench`, never from a timed unit test.
describe('bench functions', () => {
  it('return finite figures', () => {
    const u = benchLinearUpdate({ d: 8, updates: 50 });
    expect(u.d).toBe(8);
    expect(Number.isFinite(u.usPerUpdate)).toBe(true);
    const d = benchDecision({
      candidates: 6,
      slots: 2,
      contextDim: 2,
      itemDim: 2,
      propensityDraws: 20,
      decisions: 2,
      items: 10,
    });
    expect(Number.isFinite(d.usPerDecision)).toBe(true);
    expect(d.candidates).toBe(6);
    const o = benchHybridObserve({ contextDim: 2, itemDim: 3, slots: 3, rounds: 2 });
    expect(o.dz).toBe(9);
    expect(Number.isFinite(o.ratio) && Number.isFinite(o.ratioTypescript)).toBe(true);
  });
});
