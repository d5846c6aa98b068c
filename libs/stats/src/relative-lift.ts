import { normalQuantile, normalSf } from './distributions';
import { checkArms } from './summaries';
import { ArmSummary, Interval } from './types';

/** Relative lift mean_t / mean_c − 1 with a delta-method normal CI. */
export interface RelativeLiftResult {
  alpha: number;
  relativeLift: number | null;
  /** delta-method standard error of mean_t / mean_c */
  standardError: number | null;
  zStatistic: number | null;
  /** two-sided p-value of H0: relative lift = 0 (normal approximation) */
  pValue: number | null;
  ci: Interval | null;
  reason: string | null;
}

export interface RelativeLiftOptions {
  alpha?: number;
}

function emptyRelative(alpha: number, reason: string, relativeLift: number | null = null): RelativeLiftResult {
  return { alpha, relativeLift, standardError: null, zStatistic: null, pValue: null, ci: null, reason };
}

/**
 * Delta method for a ratio of independent means: with r = x̄_t / x̄_c,
 * Var(r) ≈ s²_t/(n_t x̄_c²) + x̄_t² s²_c/(n_c x̄_c⁴).
 * Lift = r − 1; CI = lift ± z_{1−α/2}·se; p = 2·(1 − Φ(|lift|/se)).
 */
export function relativeLift(control: ArmSummary, treatment: ArmSummary, options: RelativeLiftOptions = {}): RelativeLiftResult {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) return emptyRelative(0.05, 'alpha must be in (0, 1)');
  const bad = checkArms(control, treatment);
  if (bad) return emptyRelative(alpha, bad);
  if (control.mean === 0) return emptyRelative(alpha, 'control mean is zero: relative lift is undefined');
  const mc = control.mean;
  const mt = treatment.mean;
  const lift = mt / mc - 1;
  const variance = treatment.variance / (treatment.n * mc * mc) + (mt * mt * control.variance) / (control.n * mc ** 4);
  if (!(variance > 0) || !Number.isFinite(variance)) {
    return emptyRelative(alpha, 'the relative lift has zero (or non-finite) estimated variance', Number.isFinite(lift) ? lift : null);
  }
  const standardError = Math.sqrt(variance);
  const z = lift / standardError;
  const half = normalQuantile(1 - alpha / 2) * standardError;
  return {
    alpha,
    relativeLift: lift,
    standardError,
    zStatistic: z,
    pValue: 2 * normalSf(Math.abs(z)),
    ci: { lower: lift - half, upper: lift + half },
    reason: null,
  };
}
