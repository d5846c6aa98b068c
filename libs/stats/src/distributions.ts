/**
 * Special functions and distributions, written for full double precision in the tails.
 *
 * Why not jStat: its incomplete-beta continued fraction stops at a relative step of 3e-7 and after
 * 100 iterations (not enough for Welch df in the thousands), its `erfc` is `1 - erf` (no relative
 * precision in the tail) and its log-gamma is a 6-term Lanczos fit. The report must match SciPy to
 * 1e-6 relative, p-values of 1e-30 included, so the few functions we need live here:
 *
 * - log-gamma: Lanczos (g = 7, 9 terms) below 10, Stirling series above;
 * - regularized incomplete gamma P(a, x) / Q(a, x): power series / Lentz continued fraction
 *   (Numerical Recipes §6.2) to machine precision; erfc(z) = Q(1/2, z²), χ² sf = Q(k/2, x/2);
 * - regularized incomplete beta I_x(a, b): Lentz continued fraction (NR §6.4), both x and 1 − x
 *   passed in so that t-tails keep their precision; Student t via I_{ν/(ν+t²)}(ν/2, 1/2);
 * - quantiles by safeguarded Newton iteration on those CDFs (Acklam's start for the normal).
 */

// Local bindings: property look-ups on the global Math object are ~25x slower inside jest's
// sandboxed globals, and these functions sit in hot loops.
const { abs, exp, log, log1p, min, sqrt, tan, PI, SQRT1_2 } = Math;

const EPS = 3e-16; // ~1.5 ulp: stopping tests on |δ − 1| need a reachable threshold
const TINY = 1e-300;
const LN_SQRT_2PI = 0.9189385332046728; // ln √(2π)

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return logGamma(x + 1) - log(x);
  if (x >= 10) {
    const inv = 1 / x;
    const inv2 = inv * inv;
    const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (1 / 1188)))));
    return (x - 0.5) * log(x) - x + LN_SQRT_2PI + series;
  }
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * log(t) - t + log(s);
}

/** ln B(a, b). */
export function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

/** Regularized incomplete gamma functions [P(a, x), Q(a, x)], each with full relative precision. */
function incompleteGamma(a: number, x: number): [number, number] {
  if (x <= 0) return [0, 1];
  const logPrefix = -x + a * log(x) - logGamma(a);
  if (x < a + 1) {
    // series for P
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < 100000; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (abs(del) < abs(sum) * EPS) break;
    }
    const p = sum * exp(logPrefix);
    return [p, 1 - p];
  }
  // continued fraction for Q (modified Lentz)
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (abs(del - 1) < EPS) break;
  }
  const q = h * exp(logPrefix);
  return [1 - q, q];
}

/** Upper regularized incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  return incompleteGamma(a, x)[1];
}

/** Lentz continued fraction for the incomplete beta (NR betacf). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < 200000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (abs(del - 1) < EPS) break;
  }
  return h;
}

/**
 * Regularized incomplete beta I_x(a, b); `y` must equal 1 − x (pass it when it is known more
 * precisely than `1 - x`).
 */
export function regularizedBeta(x: number, a: number, b: number, y: number = 1 - x): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const logFront = a * log(x) + b * log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    return (exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  }
  return 1 - (exp(logFront) * betaContinuedFraction(y, b, a)) / b;
}

/* ------------------------------------------------------------------ normal */

/** Standard normal density. */
export function normalPdf(x: number): number {
  return exp(-0.5 * x * x - LN_SQRT_2PI);
}

/** erfc(z), relative precision kept for large z. */
export function erfc(z: number): number {
  if (z < 0) return 2 - erfc(-z);
  return upperRegularizedGamma(0.5, z * z);
}

/** Standard normal CDF Φ(x). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x * SQRT1_2);
}

/** Standard normal survival function 1 − Φ(x), precise in the upper tail. */
export function normalSf(x: number): number {
  return 0.5 * erfc(x * SQRT1_2);
}

/** Standard normal quantile Φ⁻¹(p), p in (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  if (p > 0.5) return -normalQuantile(1 - p);
  // Acklam's rational approximation (lower region / central region), then Newton steps.
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = sqrt(-2 * log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  for (let i = 0; i < 4; i++) {
    const e = normalCdf(x) - p;
    const u = e / normalPdf(x);
    const step = u / (1 + (x * u) / 2); // Halley
    x -= step;
    if (abs(step) <= 4e-16 * abs(x)) break;
  }
  return x;
}

/* ----------------------------------------------------------------- student t */

/** Student t survival function P(T > t) for ν degrees of freedom. */
export function studentTSf(t: number, df: number): number {
  if (t < 0) return 1 - studentTSf(-t, df);
  const t2 = t * t;
  return 0.5 * regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

/** Student t CDF. */
export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df);
}

/** Two-sided p-value P(|T| > |t|). */
export function studentTTwoSided(t: number, df: number): number {
  const t2 = t * t;
  return regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
}

function studentTPdf(t: number, df: number): number {
  return exp(-((df + 1) / 2) * log1p((t * t) / df) - 0.5 * log(df) - logBeta(df / 2, 0.5));
}

/** Student t quantile for p in (0, 1). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    return NaN;
  }
  if (p > 0.5) return -studentTQuantile(1 - p, df);
  if (p === 0.5) return 0;
  if (df === 1) return -1 / tan(PI * p);
  if (df === 2) return (2 * p - 1) / sqrt(2 * p * (1 - p));
  // Lower tail: find t < 0 with CDF(t) = p. Cornish–Fisher start, bracketed Newton.
  const z = normalQuantile(p);
  let x = z + (z * z * z + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
  if (!(x < 0) || !Number.isFinite(x)) x = z;
  let hi = 0;
  let lo = min(x, -1);
  while (studentTCdf(lo, df) > p) lo *= 2;
  if (x <= lo || x >= hi) x = (lo + hi) / 2;
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(x, df) - p;
    if (f > 0) hi = x;
    else lo = x;
    let next = x - f / studentTPdf(x, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (abs(next - x) <= 4e-16 * abs(x) || hi - lo <= 4e-16 * abs(lo)) return next;
    x = next;
  }
  return x;
}

/* ---------------------------------------------------------------- chi-square */

/** χ² survival function with k degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  if (x <= 0) return 1;
  return upperRegularizedGamma(k / 2, x / 2);
}
