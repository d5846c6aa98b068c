import { Rng } from '@slotwise/bandit';
import { normalQuantile } from '@slotwise/stats';

/** A two-sided (1 − α) confidence interval for the mean of an estimator's round terms. */
export interface ConfidenceInterval {
  method: 'normal' | 'bootstrap';
  /** 1 − α */
  level: number;
  lower: number;
  upper: number;
}

function checkSamples(x: ArrayLike<number>, alpha: number): void {
  if (x.length < 2) throw new RangeError(`an interval needs at least 2 rounds, got ${x.length}`);
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: ${alpha} must be in (0, 1)`);
}

/** Standard error of the mean, s / √n with the sample standard deviation s (denominator n − 1). */
export function standardError(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) throw new RangeError(`a standard error needs at least 2 rounds, got ${n}`);
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
  return Math.sqrt(ss / (n - 1) / n);
}

/**
 * Normal (Wald) interval: mean ± z_{1−α/2} · s/√n over the estimator's round terms (CLT; for SNIPS/SNDR the
 * normaliser E_n[w] is treated as fixed, as OBP's bootstrap over round rewards does).
 */
export function normalInterval(
  roundRewards: ArrayLike<number>,
  alpha = 0.05,
): ConfidenceInterval & { mean: number; standardError: number } {
  checkSamples(roundRewards, alpha);
  let m = 0;
  for (let i = 0; i < roundRewards.length; i++) m += roundRewards[i];
  m /= roundRewards.length;
  const se = standardError(roundRewards);
  const z = normalQuantile(1 - alpha / 2);
  return { method: 'normal', level: 1 - alpha, mean: m, standardError: se, lower: m - z * se, upper: m + z * se };
}

/**
 * The q-quantile (q in [0, 1]) of ascending-sorted values with linear interpolation between order statistics
 * (NumPy's default `percentile` method, Hyndman & Fan type 7).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13), as OBP's
 * `estimate_confidence_interval_by_bootstrap`: B resamples of the n round terms with replacement, each index
 * drawn as ⌊U·n⌋ from the injected seeded generator (libs/bandit's Rng, so reports are reproducible), and the
 * α/2 and 1 − α/2 quantiles (type 7) of the B resample means. Cost O(B·n).
 */
export function bootstrapInterval(
  roundRewards: ArrayLike<number>,
  options: { rng: Rng; alpha?: number; nBootstrap?: number },
): ConfidenceInterval & { means: Float64Array } {
  const alpha = options.alpha ?? 0.05;
  const b = options.nBootstrap ?? 1000;
  checkSamples(roundRewards, alpha);
  if (!(Number.isInteger(b) && b >= 1)) throw new RangeError(`nBootstrap: ${b} must be a positive integer`);
  const n = roundRewards.length;
  const means = new Float64Array(b);
  for (let j = 0; j < b; j++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += roundRewards[Math.floor(options.rng.uniform() * n)];
    means[j] = s / n;
  }
  const sorted = Float64Array.from(means).sort();
  return {
    method: 'bootstrap',
    level: 1 - alpha,
    lower: quantileSorted(sorted, alpha / 2),
    upper: quantileSorted(sorted, 1 - alpha / 2),
    means,
  };
}
