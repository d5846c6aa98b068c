import type { Rng } from '@slotwise/bandit';
import { directMethod, doublyRobust, ips, selfNormalizedDoublyRobust, snips, switchDoublyRobust } from './estimators';
import { bootstrapInterval, normalInterval, quantileSorted, type ConfidenceInterval } from './intervals';
import type { ActionDistribution, BanditLog, EstimatorResult, RewardEstimates } from './types';
import { importanceWeights, weightDiagnostics, type WeightDiagnostics } from './weights';

export interface EvaluateOptions {
  /** q̂ at each round's position (e.g. from `fitRewardModel`); without it only IPS and SNIPS are reported */
  qHat?: RewardEstimates;
  /** λ: clip weights at λ in IPS and DR (default: no clipping) */
  clip?: number;
  /** τ: Switch-DR threshold (default: the clip if given, else the 99th percentile of the weights) */
  switchThreshold?: number;
  /** α for the (1 − α) intervals (default 0.05) */
  alpha?: number;
  /** percentile bootstrap intervals too, from this seeded generator (omitted = normal intervals only) */
  bootstrap?: { rng: Rng; nBootstrap?: number };
}

export interface EstimateReport {
  estimator: string;
  value: number;
  standardError: number;
  normal: ConfidenceInterval;
  bootstrap?: ConfidenceInterval;
}

export interface EvaluationReport {
  n: number;
  /** λ used by IPS and DR (Infinity = no clipping) */
  clip: number;
  /** raw (unclipped) weights; clippedCount counts the weights above the clip */
  weights: WeightDiagnostics;
  /** mean observed reward of the log: the on-policy value of the logging policy */
  loggedValue: number;
  switchThreshold?: number;
  estimates: EstimateReport[];
}

/** Runs every estimator that the inputs allow (IPS, SNIPS; with q̂ also DM, DR, SNDR, Switch-DR) with intervals. */
export function evaluatePolicy(
  log: BanditLog,
  dist: ActionDistribution,
  options: EvaluateOptions = {},
): EvaluationReport {
  const alpha = options.alpha ?? 0.05;
  const clip = options.clip ?? Infinity;
  const results: EstimatorResult[] = [ips(log, dist, { clip }), snips(log, dist)];
  const raw = importanceWeights(log, dist);
  let threshold: number | undefined;
  if (options.qHat) {
    threshold = options.switchThreshold ?? (Number.isFinite(clip) ? clip : percentile(raw, 0.99));
    results.push(
      directMethod(log, dist, options.qHat),
      doublyRobust(log, dist, options.qHat, { clip }),
      selfNormalizedDoublyRobust(log, dist, options.qHat),
      switchDoublyRobust(log, dist, options.qHat, { threshold }),
    );
  }
  let loggedValue = 0;
  for (let i = 0; i < log.reward.length; i++) loggedValue += log.reward[i];
  loggedValue /= log.reward.length;
  return {
    n: log.action.length,
    clip,
    weights: weightDiagnostics(raw, clip),
    loggedValue,
    switchThreshold: threshold,
    estimates: results.map((r) => {
      const normal = normalInterval(r.roundRewards, alpha);
      const report: EstimateReport = {
        estimator: r.estimator,
        value: r.value,
        standardError: normal.standardError,
        normal: { method: 'normal', level: normal.level, lower: normal.lower, upper: normal.upper },
      };
      if (options.bootstrap) {
        const b = bootstrapInterval(r.roundRewards, {
          rng: options.bootstrap.rng,
          alpha,
          nBootstrap: options.bootstrap.nBootstrap,
        });
        report.bootstrap = { method: 'bootstrap', level: b.level, lower: b.lower, upper: b.upper };
      }
      return report;
    }),
  };
}

/** Type-7 quantile of the weights (the default Switch-DR threshold). */
function percentile(x: Float64Array, q: number): number {
  return quantileSorted(Float64Array.from(x).sort(), q);
}
