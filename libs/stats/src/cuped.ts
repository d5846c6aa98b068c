import { relativeLift, RelativeLiftResult } from './relative-lift';
import { allFinite, BivariateSummary } from './summaries';
import { ArmSummary } from './types';
import { welchTTest, WelchResult } from './welch';

/** Per-arm summary of the metric Y and its pre-exposure covariate X (X, Y as in BivariateSummary). */
export type CupedArmSummary = BivariateSummary;

export interface CupedResult {
  alpha: number;
  /** θ = pooled within-arm cov(Y, X) / pooled within-arm var(X) */
  theta: number | null;
  /** n-weighted mean of X over both arms (the centring point) */
  covariateMean: number | null;
  controlAdjusted: ArmSummary | null;
  treatmentAdjusted: ArmSummary | null;
  /** 1 − se²_adjusted / se²_unadjusted of the difference of means */
  varianceReduction: number | null;
  /** per-arm 1 − var(Y_adj) / var(Y) (null for an arm with zero variance of Y) */
  armVarianceReduction: { control: number | null; treatment: number | null };
  /** Welch test on the adjusted values */
  welch: WelchResult;
  /** relative lift of adjusted means (delta method; θ treated as known) */
  relative: RelativeLiftResult;
  reason: string | null;
  /** informational remark (e.g. covariate without variance); numbers stay valid */
  note: string | null;
}

export interface CupedOptions {
  alpha?: number;
}

/**
 * CUPED (Deng, Xu, Kohavi, Walker 2013). With X a pre-exposure covariate:
 *   θ = Σ_k (n_k − 1)·cov_k(Y, X) / Σ_k (n_k − 1)·var_k(X)   (pooled within-arm; the treatment
 *       effect on Y cannot leak into θ; θ = 0 when X has no variance),
 *   Y_adj = Y − θ (X − X̄), X̄ the mean of X over both arms,
 *   mean_adj,k = Ȳ_k − θ (X̄_k − X̄),  var_adj,k = var_k(Y) − 2θ cov_k(Y, X) + θ² var_k(X),
 * then Welch's t-test on the adjusted arms (exactly the Welch test of the adjusted unit values).
 * θ is treated as known, as in the paper (its estimation error is O(1/n)).
 */
export function cupedTest(
  control: CupedArmSummary,
  treatment: CupedArmSummary,
  options: CupedOptions = {},
): CupedResult {
  const alpha = options.alpha ?? 0.05;
  const nullArm = { n: 0, mean: 0, variance: 0 };
  const failed = (reason: string): CupedResult => ({
    alpha,
    theta: null,
    covariateMean: null,
    controlAdjusted: null,
    treatmentAdjusted: null,
    varianceReduction: null,
    armVarianceReduction: { control: null, treatment: null },
    welch: welchTTest(nullArm, nullArm, { alpha }),
    relative: relativeLift(nullArm, nullArm, { alpha }),
    reason,
    note: null,
  });
  const fields = (a: CupedArmSummary) => [a.n, a.meanX, a.meanY, a.varianceX, a.varianceY, a.covarianceXY];
  if (!allFinite(...fields(control), ...fields(treatment))) return failed('inputs must be finite numbers');
  if (control.n < 2 || treatment.n < 2) {
    return failed(`each arm needs at least 2 units (control has ${control.n}, treatment has ${treatment.n})`);
  }
  if (control.varianceX < 0 || treatment.varianceX < 0 || control.varianceY < 0 || treatment.varianceY < 0) {
    return failed('variances must not be negative');
  }
  const pooledVarX = (control.n - 1) * control.varianceX + (treatment.n - 1) * treatment.varianceX;
  const pooledCov = (control.n - 1) * control.covarianceXY + (treatment.n - 1) * treatment.covarianceXY;
  const theta = pooledVarX > 0 ? pooledCov / pooledVarX : 0;
  const covariateMean = (control.n * control.meanX + treatment.n * treatment.meanX) / (control.n + treatment.n);
  const adjust = (a: CupedArmSummary): ArmSummary => ({
    n: a.n,
    mean: a.meanY - theta * (a.meanX - covariateMean),
    variance: Math.max(0, a.varianceY - 2 * theta * a.covarianceXY + theta * theta * a.varianceX),
  });
  const controlAdjusted = adjust(control);
  const treatmentAdjusted = adjust(treatment);
  const welch = welchTTest(controlAdjusted, treatmentAdjusted, { alpha });
  const relative = relativeLift(controlAdjusted, treatmentAdjusted, { alpha });
  const before = control.varianceY / control.n + treatment.varianceY / treatment.n;
  const after = controlAdjusted.variance / control.n + treatmentAdjusted.variance / treatment.n;
  const armReduction = (a: CupedArmSummary, adj: ArmSummary) =>
    a.varianceY > 0 ? 1 - adj.variance / a.varianceY : null;
  return {
    alpha,
    theta,
    covariateMean,
    controlAdjusted,
    treatmentAdjusted,
    varianceReduction: before > 0 ? 1 - after / before : null,
    armVarianceReduction: {
      control: armReduction(control, controlAdjusted),
      treatment: armReduction(treatment, treatmentAdjusted),
    },
    welch,
    relative,
    reason: welch.reason,
    note: pooledVarX > 0 ? null : 'the covariate has no variance, so θ = 0 and CUPED equals the unadjusted test',
  };
}
