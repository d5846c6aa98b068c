import { studentTQuantile, studentTTwoSided } from './distributions';
import { checkArms } from './summaries';
import { ArmSummary, Interval } from './types';

/** Result of Welch's two-sample t-test of treatment − control. */
export interface WelchResult {
  alpha: number;
  /** treatment mean − control mean */
  difference: number | null;
  /** √(s²_t/n_t + s²_c/n_c) */
  standardError: number | null;
  tStatistic: number | null;
  /** Welch–Satterthwaite degrees of freedom */
  degreesOfFreedom: number | null;
  /** two-sided p-value */
  pValue: number | null;
  /** (1 − α) confidence interval for the difference */
  ci: Interval | null;
  reason: string | null;
}

export interface WelchOptions {
  /** significance level, default 0.05 */
  alpha?: number;
}

function emptyWelch(alpha: number, reason: string, difference: number | null = null): WelchResult {
  return {
    alpha,
    difference,
    standardError: null,
    tStatistic: null,
    degreesOfFreedom: null,
    pValue: null,
    ci: null,
    reason,
  };
}

/**
 * Welch's t-test (Welch 1947) for the absolute difference treatment − control with unpooled
 * variances: se² = s²_t/n_t + s²_c/n_c, t = (x̄_t − x̄_c)/se,
 * df = se⁴ / [ (s²_t/n_t)²/(n_t − 1) + (s²_c/n_c)²/(n_c − 1) ],
 * p = 2·P(T_df > |t|), CI = difference ± t_{1−α/2, df}·se.
 * Matches scipy.stats.ttest_ind(equal_var=False) and statsmodels CompareMeans.tconfint_diff(usevar='unequal').
 */
export function welchTTest(control: ArmSummary, treatment: ArmSummary, options: WelchOptions = {}): WelchResult {
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) return emptyWelch(0.05, 'alpha must be in (0, 1)');
  const bad = checkArms(control, treatment);
  if (bad) return emptyWelch(alpha, bad);
  const difference = treatment.mean - control.mean;
  const vt = treatment.variance / treatment.n;
  const vc = control.variance / control.n;
  const se2 = vt + vc;
  if (!(se2 > 0))
    return emptyWelch(alpha, 'both arms have zero variance: the difference has no sampling error to test', difference);
  const standardError = Math.sqrt(se2);
  const df = (se2 * se2) / ((vt * vt) / (treatment.n - 1) + (vc * vc) / (control.n - 1));
  const tStatistic = difference / standardError;
  const pValue = studentTTwoSided(tStatistic, df);
  const half = studentTQuantile(1 - alpha / 2, df) * standardError;
  return {
    alpha,
    difference,
    standardError,
    tStatistic,
    degreesOfFreedom: df,
    pValue,
    ci: { lower: difference - half, upper: difference + half },
    reason: null,
  };
}
