import { ArmSummary } from './types';

/** Per-arm summary of a pair of per-unit values (numerator/denominator, or metric Y/covariate X). */
export interface BivariateSummary {
  n: number;
  meanX: number;
  meanY: number;
  /** sample variance of X (ddof = 1) */
  varianceX: number;
  /** sample variance of Y (ddof = 1) */
  varianceY: number;
  /** sample covariance of X and Y (ddof = 1) */
  covarianceXY: number;
}

/**
 * Summary from SHIFTED sums: n = COUNT(*), sum = Σ(v − shift), sumSquares = Σ(v − shift)²; mean = shift + sum/n,
 * variance = (sumSquares − sum²/n)/(n − 1). The subtraction loses about log10(((mean − shift)/sd)²) digits, so
 * `shift` must be a value near the data (e.g. one of them, or the arm's mean from an earlier pass): with shift = 0
 * and values 1e9 ± 1 every digit cancels (Chan, Golub & LeVeque 1983, "Algorithms for computing the sample
 * variance"). shift = 0 is only right for data whose mean is not large against its spread (e.g. 0/1 values).
 * Variance is clamped at 0 (rounding can make it slightly negative) and is 0 when n < 2.
 */
export function summaryFromSums(n: number, sum: number, sumSquares: number, shift = 0): ArmSummary {
  if (!(n > 0)) return { n: 0, mean: 0, variance: 0 };
  const shiftedMean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSquares - sum * shiftedMean) / (n - 1)) : 0;
  return { n, mean: shift + shiftedMean, variance };
}

/**
 * Summary of raw values: two passes over values shifted by the first one, with the Chan–Golub–LeVeque correction
 * term (Σd)²/n, so a large common offset (1e9 ± 1) costs no digits.
 */
export function summarize(values: ArrayLike<number>): ArmSummary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, variance: 0 };
  const shift = values[0];
  let s = 0;
  for (let i = 0; i < n; i++) s += values[i] - shift;
  const mean = shift + s / n;
  let m2 = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    m2 += d * d;
    c += d;
  }
  return { n, mean, variance: n > 1 ? Math.max(0, (m2 - (c * c) / n) / (n - 1)) : 0 };
}

/**
 * Bivariate summary from SQL aggregates SUM(x), SUM(y), SUM(x*x), SUM(y*y), SUM(x*y). Same cancellation as
 * summaryFromSums with shift 0: only for values that are small against their spread; otherwise pass centred
 * moments (SQL var_samp / covar_samp) directly as a BivariateSummary.
 */
export function bivariateFromSums(
  n: number,
  sumX: number,
  sumY: number,
  sumXX: number,
  sumYY: number,
  sumXY: number,
): BivariateSummary {
  if (!(n > 0)) return { n: 0, meanX: 0, meanY: 0, varianceX: 0, varianceY: 0, covarianceXY: 0 };
  const meanX = sumX / n;
  const meanY = sumY / n;
  if (n < 2) return { n, meanX, meanY, varianceX: 0, varianceY: 0, covarianceXY: 0 };
  return {
    n,
    meanX,
    meanY,
    varianceX: Math.max(0, (sumXX - sumX * meanX) / (n - 1)),
    varianceY: Math.max(0, (sumYY - sumY * meanY) / (n - 1)),
    covarianceXY: (sumXY - sumX * meanY) / (n - 1),
  };
}

/** Bivariate summary of raw paired values (two-pass over values shifted by the first pair, numerically stable). */
export function summarizePairs(xs: ArrayLike<number>, ys: ArrayLike<number>): BivariateSummary {
  const n = Math.min(xs.length, ys.length);
  if (n === 0) return { n: 0, meanX: 0, meanY: 0, varianceX: 0, varianceY: 0, covarianceXY: 0 };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i] - xs[0];
    sy += ys[i] - ys[0];
  }
  const meanX = xs[0] + sx / n;
  const meanY = ys[0] + sy / n;
  let vx = 0;
  let vy = 0;
  let cxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - meanX;
    const dy = ys[i] - meanY;
    vx += dx * dx;
    vy += dy * dy;
    cxy += dx * dy;
  }
  const d = n > 1 ? n - 1 : 1;
  return n > 1
    ? { n, meanX, meanY, varianceX: vx / d, varianceY: vy / d, covarianceXY: cxy / d }
    : { n, meanX, meanY, varianceX: 0, varianceY: 0, covarianceXY: 0 };
}

/** True when every value is a finite number. */
export function allFinite(...values: number[]): boolean {
  return values.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** Validation shared by the two-arm tests: returns a reason or null. */
export function checkArms(control: ArmSummary, treatment: ArmSummary): string | null {
  if (!allFinite(control.n, control.mean, control.variance, treatment.n, treatment.mean, treatment.variance)) {
    return 'inputs must be finite numbers';
  }
  if (control.variance < 0 || treatment.variance < 0) return 'variances must not be negative';
  if (control.n < 2 || treatment.n < 2) {
    return `each arm needs at least 2 units (control has ${control.n}, treatment has ${treatment.n})`;
  }
  return null;
}
