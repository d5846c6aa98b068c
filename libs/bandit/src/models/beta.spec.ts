import { Rng } from '../rng';
import { BetaModel } from './beta';

describe('BetaModel (Beta–Bernoulli per item)', () => {
  it('counts fractional rewards as fractional successes; default reward accounting then correction', () => {
    const m = BetaModel.create();
    m.observe([], { id: 'a' }); // shown, reward 0
    m.observe([], { id: 'a' }, 1);
    m.observe([], { id: 'a' });
    m.correct([], { id: 'a' }, 0, 0.25);
    expect(m.params('a')).toEqual({ alpha: 1 + 1.25, beta: 1 + 3 - 1.25 });
    expect(m.params('new')).toEqual({ alpha: 1, beta: 1 });
    expect(m.observations('a')).toBe(3);
    expect(m.observations()).toBe(3);
  });

  it('rejects rewards outside [0, 1] and non-finite values', () => {
    const m = BetaModel.create();
    expect(() => m.observe([], { id: 'a' }, 1.5)).toThrow(RangeError);
    expect(() => m.observe([], { id: 'a' }, Number.NaN)).toThrow(RangeError);
    expect(() => m.correct([], { id: 'a' }, 0, -0.1)).toThrow(RangeError);
  });

  it('posterior mean and sd of the Beta; draws have that mean', () => {
    const m = BetaModel.create({ alpha0: 2, beta0: 3 });
    for (let i = 0; i < 10; i++) m.observe([], { id: 'x' }, i < 4 ? 1 : 0);
    const sc = m.prepare([], [{ id: 'x' }, { id: 'y' }]);
    const a = 6,
      b = 9;
    expect(sc.mean[0]).toBeCloseTo(a / (a + b), 15);
    expect(sc.sdOf(0)).toBeCloseTo(Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1))), 15);
    expect(sc.mean[1]).toBeCloseTo(0.4, 15);
    const r = new Rng(3);
    const out = new Float64Array(2);
    let s = 0;
    const N = 20000;
    for (let t = 0; t < N; t++) {
      sc.redraw(r, out);
      s += out[0];
    }
    expect(Math.abs(s / N - 0.4)).toBeLessThan(5 * (sc.sdOf(0) / Math.sqrt(N)));
  });

  it('deltas: take, restore, merge and rebase are exact', () => {
    const a = BetaModel.create();
    a.observe([], { id: 'i' }, 1);
    a.observe([], { id: 'j' });
    const d1 = a.takeDelta();
    expect(d1.stats.items).toEqual({ i: [1, 1], j: [1, 0] });
    expect(a.peekDelta().stats.items).toEqual({});
    a.restoreDelta(d1); // the write failed: put it back
    expect(a.peekDelta().stats.items).toEqual(d1.stats.items);
    const b = BetaModel.create();
    b.observe([], { id: 'i' });
    b.mergeDelta(a.takeDelta());
    expect(b.params('i')).toEqual({ alpha: 2, beta: 2 });
    // rebase: database sum + still-pending local delta
    const db = BetaModel.create();
    db.mergeDelta(b.takeDelta());
    db.mergeDelta(d1);
    a.observe([], { id: 'k' }, 1); // pending
    a.rebase(db.snapshot());
    expect(a.snapshot().stats.items).toEqual({ i: [2, 1], j: [1, 0], k: [1, 1] });
    expect(() => a.mergeDelta({ ...d1, config: { alpha0: 2, beta0: 1 } })).toThrow(RangeError);
  });

  it('snapshot round-trips through JSON', () => {
    const a = BetaModel.create();
    a.observe([], { id: 'z' }, 0.5);
    const b = BetaModel.fromSnapshot(JSON.parse(JSON.stringify(a.snapshot())));
    expect(b.params('z')).toEqual(a.params('z'));
  });
});
