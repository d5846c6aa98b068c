import {
  countsFromWeights,
  diffAllocations,
  normalizeRanges,
  rangesSize,
  rebalance,
  validateAllocation,
  type Allocation,
} from './ranges';
import { mulberry32 } from './__testutil__/ids';

describe('countsFromWeights (largest remainder)', () => {
  it('sums to 10,000 exactly and breaks ties by declared order', () => {
    expect(countsFromWeights([50, 50])).toEqual([5000, 5000]);
    expect(countsFromWeights([1, 1, 1])).toEqual([3334, 3333, 3333]);
    expect(countsFromWeights([2, 1])).toEqual([6667, 3333]);
    expect(countsFromWeights([0.5, 0.25, 0.25])).toEqual([5000, 2500, 2500]);
    expect(countsFromWeights([0, 1])).toEqual([0, 10000]);
    expect(countsFromWeights([1, 1, 1, 1, 1, 1, 1])).toEqual([1429, 1429, 1429, 1429, 1428, 1428, 1428]);
  });
  it('rejects bad weights', () => {
    expect(() => countsFromWeights([])).toThrow(RangeError);
    expect(() => countsFromWeights([0, 0])).toThrow(RangeError);
    expect(() => countsFromWeights([-1, 2])).toThrow(RangeError);
    expect(() => countsFromWeights([NaN])).toThrow(RangeError);
  });
});

describe('rebalance (the ramp rule)', () => {
  it('a fresh allocation is contiguous in declared order', () => {
    expect(
      rebalance(undefined, [
        { key: 'a', count: 3000 },
        { key: 'b', count: 7000 },
      ]),
    ).toEqual({
      a: [{ start: 0, end: 3000 }],
      b: [{ start: 3000, end: 10000 }],
    });
  });

  it('50/50 → 40/60 moves exactly control buckets [4000, 5000) to treatment', () => {
    const before = rebalance(undefined, [
      { key: 'control', count: 5000 },
      { key: 'treatment', count: 5000 },
    ]);
    const after = rebalance(before, [
      { key: 'control', count: 4000 },
      { key: 'treatment', count: 6000 },
    ]);
    expect(after).toEqual({ control: [{ start: 0, end: 4000 }], treatment: [{ start: 4000, end: 10000 }] });
    expect(diffAllocations(before, after)).toEqual({
      changes: [{ from: 'control', to: 'treatment', range: { start: 4000, end: 5000 } }],
      reassigned: 1000,
      added: 0,
      removed: 0,
    });
  });

  it('adding a fourth variant to 34/33/33 takes the top of each shrinking variant, nothing else moves', () => {
    const before = rebalance(undefined, [
      { key: 'a', count: 3400 },
      { key: 'b', count: 3300 },
      { key: 'c', count: 3300 },
    ]);
    const targets = ['a', 'b', 'c', 'd'].map((key) => ({ key, count: 2500 }));
    const after = rebalance(before, targets);
    expect(after).toEqual({
      a: [{ start: 0, end: 2500 }],
      b: [{ start: 3400, end: 5900 }],
      c: [{ start: 6700, end: 9200 }],
      d: [
        { start: 2500, end: 3400 },
        { start: 5900, end: 6700 },
        { start: 9200, end: 10000 },
      ],
    });
    const d = diffAllocations(before, after);
    expect(d.changes).toEqual([
      { from: 'a', to: 'd', range: { start: 2500, end: 3400 } },
      { from: 'b', to: 'd', range: { start: 5900, end: 6700 } },
      { from: 'c', to: 'd', range: { start: 9200, end: 10000 } },
    ]);
    expect(d.reassigned).toBe(2500);
  });

  it('removing a variant frees its buckets for the variants that grow, lowest first', () => {
    const before: Allocation = {
      a: [{ start: 0, end: 2500 }],
      b: [{ start: 2500, end: 5000 }],
      c: [{ start: 5000, end: 10000 }],
    };
    const after = rebalance(before, [
      { key: 'a', count: 5000 },
      { key: 'c', count: 5000 },
    ]);
    expect(after).toEqual({ a: [{ start: 0, end: 5000 }], c: [{ start: 5000, end: 10000 }] });
    expect(diffAllocations(before, after).changes).toEqual([{ from: 'b', to: 'a', range: { start: 2500, end: 5000 } }]);
  });

  it('unchanged counts move nothing; partial totals leave buckets unowned', () => {
    const a = rebalance(undefined, [
      { key: 'x', count: 1234 },
      { key: 'y', count: 4321 },
    ]);
    expect(
      rebalance(a, [
        { key: 'x', count: 1234 },
        { key: 'y', count: 4321 },
      ]),
    ).toEqual(a);
    expect(rangesSize(a.x) + rangesSize(a.y)).toBe(5555);
  });

  it('moves the minimum Σ max(0, old − new) over 300 random ramp sequences', () => {
    const rand = mulberry32(2026);
    for (let trial = 0; trial < 300; trial++) {
      const k = 2 + Math.floor(rand() * 4);
      const keys = Array.from({ length: k }, (_, i) => `v${i}`);
      let alloc: Allocation | undefined;
      let prevCounts: number[] = new Array<number>(k).fill(0);
      for (let step = 0; step < 4; step++) {
        const counts = countsFromWeights(keys.map(() => Math.floor(rand() * 10)).map((w, i) => (i === 0 ? w + 1 : w)));
        const next = rebalance(
          alloc,
          keys.map((key, i) => ({ key, count: counts[i] })),
        );
        keys.forEach((key, i) => expect(rangesSize(next[key])).toBe(counts[i]));
        if (alloc) {
          const minimum = counts.reduce((s, c, i) => s + Math.max(0, prevCounts[i] - c), 0);
          const d = diffAllocations(alloc, next);
          expect(d.reassigned).toBe(minimum);
          expect(d.added + d.removed).toBe(0);
        }
        alloc = next;
        prevCounts = counts;
      }
    }
  });

  it('rejects impossible targets and overlapping previous allocations', () => {
    expect(() =>
      rebalance(undefined, [
        { key: 'a', count: 6000 },
        { key: 'b', count: 6000 },
      ]),
    ).toThrow(RangeError);
    expect(() =>
      rebalance(undefined, [
        { key: 'a', count: 1 },
        { key: 'a', count: 1 },
      ]),
    ).toThrow(RangeError);
    expect(() =>
      rebalance({ a: [{ start: 0, end: 10 }], b: [{ start: 5, end: 20 }] }, [{ key: 'a', count: 10 }]),
    ).toThrow(/bucket 5/);
  });
});

