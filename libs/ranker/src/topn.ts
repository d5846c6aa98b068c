/**
 * Indices of the `n` highest scores, highest first. Ties keep input order (stable), NaN ranks below every number.
 * `n` larger than the input returns all indices; `n <= 0` returns none.
 *
 * O(len · log n) with a bounded heap, so a shortlist of 50 out of 2,000 candidates does not sort all 2,000.
 */
export function topN(scores: ArrayLike<number>, n: number): number[] {
  const len = scores.length;
  const k = Math.min(Math.max(0, Math.floor(n)), len);
  if (k === 0) return [];
  // a ranks before b: higher score, or equal score and earlier index; NaN ranks after every number.
  const before = (a: number, b: number): boolean => {
    const sa = scores[a];
    const sb = scores[b];
    const na = Number.isNaN(sa);
    const nb = Number.isNaN(sb);
    if (na || nb) return na && nb ? a < b : nb;
    if (sa !== sb) return sa > sb;
    return a < b;
  };
  if (k === len || k * 8 >= len) {
    const idx = Array.from({ length: len }, (_, i) => i);
    idx.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    return idx.slice(0, k);
  }
  // Min-heap (by rank) of the best k so far: the root is the worst kept index.
  const heap: number[] = [];
  const worse = (a: number, b: number): boolean => before(b, a);
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l], heap[m])) m = l;
      if (r < heap.length && worse(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < len; i++) {
    if (heap.length < k) {
      heap.push(i);
      up(heap.length - 1);
    } else if (before(i, heap[0])) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : 1));
}
