import {
  alwaysValidTest,
  ArmSummary,
  bayesianComparison,
  BivariateSummary,
  cupedTest,
  Interval,
  MetricDirection,
  ratioEstimate,
  RatioArmSummary,
  ratioMetricTest,
  relativeLift,
  welchTTest,
} from '@slotwise/stats';
import type { MomentAggregate } from './reports.repository';

/**
 * Pure report maths on SQL aggregates (libs/stats does the statistics; this file maps aggregates to its inputs and
 * its results to the report's fields). No NaN or ±Infinity leaves this file: numbers that cannot be computed are
 * null, with a `reason`.
 */

export type MetricShape = 'plain' | 'ratio';

export interface VariantStats {
  variant: string;
  units: number;
  /** Σ of the unit values (ratio / mean metrics: Σ numerator) */
  sum: number;
  /** mean unit value (ratio / mean metrics: Σ numerator / Σ denominator) */
  mean: number | null;
  /** sample standard deviation of the unit values (ratio / mean metrics: of the linearised unit values, √(n·Var(R))) */
  stdDev: number | null;
  /** ratio / mean metrics: Σ denominator */
  denominatorSum?: number;
}

export interface ComparisonResult {
  variant: string;
  baseline: string;
  absoluteLift: number | null;
  /** (mean_t − mean_c) / |mean_c| (ratio metrics: of the ratios); null when the control is not clearly away from 0 */
  relativeLift: number | null;
  /** why relativeLift is null (null when it is given) */
  relativeLiftReason: string | null;
  ci: Interval | null;
  relativeCi: Interval | null;
  pValue: number | null;
  adjustedPValue: number | null;
  /** two-sided p-value of the relative-scale test (delta method, normal), and adjusted like pValue */
  relativePValue: number | null;
  relativeAdjustedPValue: number | null;
  /** significance on `significance.basis` (the fixed-horizon absolute test, or the always-valid one) */
  significant: boolean;
  /**
   * Significance per scale, each adjusted for multiple testing: `absolute` (Welch / delta-method test of the
   * difference), `relative` (delta-method test of the relative lift: its interval excludes 0 at the adjusted level),
   * `alwaysValid` (mSPRT). `basis` names the one `significant` copies. The absolute and relative tests are
   * different approximations and can disagree near the threshold; `agree` says whether they do.
   */
  significance: {
    basis: 'fixed-horizon' | 'always-valid';
    absolute: boolean;
    relative: boolean | null;
    alwaysValid: boolean;
    agree: boolean | null;
  };
  /** standard error of absoluteLift */
  standardError: number | null;
  /** standard error of relativeLift (delta method) */
  relativeStandardError: number | null;
  test: 'welch' | 'delta-method';
  degreesOfFreedom: number | null;
  sequential: { pValue: number | null; ci: Interval | null; adjustedPValue: number | null; tuningN: number };
  /** Gaussian approximation of the absolute difference (flat prior), signed by the metric's direction; losses in metric units */
  bayesian: {
    chanceToBeatBaseline: number | null;
    expectedLoss: number | null;
    expectedLossControl: number | null;
    scale: 'absolute';
  };
  cuped?: { applied: boolean; theta: number | null; varianceReduction: number | null; note: string | null };
  reason: string | null;
}

export interface CompareOptions {
  alpha: number;
  tuningN: number;
  direction: MetricDirection;
  cuped: boolean;
  /** previous look (time series): carries the running minimum p-value and intersected interval */
  previous?: { pValue: number | null; ci: Interval | null } | null;
}

const finiteOrNull = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

/** A plain metric's arm from the SQL moments (avg / var_samp: stable at any offset). */
export function plainArm(a: MomentAggregate): ArmSummary {
  return { n: a.units, mean: a.units > 0 ? a.moments.meanY : 0, variance: a.units > 1 ? a.moments.varianceY : 0 };
}

/** A ratio / mean metric's arm (Y = numerator, D = denominator) from the SQL moments. */
export function ratioArm(a: MomentAggregate): RatioArmSummary {
  const m = a.moments;
  const two = a.units > 1;
  return {
    n: a.units,
    meanNumerator: a.units > 0 ? m.meanY : 0,
    meanDenominator: a.units > 0 ? (m.meanD ?? 0) : 0,
    varianceNumerator: two ? m.varianceY : 0,
    varianceDenominator: two ? (m.varianceD ?? 0) : 0,
    covariance: two ? (m.covarianceYD ?? 0) : 0,
    ...(two && m.linearizedVariance !== undefined ? { linearizedVariance: m.linearizedVariance } : {}),
  };
}

