import { createRng, HybridModel, type HybridSnapshot, nonFiniteStatistic } from '@slotwise/bandit';
import { ServingState } from './serving-state';
import { packStats } from './stats-codec';

const rng = createRng(5);
const vector = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const items = Array.from({ length: 4 }, (_, i) => ({ id: `item-${i}`, features: vector(3) }));
const contexts = Array.from({ length: 6 }, () => vector(2));
const fresh = () => HybridModel.create({ contextDim: 2, itemDim: 3 });
// takePending's delta has Float64Array leaves (packed for the flush), takeDelta()'s plain arrays: compare the numbers
const json = (s: unknown) => JSON.stringify(s, (_k, v: unknown) => (v instanceof Float64Array ? Array.from(v) : v));

describe('ServingState: a pending delta and its pending row ids move together', () => {
  it('takePending returns exactly the recorded decisions and rewards and the delta of their effects', () => {
    const state = new ServingState(fresh());
    const reference = fresh();
    state.recordDecision('d1', contexts[0], [
      { candidate: items[0], slot: 0 },
      { candidate: items[1], slot: 1 },
    ]);
    state.recordReward(['7', '8'], contexts[0], items[1], 0, 1, 1);
    reference.observe(contexts[0], items[0], 0);
    reference.observe(contexts[0], items[1], 0);
    reference.correct(contexts[0], items[1], 0, 1);
    expect(state.hasPending).toBe(true);
    const taken = state.takePending()!;
    expect({ decisionIds: taken.decisionIds, rewardSeqs: taken.rewardSeqs }).toEqual({
      decisionIds: ['d1'],
      rewardSeqs: ['7', '8'],
    });
    expect(json(taken.delta)).toBe(json(reference.takeDelta()));
    expect(state.hasPending).toBe(false);
    expect(state.takePending()).toBeNull();
  });

  it('recordDecision leaves the model exactly as observe per shown slot (hybrid: one rank-k factor update)', () => {
    const state = new ServingState(fresh());
    const reference = fresh();
    for (let t = 0; t < 12; t++) {
      const shown = [0, 1, 2, 3].map((i) => ({ candidate: items[(i + t) % 4], slot: i }));
      state.recordDecision(`d${t}`, contexts[t % 6], shown);
      for (const s of shown) reference.observe(contexts[t % 6], s.candidate, 0);
    }
    const model = state.model as HybridModel;
    expect(json(model.snapshot())).toBe(json(reference.snapshot()));
    const [a, b] = [model.posterior(), reference.posterior()];
    expect([Array.from(a.A0), Array.from(a.beta)]).toEqual([Array.from(b.A0), Array.from(b.beta)]);
    expect(Array.from(model.prepare(contexts[0], items).mean)).toEqual(
      Array.from(reference.prepare(contexts[0], items).mean),
    );
  });

  it('restorePending puts a failed flush back in front of what arrived meanwhile; the next take has both', () => {
    const state = new ServingState(fresh());
    state.recordDecision('d1', contexts[1], [{ candidate: items[2], slot: 0 }]);
    const failed = state.takePending()!;
    state.recordDecision('d2', contexts[2], [{ candidate: items[3], slot: 0 }]);
    state.restorePending(failed);
    const both = state.takePending()!;
    expect(both.decisionIds).toEqual(['d1', 'd2']);
    const reference = fresh();
    reference.observe(contexts[1], items[2], 0);
    reference.observe(contexts[2], items[3], 0);
    expect((both.delta as HybridSnapshot).stats.n).toBe(2);
    expect(Array.from((both.delta as HybridSnapshot).stats.zr)).toEqual(
      (reference.takeDelta() as HybridSnapshot).stats.zr,
    );
  });

  it('an in-doubt flush is dropped when it committed and restored with its rows when it did not', () => {
    const state = new ServingState(fresh());
    state.recordDecision('d1', contexts[3], [{ candidate: items[0], slot: 0 }]);
    state.markInDoubt(state.takePending()!);
    state.settle(true);
    expect(state.inDoubt).toBeNull();
    expect(state.hasPending).toBe(false);
    state.recordDecision('d2', contexts[4], [{ candidate: items[1], slot: 0 }]);
    state.markInDoubt(state.takePending()!);
    state.settle(false);
    expect(state.takePending()!.decisionIds).toEqual(['d2']);
  });

  it('quarantine drops what is pending, ignores later decisions, and replaces the model by its prior', () => {
    const replaced: unknown[] = [];
    const state = new ServingState(fresh(), (m) => replaced.push(m));
    state.recordDecision('d1', contexts[5], [{ candidate: items[2], slot: 0 }]);
    state.enterQuarantine('test');
    expect(state.quarantine?.reason).toBe('test');
    expect(state.hasPending).toBe(false);
    expect(replaced).toEqual([state.model]);
    expect(json(state.model.snapshot())).toBe(json(fresh().snapshot()));
    state.recordDecision('d2', contexts[5], [{ candidate: items[2], slot: 0 }]);
    expect(state.hasPending).toBe(false);
  });

  it('a flush of a representative posterior takes typed buffers: no per-number copy on the event loop', () => {
    // the rank bench's shape: hybrid 16 × 16 (d_z = 289), 200 catalog items, 1,000 pending shown slots
    const state = new ServingState(HybridModel.create({ contextDim: 16, itemDim: 16 }));
    const r = createRng(13);
    const vec = (k: number) => Float64Array.from({ length: k }, () => r.normal() / Math.sqrt(k));
    const catalog = Array.from({ length: 200 }, (_, i) => ({ id: `item-${i}`, features: vec(16) }));
    for (let t = 0; t < 200; t++)
      state.recordDecision(
        `d${t}`,
        vec(16),
        Array.from({ length: 5 }, (_, slot) => ({ candidate: catalog[r.int(200)], slot })),
      );
    const taken = state.takePending()!;
    const { items, ...shared } = (taken.delta as HybridSnapshot).stats;
    expect(nonFiniteStatistic(taken.delta.stats)).toBeNull();
    const packed = [packStats(shared), ...Object.values(items).map((it) => packStats(it))];
    // Structure, not wall-clock (timings under jest on a shared machine are not the product's): every number array
    // is a Float64Array the model handed over, so packing is one copy per array; before, ~10⁶ doubles became JS
    // numbers one by one (50–730 ms of blocked event loop in the rank profile; ~20–30 ms warm in plain Node now).
    const leaves = [shared.zz, shared.zr, ...Object.values(items).flatMap((it) => [it.xx, it.zx, it.xr])];
    expect(leaves.every((a) => a instanceof Float64Array)).toBe(true);
    expect(Object.keys(items).length).toBeGreaterThan(150);
    expect(packed.reduce((s, p) => s + p.values.byteLength, 0)).toBeGreaterThan(8 * 200 * 289 * 17 * 0.75);
    // the model goes on with a fresh delta: the taken buffers are no longer written
    const zr = Float64Array.from(shared.zr);
    state.recordDecision('next', vec(16), [{ candidate: catalog[0], slot: 0 }]);
    expect(Array.from(shared.zr)).toEqual(Array.from(zr));
  });
});
