import { normalQuantile, normalSf } from './distributions';
import { controlNearZeroReason } from './relative-lift';
import { allFinite } from './summaries';
import { Interval } from './types';

/** Per-arm summary of a ratio metric Σnum / Σden over randomization units. */
export interface RatioArmSummary {
  /** number of randomization units */
  n: number;
  /** mean per unit of the numerator */
  meanNumerator: number;
  /** mean per unit of the denominator */
  meanDenominator: number;
  /** sample variance (ddof = 1) of the per-unit numerator */
  varianceNumerator: number;
  /** sample variance (ddof = 1) of the per-unit denominator */
  varianceDenominator: number;
  /** sample covariance (ddof = 1) of numerator and denominator */
  covariance: number;
  /**
   * Optional: the sample variance (ddof = 1) of the linearised unit values N − R·D with R = meanNumerator /
   * meanDenominator, computed directly (e.g. SQL var_samp over the units). It equals σ²_N − 2Rσ_ND + R²σ²_D, but
   * that sum cancels catastrophically when N ≈ R·D per unit at a large R (1e9 ± 1 per visit); given, it replaces
   * the three moments in the delta-method variance.
   */
  linearizedVariance?: number;
}

export interface RatioEstimate {
  /** ratio of means Σnum / Σden */
  ratio: number;
  /** delta-method variance of the ratio */
  variance: number;
}

export interface RatioComparisonResult {
  alpha: number;
  controlRatio: number | null;
  treatmentRatio: number | null;
  /** treatmentRatio − controlRatio */
  difference: number | null;
  differenceStandardError: number | null;
  /** two-sided normal p-value for the difference */
  pValue: number | null;
  ci: Interval | null;
  /** (treatmentRatio − controlRatio) / |controlRatio|; null when the control ratio is not clearly away from 0 */
  relativeLift: number | null;
  relativeStandardError: number | null;
  relativePValue: number | null;
  relativeCi: Interval | null;
  reason: string | null;
}

export interface RatioOptions {
  alpha?: number;
}

/**
 * Delta method for one arm (Deng, Knoblich, Lu 2018, "Applying the Delta Method in Metric Analytics"):
 * R = μ_N/μ_D, Var(R) ≈ (1/n)·[ σ²_N/μ_D² − 2 μ_N σ_ND/μ_D³ + μ_N² σ²_D/μ_D⁴ ] = Var(N − R·D) / (n μ_D²);
 * the last form (with `linearizedVariance`) is the numerically stable one.
 * Returns null when the denominator mean is zero or n < 2.
 */
export function ratioEstimate(arm: RatioArmSummary): RatioEstimate | null {
  const { n, meanNumerator: mn, meanDenominator: md } = arm;
  if (!(n >= 2) || md === 0) return null;
  const variance =
    arm.linearizedVariance !== undefined && Number.isFinite(arm.linearizedVariance)
      ? arm.linearizedVariance / (n * md * md)
      : (arm.varianceNumerator / (md * md) -
          (2 * mn * arm.covariance) / md ** 3 +
          (mn * mn * arm.varianceDenominator) / md ** 4) /
        n;
  return { ratio: mn / md, variance: Math.max(0, variance) };
}

function empty(alpha: number, reason: string, partial: Partial<RatioComparisonResult> = {}): RatioComparisonResult {
  return {
    alpha,
    controlRatio: null,
    treatmentRatio: null,
    difference: null,
    differenceStandardError: null,
    pValue: null,
    ci: null,
    relativeLift: null,
    relativeStandardError: null,
    relativePValue: null,
    relativeCi: null,
    ...partial,
    reason,
  };
}

/**
 * Compare a ratio metric between arms (arms independent). Absolute: Rt − Rc with
 * se² = Var(Rt) + Var(Rc). Relative: (Rt − Rc)/|Rc| (sign of the absolute difference for either sign of Rc;
 * Rt/Rc − 1 when Rc > 0) with se² = Var(Rt)/Rc² + Rt²·Var(Rc)/Rc⁴. Both use a two-sided normal test and
 * z_{1−α/2} intervals. The relative figures are null with a reason when |Rc| ≤ z_{1−α/2}·√Var(Rc) (Fieller's set
 * for Rt/Rc unbounded; see relativeLift).
 */
export function ratioMetricTest(
  control: RatioArmSummary,
  treatment: RatioArmSummary,
  options: RatioOptions = {},
): RatioComparisonResult {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) return empty(0.05, 'alpha must be in (0, 1)');
  const fields = (a: RatioArmSummary) => [
    a.n,
    a.meanNumerator,
    a.meanDenominator,
    a.varianceNumerator,
    a.varianceDenominator,
    a.covariance,
  ];
  if (!allFinite(...fields(control), ...fields(treatment))) return empty(alpha, 'inputs must be finite numbers');
  if (control.n < 2 || treatment.n < 2) {
    return empty(alpha, `each arm needs at least 2 units (control has ${control.n}, treatment has ${treatment.n})`);
  }
  if (control.meanDenominator === 0 || treatment.meanDenominator === 0) {
    return empty(alpha, 'an arm has a zero denominator total: its ratio is undefined');
  }
  const c = ratioEstimate(control) as RatioEstimate;
  const t = ratioEstimate(treatment) as RatioEstimate;
  const base = { controlRatio: c.ratio, treatmentRatio: t.ratio, difference: t.ratio - c.ratio };
  const z = normalQuantile(1 - alpha / 2);
  const se2 = c.variance + t.variance;
  if (!(se2 > 0)) return empty(alpha, 'both arms have zero delta-method variance', base);
  const se = Math.sqrt(se2);
  const result: RatioComparisonResult = {
    ...empty(alpha, '', base),
    differenceStandardError: se,
    pValue: 2 * normalSf(Math.abs(base.difference / se)),
    ci: { lower: base.difference - z * se, upper: base.difference + z * se },
    reason: null,
  };
  if (c.ratio === 0) {
    result.reason = 'control ratio is zero: relative lift is undefined (absolute difference is valid)';
    return result;
  }
  if (!(Math.abs(c.ratio) > z * Math.sqrt(c.variance))) {
    result.reason = controlNearZeroReason(c.ratio, Math.sqrt(c.variance), alpha);
    return result;
  }
  const lift = (t.ratio - c.ratio) / Math.abs(c.ratio);
  const rv = t.variance / c.ratio ** 2 + (t.ratio * t.ratio * c.variance) / c.ratio ** 4;
  result.relativeLift = lift;
  if (rv > 0) {
    const rse = Math.sqrt(rv);
    result.relativeStandardError = rse;
    result.relativePValue = 2 * normalSf(Math.abs(lift / rse));
    result.relativeCi = { lower: lift - z * rse, upper: lift + z * rse };
  }
  return result;
}