/** The CUPED pair (X = pre-exposure covariate, Y = metric) of an arm, or null without the covariate moments. */
export function cupedArm(a: MomentAggregate): BivariateSummary | null {
  const m = a.moments;
  if (m.meanX === undefined) return null;
  const two = a.units > 1;
  return {
    n: a.units,
    meanX: m.meanX,
    meanY: m.meanY,
    varianceX: two ? (m.varianceX ?? 0) : 0,
    varianceY: two ? m.varianceY : 0,
    covarianceXY: two ? (m.covarianceYX ?? 0) : 0,
  };
}

/** A ratio arm as an ArmSummary with mean R and variance n·Var(R): Welch / relative-lift / mSPRT / Bayesian maths on it equal the delta method. */
export function ratioPseudoArm(a: MomentAggregate): ArmSummary | null {
  const e = ratioEstimate(ratioArm(a));
  return e ? { n: a.units, mean: e.ratio, variance: a.units * e.variance } : null;
}

export function variantStats(a: MomentAggregate, shape: MetricShape): VariantStats {
  if (shape === 'plain') {
    const s = plainArm(a);
    return {
      variant: a.variant,
      units: a.units,
      sum: a.sum,
      mean: a.units > 0 ? s.mean : null,
      stdDev: a.units > 1 ? Math.sqrt(s.variance) : null,
    };
  }
  const den = a.denominator?.sum ?? 0;
  const pseudo = ratioPseudoArm(a);
  return {
    variant: a.variant,
    units: a.units,
    sum: a.sum,
    mean: den !== 0 ? a.sum / den : null,
    stdDev: pseudo ? Math.sqrt(pseudo.variance) : null,
    denominatorSum: den,
  };
}

