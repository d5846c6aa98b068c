/**
 * A small, local χ² survival function for this library's own property tests (libs/stats owns the product's
 * statistics; this file deliberately does not depend on it). Numerical Recipes §6.2: series for P(a, x) when
 * x < a + 1, Lentz continued fraction for Q(a, x) otherwise; Lanczos log-gamma.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error around 1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const EPS = 1e-15;
const TINY = 1e-300;
const MAX_ITER = 100_000;

function seriesP(a: number, x: number): number {
  let ap = a;
  let sum = 1 / a;
  let del = sum;
  for (let n = 0; n < MAX_ITER; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

function continuedFractionQ(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - lnGamma(a)) * h;
}

/** Regularized lower incomplete gamma P(a, x). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 0;
  return x < a + 1 ? seriesP(a, x) : 1 - continuedFractionQ(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x) (SciPy `gammaincc`). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return NaN;
  if (x === 0) return 1;
  return x < a + 1 ? 1 - seriesP(a, x) : continuedFractionQ(a, x);
}

/** P(χ²_df > x) (SciPy `chi2.sf`). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** Pearson's χ² goodness of fit of observed counts to expected proportions; df = categories − 1. */
export function pearsonChiSquare(
  observed: readonly number[],
  proportions: readonly number[],
): { chiSquare: number; df: number; pValue: number } {
  const n = observed.reduce((a, b) => a + b, 0);
  const total = proportions.reduce((a, b) => a + b, 0);
  let chi = 0;
  let k = 0;
  observed.forEach((o, i) => {
    const e = (n * proportions[i]) / total;
    if (e > 0) {
      chi += ((o - e) * (o - e)) / e;
      k++;
    } else if (o > 0) chi = Infinity;
  });
  const df = k - 1;
  return { chiSquare: chi, df, pValue: chiSquareSurvival(chi, df) };
}