describe('ranges helpers and validation', () => {
  it('normalizeRanges sorts and merges', () => {
    expect(
      normalizeRanges([
        { start: 5, end: 9 },
        { start: 0, end: 2 },
        { start: 2, end: 4 },
        { start: 8, end: 12 },
        { start: 3, end: 3 },
      ]),
    ).toEqual([
      { start: 0, end: 4 },
      { start: 5, end: 12 },
    ]);
  });
  it('validateAllocation reports field paths', () => {
    expect(
      validateAllocation(
        { a: [{ start: 0, end: 10 }], b: [{ start: 5, end: 20 }, { start: -1, end: 3 }, 'x'], c: 3 },
        'allocation',
      ),
    ).toEqual([
      { path: 'allocation.b[0]', message: 'overlaps the buckets of "a" at bucket 5' },
      { path: 'allocation.b[1].start', message: 'must be an integer in [0, 10000]' },
      { path: 'allocation.b[2]', message: 'must be {start, end}' },
      { path: 'allocation.c', message: 'must be an array of {start, end}' },
    ]);
    expect(validateAllocation([], 'allocation')).toEqual([
      { path: 'allocation', message: 'must be an object of key → bucket ranges' },
    ]);
    expect(validateAllocation({ a: [{ start: 0, end: 10001 }] }, 'allocation')[0].path).toBe('allocation.a[0].end');
  });
});
