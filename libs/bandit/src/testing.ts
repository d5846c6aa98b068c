/** Test helpers (not exported from the package index). */

/**
 * Asserts |a − e| ≤ rtol·(|e| + 1e-3·‖e‖∞) element-wise: relative for every entry that is not tiny compared with
 * the rest of the array, and absolute at rtol·1e-3·‖e‖∞ for entries that are (e.g. exact zeros of a factor).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-9, what = 'value'): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} ≠ ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const tol = rtol * (Math.abs(e) + 1e-3 * scale);
    if (!(Math.abs(a - e) <= tol))
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
  }
}

export function expectScalar(actual: number, expected: number, rtol = 1e-9, what = 'value'): void {
  expectClose([actual], [expected], rtol, what);
}
