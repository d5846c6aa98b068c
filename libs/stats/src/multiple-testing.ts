/**
 * Multiple-testing corrections. Entries that are null (or not a number in [0, 1]) stay null and are
 * left out of the family; the others are adjusted among themselves. Results equal statsmodels
 * `multipletests(p, method='holm')` and `method='fdr_bh'`.
 */

export type PValueAdjustment = 'holm' | 'bh' | 'none';

function valid(p: number | null | undefined): p is number {
  return typeof p === 'number' && p >= 0 && p <= 1;
}

/**
 * Holm (1979) step-down: sort ascending p_(1) ≤ … ≤ p_(m);
 * adj_(i) = min(1, max_{j ≤ i} (m − j + 1) p_(j)).
 */
export function holm(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const idx = pValues.map((p, i) => [p, i] as const).filter((e): e is readonly [number, number] => valid(e[0]));
  idx.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const m = idx.length;
  const out: Array<number | null> = pValues.map(() => null);
  let running = 0;
  idx.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * Benjamini–Hochberg (1995) step-up: adj_(i) = min(1, min_{j ≥ i} m p_(j) / j).
 */
export function benjaminiHochberg(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const idx = pValues.map((p, i) => [p, i] as const).filter((e): e is readonly [number, number] => valid(e[0]));
  idx.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const m = idx.length;
  const out: Array<number | null> = pValues.map(() => null);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = idx[k];
    running = Math.min(running, (m * p) / (k + 1));
    out[i] = Math.min(1, running);
  }
  return out;
}

/** Adjust p-values with the named method ('none' returns them unchanged, invalid entries as null). */
export function adjustPValues(pValues: ReadonlyArray<number | null>, method: PValueAdjustment): Array<number | null> {
  if (method === 'holm') return holm(pValues);
  if (method === 'bh') return benjaminiHochberg(pValues);
  return pValues.map((p) => (valid(p) ? p : null));
}
