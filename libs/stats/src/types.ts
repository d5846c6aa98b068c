/**
 * Shared input / output types of the statistics engine. All inputs are summary statistics so the API
 * can aggregate in SQL. Variances are SAMPLE variances (denominator n − 1, NumPy `ddof=1`).
 * Every result carries `reason`: null when the numbers are valid, otherwise a plain-words explanation
 * and the numbers that cannot be computed are null (never NaN, never ±Infinity, never a throw).
 */

/** Summary of one arm for a per-unit metric. */
export interface ArmSummary {
  /** number of randomization units */
  n: number;
  /** mean of the per-unit metric */
  mean: number;
  /** sample variance of the per-unit metric (ddof = 1) */
  variance: number;
}

/** Closed interval [lower, upper]. */
export interface Interval {
  lower: number;
  upper: number;
}

/** Direction in which a metric is good. */
export type MetricDirection = 'higher-is-better' | 'lower-is-better';
