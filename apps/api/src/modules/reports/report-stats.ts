import {
  alwaysValidTest,
  ArmSummary,
  bayesianComparison,
  bivariateFromSums,
  cupedTest,
  Interval,
  MetricDirection,
  ratioEstimate,
  RatioArmSummary,
  ratioMetricTest,
  relativeLift,
  summaryFromSums,
  welchTTest,
} from '@slotwise/stats';
import type { MetricAggregate } from '../ab/metric-values.repository';

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
  relativeLift: number | null;
  ci: Interval | null;
  relativeCi: Interval | null;
  pValue: number | null;
  adjustedPValue: number | null;
  significant: boolean;
  /** standard error of absoluteLift */
  standardError: number | null;
  /** standard error of relativeLift (delta method) */
  relativeStandardError: number | null;
  test: 'welch' | 'delta-method';
  degreesOfFreedom: number | null;
  sequential: { pValue: number | null; ci: Interval | null; adjustedPValue: number | null; tuningN: number };
  bayesian: { chanceToBeatBaseline: number | null; expectedLoss: number | null; expectedLossControl: number | null };
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

const finiteOrNull = (x: number | null | undefined): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

export function plainArm(a: Pick<MetricAggregate, 'units' | 'sum' | 'sumSquares'>): ArmSummary {
  return summaryFromSums(a.units, a.sum, a.sumSquares);
}

export function ratioArm(a: MetricAggregate): RatioArmSummary {
  const d = a.denominator ?? { sum: 0, sumSquares: 0, crossProducts: 0 };
  // X = denominator, Y = numerator
  const b = bivariateFromSums(a.units, d.sum, a.sum, d.sumSquares, a.sumSquares, d.crossProducts);
  return { n: b.n, meanNumerator: b.meanY, meanDenominator: b.meanX, varianceNumerator: b.varianceY, varianceDenominator: b.varianceX, covariance: b.covarianceXY };
}

/** A ratio arm as an ArmSummary with mean R and variance n·Var(R): Welch / relative-lift / mSPRT / Bayesian maths on it equal the delta method. */
export function ratioPseudoArm(a: MetricAggregate): ArmSummary | null {
  const e = ratioEstimate(ratioArm(a));
  return e ? { n: a.units, mean: e.ratio, variance: a.units * e.variance } : null;
}

export function variantStats(a: MetricAggregate, shape: MetricShape): VariantStats {
  if (shape === 'plain') {
    const s = plainArm(a);
    return { variant: a.variant, units: a.units, sum: a.sum, mean: a.units > 0 ? s.mean : null, stdDev: a.units > 1 ? Math.sqrt(s.variance) : null };
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
export function compare(baselineAgg: MetricAggregate, treatmentAgg: MetricAggregate, shape: MetricShape, o: CompareOptions): ComparisonResult {
  const out: ComparisonResult = {
    variant: treatmentAgg.variant,
    baseline: baselineAgg.variant,
    absoluteLift: null,
    relativeLift: null,
    ci: null,
    relativeCi: null,
    pValue: null,
    adjustedPValue: null,
    significant: false,
    standardError: null,
    relativeStandardError: null,
    test: shape === 'plain' ? 'welch' : 'delta-method',
    degreesOfFreedom: null,
    sequential: { pValue: null, ci: null, adjustedPValue: null, tuningN: o.tuningN },
    bayesian: { chanceToBeatBaseline: null, expectedLoss: null, expectedLossControl: null },
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
      const cc = baselineAgg.covariate;
      const tc = treatmentAgg.covariate;
      if (cc && tc) {
        const bc = bivariateFromSums(baselineAgg.units, cc.sum, baselineAgg.sum, cc.sumSquares, baselineAgg.sumSquares, cc.crossProducts);
        const bt = bivariateFromSums(treatmentAgg.units, tc.sum, treatmentAgg.sum, tc.sumSquares, treatmentAgg.sumSquares, tc.crossProducts);
        const cu = cupedTest(bc, bt, { alpha: o.alpha });
        out.cuped = { applied: cu.reason === null, theta: finiteOrNull(cu.theta), varianceReduction: finiteOrNull(cu.varianceReduction), note: cu.note ?? cu.reason };
        if (cu.reason === null && cu.controlAdjusted && cu.treatmentAdjusted) {
          welch = cu.welch;
          rel = cu.relative;
          arms = [cu.controlAdjusted, cu.treatmentAdjusted];
        }
      } else {
        out.cuped = { applied: false, theta: null, varianceReduction: null, note: 'no pre-exposure covariate is available for this metric; reported unadjusted' };
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
    out.reason = welch.reason ?? rel.reason;
  } else {
    if (o.cuped) out.cuped = { applied: false, theta: null, varianceReduction: null, note: 'CUPED is applied to sum and binary metrics; ratio and mean metrics are reported unadjusted' };
    const r = ratioMetricTest(ratioArm(baselineAgg), ratioArm(treatmentAgg), { alpha: o.alpha });
    out.absoluteLift = finiteOrNull(r.difference);
    out.ci = r.ci;
    out.pValue = finiteOrNull(r.pValue);
    out.standardError = finiteOrNull(r.differenceStandardError);
    out.relativeLift = finiteOrNull(r.relativeLift);
    out.relativeCi = r.relativeCi;
    out.relativeStandardError = finiteOrNull(r.relativeStandardError);
    out.reason = r.reason;
    const c = ratioPseudoArm(baselineAgg);
    const t = ratioPseudoArm(treatmentAgg);
    arms = c && t ? [c, t] : null;
  }
  if (arms) {
    const seq = alwaysValidTest(arms[0], arms[1], { alpha: o.alpha, tuningN: o.tuningN, previous: o.previous ?? null });
    out.sequential = { pValue: finiteOrNull(seq.pValue), ci: seq.ci, adjustedPValue: null, tuningN: o.tuningN };
    const b = bayesianComparison(arms[0], arms[1], { alpha: o.alpha, direction: o.direction, scale: 'relative' });
    out.bayesian = { chanceToBeatBaseline: finiteOrNull(b.chanceToBeatBaseline), expectedLoss: finiteOrNull(b.expectedLoss), expectedLossControl: finiteOrNull(b.expectedLossControl) };
  }
  return out;
}

/** The empty aggregate of a variant without units. */
export function emptyAggregate(variant: string, shape: MetricShape): MetricAggregate {
  return shape === 'plain' ? { variant, units: 0, sum: 0, sumSquares: 0 } : { variant, units: 0, sum: 0, sumSquares: 0, denominator: { sum: 0, sumSquares: 0, crossProducts: 0 } };
}