/** Compare one treatment variant with the baseline on one metric. */
export function compare(
  baselineAgg: MomentAggregate,
  treatmentAgg: MomentAggregate,
  shape: MetricShape,
  o: CompareOptions,
): ComparisonResult {
  const out: ComparisonResult = {
    variant: treatmentAgg.variant,
    baseline: baselineAgg.variant,
    absoluteLift: null,
    relativeLift: null,
    relativeLiftReason: null,
    ci: null,
    relativeCi: null,
    pValue: null,
    adjustedPValue: null,
    relativePValue: null,
    relativeAdjustedPValue: null,
    significant: false,
    significance: { basis: 'fixed-horizon', absolute: false, relative: null, alwaysValid: false, agree: null },
    standardError: null,
    relativeStandardError: null,
    test: shape === 'plain' ? 'welch' : 'delta-method',
    degreesOfFreedom: null,
    sequential: { pValue: null, ci: null, adjustedPValue: null, tuningN: o.tuningN },
    bayesian: { chanceToBeatBaseline: null, expectedLoss: null, expectedLossControl: null, scale: 'absolute' },
    reason: null,
  };
  let arms: [ArmSummary, ArmSummary] | null;
  if (shape === 'plain') {
    const c = plainArm(baselineAgg);
    const t = plainArm(treatmentAgg);
    arms = [c, t];
    let welch = welchTTest(c, t, { alpha: o.alpha });
    let rel = relativeLift(c, t, { alpha: o.alpha });
    if (o.cuped) {
      const bc = cupedArm(baselineAgg);
      const bt = cupedArm(treatmentAgg);
      if (bc && bt) {
        const cu = cupedTest(bc, bt, { alpha: o.alpha });
        out.cuped = {
          applied: cu.reason === null,
          theta: finiteOrNull(cu.theta),
          varianceReduction: finiteOrNull(cu.varianceReduction),
          note: cu.note ?? cu.reason,
        };
        if (cu.reason === null && cu.controlAdjusted && cu.treatmentAdjusted) {
          welch = cu.welch;
          rel = cu.relative;
          arms = [cu.controlAdjusted, cu.treatmentAdjusted];
        }
      } else {
        out.cuped = {
          applied: false,
          theta: null,
          varianceReduction: null,
          note: 'no pre-exposure covariate is available for this metric; reported unadjusted',
        };
      }
    }
    out.absoluteLift = finiteOrNull(welch.difference);
    out.ci = welch.ci;
    out.pValue = finiteOrNull(welch.pValue);
    out.standardError = finiteOrNull(welch.standardError);
    out.degreesOfFreedom = finiteOrNull(welch.degreesOfFreedom);
    out.relativeLift = finiteOrNull(rel.relativeLift);
    out.relativeCi = rel.ci;
    out.relativeStandardError = finiteOrNull(rel.standardError);
    out.relativePValue = finiteOrNull(rel.pValue);
    out.relativeLiftReason = out.relativeLift === null ? rel.reason : null;
    out.reason = welch.reason ?? rel.reason;
  } else {
    if (o.cuped)
      out.cuped = {
        applied: false,
        theta: null,
        varianceReduction: null,
        note: 'CUPED is applied to sum and binary metrics; ratio and mean metrics are reported unadjusted',
      };
    const r = ratioMetricTest(ratioArm(baselineAgg), ratioArm(treatmentAgg), { alpha: o.alpha });
    out.absoluteLift = finiteOrNull(r.difference);
    out.ci = r.ci;
    out.pValue = finiteOrNull(r.pValue);
    out.standardError = finiteOrNull(r.differenceStandardError);
    out.relativeLift = finiteOrNull(r.relativeLift);
    out.relativeCi = r.relativeCi;
    out.relativeStandardError = finiteOrNull(r.relativeStandardError);
    out.relativePValue = finiteOrNull(r.relativePValue);
    out.relativeLiftReason = out.relativeLift === null ? r.reason : null;
    out.reason = r.reason;
    const c = ratioPseudoArm(baselineAgg);
    const t = ratioPseudoArm(treatmentAgg);
    arms = c && t ? [c, t] : null;
  }
  if (arms) {
    const seq = alwaysValidTest(arms[0], arms[1], { alpha: o.alpha, tuningN: o.tuningN, previous: o.previous ?? null });
    out.sequential = { pValue: finiteOrNull(seq.pValue), ci: seq.ci, adjustedPValue: null, tuningN: o.tuningN };
    // The absolute scale: P(difference better than 0) needs no division by the control mean, so it is defined and
    // sign-correct for negative and near-zero baselines alike.
    const b = bayesianComparison(arms[0], arms[1], { alpha: o.alpha, direction: o.direction, scale: 'absolute' });
    out.bayesian = {
      chanceToBeatBaseline: finiteOrNull(b.chanceToBeatBaseline),
      expectedLoss: finiteOrNull(b.expectedLoss),
      expectedLossControl: finiteOrNull(b.expectedLossControl),
      scale: 'absolute',
    };
  }
  return out;
}

/** The empty aggregate of a variant without units. */
export function emptyAggregate(variant: string, shape: MetricShape): MomentAggregate {
  const moments = { meanY: 0, varianceY: 0 };
  return shape === 'plain'
    ? { variant, units: 0, sum: 0, sumSquares: 0, moments }
    : {
        variant,
        units: 0,
        sum: 0,
        sumSquares: 0,
        denominator: { sum: 0, sumSquares: 0, crossProducts: 0 },
        moments: { ...moments, meanD: 0, varianceD: 0, covarianceYD: 0 },
      };
}

/**
 * Fill `significant` and `significance` from the adjusted p-values: `basis` picks the test `significant` copies.
 * The relative test is the delta-method one on relativeLift (its CI excludes 0 iff its unadjusted p < α).
 */
export function markSignificance(c: ComparisonResult, alpha: number, basis: 'fixed-horizon' | 'always-valid'): void {
  const below = (p: number | null) => p !== null && p < alpha;
  const absolute = below(c.adjustedPValue);
  const relative = c.relativeAdjustedPValue === null ? null : below(c.relativeAdjustedPValue);
  const alwaysValid = below(c.sequential.adjustedPValue);
  c.significance = { basis, absolute, relative, alwaysValid, agree: relative === null ? null : relative === absolute };
  c.significant = basis === 'always-valid' ? alwaysValid : absolute;
}
