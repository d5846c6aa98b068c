import { mulberry32 } from './onnx-scorer';
import { topN } from './topn';

/** Reference: full stable sort, descending, NaN last. */
function reference(scores: number[], n: number): number[] {
  const key = (s: number) => (Number.isNaN(s) ? -Infinity : s);
  return scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => key(b.s) - key(a.s) || (Number.isNaN(a.s) ? 1 : 0) - (Number.isNaN(b.s) ? 1 : 0) || a.i - b.i)
    .slice(0, Math.max(0, n))
    .map((x) => x.i);
}

describe('topN', () => {
  it('returns indices by descending score', () => {
    expect(topN([0.1, 0.9, 0.5, 0.7], 3)).toEqual([1, 3, 2]);
    expect(topN(Float32Array.from([3, 1, 2]), 10)).toEqual([0, 2, 1]);
  });

  it('is stable for ties (earlier index first)', () => {
    expect(topN([1, 2, 2, 1, 2], 5)).toEqual([1, 2, 4, 0, 3]);
    expect(topN([5, 5, 5, 5], 2)).toEqual([0, 1]);
  });

  it('ranks NaN below everything, -Infinity above NaN', () => {
    expect(topN([NaN, -Infinity, 0, NaN], 4)).toEqual([2, 1, 0, 3]);
  });

  it('handles n <= 0, fractional n and empty input', () => {
    expect(topN([1, 2], 0)).toEqual([]);
    expect(topN([1, 2], -3)).toEqual([]);
    expect(topN([1, 2, 3], 2.7)).toEqual([2, 1]);
    expect(topN([], 5)).toEqual([]);
  });

  it('agrees with a stable full sort on random inputs with many ties (heap and sort paths)', () => {
    const r = mulberry32(99);
    for (let t = 0; t < 200; t++) {
      const len = 1 + Math.floor(r() * 400);
      const scores = Array.from({ length: len }, () => (r() < 0.02 ? NaN : Math.floor(r() * 20) / 4));
      const n = Math.floor(r() * (len + 2));
      expect(topN(scores, n)).toEqual(reference(scores, n));
      expect(topN(Float32Array.from(scores), 5)).toEqual(reference(Array.from(Float32Array.from(scores)), 5));
    }
  });

  it('shortlists 50 of 2,000', () => {
    const scores = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 2000);
    const top = topN(scores, 50);
    expect(top).toHaveLength(50);
    expect(top.map((i) => scores[i])).toEqual(Array.from({ length: 50 }, (_, k) => 1999 - k));
  });
});
