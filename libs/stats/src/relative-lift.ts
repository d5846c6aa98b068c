import { normalQuantile, normalSf } from './distributions';
import { checkArms } from './summaries';
import { ArmSummary, Interval } from './types';

/** Relative lift (mean_t − mean_c) / |mean_c| with a delta-method normal CI. */
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

const fmt = (x: number) => String(Number(x.toPrecision(4)));

/** Reason for a relative lift left out because the control's (1 − α) interval contains 0. */
export function controlNearZeroReason(mean: number, standardError: number, alpha: number): string {
  return `the control mean (${fmt(mean)}, standard error ${fmt(standardError)}) is not clearly away from zero at α = ${alpha}: relative lift is not reported (the absolute difference is valid)`;
}

function emptyRelative(alpha: number, reason: string, relativeLift: number | null = null): RelativeLiftResult {
  return { alpha, relativeLift, standardError: null, zStatistic: null, pValue: null, ci: null, reason };
}

/**
 * Relative lift L = (x̄_t − x̄_c) / |x̄_c|: the difference in units of the control mean's magnitude, so its sign is
 * the sign of the absolute difference whatever the sign of the control mean (for x̄_c > 0 it is x̄_t/x̄_c − 1).
 * Delta method for independent means: Var(L) ≈ s²_t/(n_t x̄_c²) + x̄_t² s²_c/(n_c x̄_c⁴) (the variance of
 * x̄_t/x̄_c; L = ±(x̄_t/x̄_c − 1)). CI = L ± z_{1−α/2}·se; p = 2·(1 − Φ(|L|/se)).
 *
 * Null with a reason when the control mean is not clearly away from zero: |x̄_c| ≤ z_{1−α/2}·s_c/√n_c, i.e. the
 * control mean's own (1 − α) interval contains 0 — exactly when Fieller's (1 − α) confidence set for the ratio
 * of means is unbounded (Fieller 1954), so no finite relative interval is honest.
 */
export function relativeLift(
  control: ArmSummary,
  treatment: ArmSummary,
  options: RelativeLiftOptions = {},
): RelativeLiftResult {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) return emptyRelative(0.05, 'alpha must be in (0, 1)');
  const bad = checkArms(control, treatment);
  if (bad) return emptyRelative(alpha, bad);
  if (control.mean === 0) return emptyRelative(alpha, 'control mean is zero: relative lift is undefined');
  const mc = control.mean;
  const mt = treatment.mean;
  const z = normalQuantile(1 - alpha / 2);
  const controlSe = Math.sqrt(control.variance / control.n);
  if (!(Math.abs(mc) > z * controlSe)) return emptyRelative(alpha, controlNearZeroReason(mc, controlSe, alpha));
  const lift = (mt - mc) / Math.abs(mc);
  const variance = treatment.variance / (treatment.n * mc * mc) + (mt * mt * control.variance) / (control.n * mc ** 4);
  if (!(variance > 0) || !Number.isFinite(variance)) {
    return emptyRelative(
      alpha,
      'the relative lift has zero (or non-finite) estimated variance',
      Number.isFinite(lift) ? lift : null,
    );
  }
  const standardError = Math.sqrt(variance);
  const zStatistic = lift / standardError;
  const half = z * standardError;
  return {
    alpha,
    relativeLift: lift,
    standardError,
    zStatistic,
    pValue: 2 * normalSf(Math.abs(zStatistic)),
    ci: { lower: lift - half, upper: lift + half },
    reason: null,
  };
}
