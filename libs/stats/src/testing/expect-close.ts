/**
 * Golden-file assertions: relative tolerance 1e-6 by default, absolute 1e-12 for values near zero.
 * `null` expected values must be null (degenerate cases).
 */
export function expectClose(
  actual: number | null | undefined,
  expected: number | null,
  rel = 1e-6,
  abs = 1e-12,
  label = '',
): void {
  if (expected === null) {
    if (actual !== null) throw new Error(`${label}: expected null, got ${actual}`);
    return;
  }
  if (typeof actual !== 'number' || !Number.isFinite(actual)) {
    throw new Error(`${label}: expected ${expected}, got ${actual}`);
  }
  const diff = Math.abs(actual - expected);
  if (diff <= abs) return;
  if (diff <= rel * Math.abs(expected)) return;
  throw new Error(`${label}: expected ${expected}, got ${actual} (relative error ${diff / Math.abs(expected)})`);
}
