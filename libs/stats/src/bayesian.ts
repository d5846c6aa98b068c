import { normalCdf, normalPdf, normalQuantile } from './distributions';
import { relativeLift } from './relative-lift';
import { checkArms } from './summaries';
import { ArmSummary, Interval, MetricDirection } from './types';

export interface GaussianPrior {
  /** prior mean of the effect (on the chosen scale) */
  mean: number;
  /** prior variance of the effect (> 0) */
  variance: number;
}

export interface BayesianOptions {
  /** effect scale: 'relative' (mean_t/mean_c − 1, delta-method variance; default) or 'absolute' */
  scale?: 'relative' | 'absolute';
  /** optional normal prior on the effect; without it the prior is flat */
  prior?: GaussianPrior | null;
  /** default 'higher-is-better' */
  direction?: MetricDirection;
  /** credible level 1 − alpha, default 0.05 */
  alpha?: number;
}

export interface BayesianResult {
  scale: 'relative' | 'absolute';
  direction: MetricDirection;
  /** data estimate of the effect and its standard error */
  estimate: number | null;
  standardError: number | null;
  posteriorMean: number | null;
  posteriorStdDev: number | null;
  /** P(treatment better than control | data) */
  chanceToBeatBaseline: number | null;
  /** risk of shipping the treatment: E[max(0, −Δ)], Δ = improvement of treatment over control */
  expectedLoss: number | null;
  /** risk of keeping the control: E[max(0, Δ)] */
  expectedLossControl: number | null;
  /** equal-tailed (1 − α) posterior interval of the effect */
  credibleInterval: Interval | null;
  reason: string | null;
}

/**
 * Bayesian comparison with a Gaussian approximation of the effect (as GrowthBook's engine):
 * effect ~ N(estimate, se²) from the data, combined with an optional N(μ0, σ0²) prior by precision
 * weighting: 1/σ²_post = 1/σ0² + 1/se², μ_post = σ²_post (μ0/σ0² + estimate/se²).
 * With Δ the improvement (effect, sign-flipped for lower-is-better) ~ N(m, s²):
 *   chance to beat baseline = Φ(m/s),
 *   expectedLoss (ship treatment) = E[max(0, −Δ)] = s φ(m/s) − m Φ(−m/s),
 *   expectedLossControl (keep control) = E[max(0, Δ)] = s φ(m/s) + m Φ(m/s).
 * Losses are in the units of the effect scale (relative: fraction of the control mean).
 */
export function bayesianComparison(
  control: ArmSummary,
  treatment: ArmSummary,
  options: BayesianOptions = {},
): BayesianResult {
  const scale = options.scale ?? 'relative';
  const direction = options.direction ?? 'higher-is-better';
  const alpha = options.alpha ?? 0.05;
  const empty = (reason: string, estimate: number | null = null): BayesianResult => ({
    scale,
    direction,
    estimate,
    standardError: null,
    posteriorMean: null,
    posteriorStdDev: null,
    chanceToBeatBaseline: null,
    expectedLoss: null,
    expectedLossControl: null,
    credibleInterval: null,
    reason,
  });
  if (!(alpha > 0 && alpha < 1)) return empty('alpha must be in (0, 1)');
  const prior = options.prior ?? null;
  if (prior && !(Number.isFinite(prior.mean) && prior.variance > 0 && Number.isFinite(prior.variance))) {
    return empty('prior needs a finite mean and a positive finite variance');
  }
  const bad = checkArms(control, treatment);
  if (bad) return empty(bad);
  let estimate: number;
  let se: number;
  if (scale === 'absolute') {
    estimate = treatment.mean - control.mean;
    se = Math.sqrt(treatment.variance / treatment.n + control.variance / control.n);
  } else {
    const rel = relativeLift(control, treatment, { alpha });
    if (rel.standardError === null || rel.relativeLift === null)
      return empty(rel.reason ?? 'relative lift unavailable', rel.relativeLift);
    estimate = rel.relativeLift;
    se = rel.standardError;
  }
  if (!(se > 0)) return empty('the effect has zero estimated variance', estimate);
  let mean = estimate;
  let variance = se * se;
  if (prior) {
    const precision = 1 / prior.variance + 1 / variance;
    mean = (prior.mean / prior.variance + estimate / variance) / precision;
    variance = 1 / precision;
  }
  const sd = Math.sqrt(variance);
  const m = direction === 'higher-is-better' ? mean : -mean;
  const u = m / sd;
  const z = normalQuantile(1 - alpha / 2);
  return {
    scale,
    direction,
    estimate,
    standardError: se,
    posteriorMean: mean,
    posteriorStdDev: sd,
    chanceToBeatBaseline: normalCdf(u),
    expectedLoss: Math.max(0, sd * normalPdf(u) - m * normalCdf(-u)),
    expectedLossControl: Math.max(0, sd * normalPdf(u) + m * normalCdf(u)),
    credibleInterval: { lower: mean - z * sd, upper: mean + z * sd },
    reason: null,
  };
}
