import { createRng, HybridModel, type HybridSnapshot } from '@slotwise/bandit';
import { ServingState } from './serving-state';

const rng = createRng(5);
const vector = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const items = Array.from({ length: 4 }, (_, i) => ({ id: `item-${i}`, features: vector(3) }));
const contexts = Array.from({ length: 6 }, () => vector(2));
const fresh = () => HybridModel.create({ contextDim: 2, itemDim: 3 });
const json = (s: unknown) => JSON.stringify(s);

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
    expect((both.delta as HybridSnapshot).stats.zr).toEqual((reference.takeDelta() as HybridSnapshot).stats.zr);
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
});
