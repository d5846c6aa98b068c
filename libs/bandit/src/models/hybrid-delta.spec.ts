import { Rng } from '../rng';
import type { Candidate } from '../types';
import { HybridModel, type HybridSnapshot, type HybridStats } from './hybrid';

/** The statistics with every number array as a plain array (typed or not), for exact comparison. */
function plain(stats: HybridStats): unknown {
  return JSON.parse(JSON.stringify(stats, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v)));
}

describe('HybridModel.takeDelta({ typedArrays: true }) (the flush path)', () => {
  const rng = new Rng(41);
  const vec = (k: number) => Array.from({ length: k }, () => rng.normal());
  const catalog: Candidate[] = Array.from({ length: 12 }, (_, i) => ({ id: `item-${i}`, features: vec(3) }));
  const steps = Array.from({ length: 300 }, () => ({
    context: vec(2),
    item: catalog[rng.int(catalog.length)],
    reward: rng.uniform() < 0.3 ? 1 : 0,
  }));

  it('hands over the same numbers as takeDelta(), leaves the model in the same state, and keeps none of them', () => {
    const a = HybridModel.create({ contextDim: 2, itemDim: 3 });
    const b = HybridModel.create({ contextDim: 2, itemDim: 3 });
    const deltas: Array<[HybridSnapshot, HybridSnapshot]> = [];
    for (let t = 0; t < steps.length; t++) {
      const { context, item, reward } = steps[t];
      a.observe(context, item, reward);
      b.observe(context, item, reward);
      if (t % 7 === 3) {
        a.correct(context, item, reward, reward + 0.5);
        b.correct(context, item, reward, reward + 0.5);
      }
      if (t % 50 === 49) {
        const typed = a.takeDelta({ typedArrays: true });
        const copied = b.takeDelta();
        expect(typed.stats.zz).toBeInstanceOf(Float64Array);
        expect(Object.values(typed.stats.items).every((it) => it.zx instanceof Float64Array)).toBe(true);
        expect(plain(typed.stats)).toEqual(plain(copied.stats));
        expect(JSON.stringify(a.snapshot())).toBe(JSON.stringify(b.snapshot()));
        deltas.push([typed, copied]);
      }
    }
    // later observations went to a fresh delta: the handed-over arrays stayed as they were taken
    for (const [typed, copied] of deltas) expect(plain(typed.stats)).toEqual(plain(copied.stats));
    // and decisions from both models stay identical
    const context = vec(2);
    const sa = a.prepare(context, catalog).draw(new Rng(3));
    const sb = b.prepare(context, catalog).draw(new Rng(3));
    expect(Array.from(sa)).toEqual(Array.from(sb));
  });

  it('restoreDelta of a typed delta (a flush that did not commit) gives back the state before the take', () => {
    const a = HybridModel.create({ contextDim: 2, itemDim: 3 });
    for (const { context, item, reward } of steps.slice(0, 80)) a.observe(context, item, reward);
    const before = JSON.stringify(a.snapshot());
    const pending = plain(a.peekDelta().stats);
    const taken = a.takeDelta({ typedArrays: true });
    a.restoreDelta(taken);
    expect(JSON.stringify(a.snapshot())).toBe(before);
    expect(plain(a.peekDelta().stats)).toEqual(pending);
  });
});
