/**
 * Deferred Monte-Carlo propensities as plain data (issue 13): everything the re-draws of a Gaussian model's decision
 * read — the score means, the factor of their covariance, the noise posterior and the re-draw stream's state — so
 * they can run in another thread (structured clone) and give exactly the numbers of the in-thread computation.
 */
import { NigScoreSampler } from '../models/nig';
import { Rng, type RngState } from '../rng';
import type { SlateScorer } from '../types';
import { monteCarloPropensities, type PropensityError } from './slate';

/** The fixed score distribution of a Gaussian scorer: s = mean + σ F ζ, σ² = bn / Gamma(an, 1), ζ ~ N(0, I_r). */
export interface ScoreDistribution {
  /** n posterior mean scores */
  mean: Float64Array;
  /** n × r, row-major; lower-triangular rows when `lower` (a Cholesky factor of the unit-σ² covariance) */
  F: Float64Array;
  r: number;
  lower: boolean;
  an: number;
  bn: number;
}

export interface PropensityJob extends ScoreDistribution {
  /** the decision's candidate index per slot */
  chosen: Int32Array;
  draws: number;
  maxError: PropensityError;
  /** the re-draw stream's state at decision time */
  rng: RngState;
}

/** A scorer that re-draws from a fixed distribution (the propensity paths of the Gaussian models' scorers). */
function distributionScorer(d: ScoreDistribution): SlateScorer {
  const sampler = new NigScoreSampler(d.mean, d.F, d.r, d.lower, d.an, d.bn);
  return {
    n: d.mean.length,
    mean: d.mean,
    sdOf: () => NaN,
    draw: (rng) => sampler.sample(rng, new Float64Array(d.mean.length)),
    redraw: (rng, out) => void sampler.sample(rng, out),
    redrawMany: (rng, count, out) => void sampler.sampleMany(rng, count, out),
    redrawPairs: (rng, pairs, out) => void sampler.samplePairs(rng, pairs, out),
    redrawPairCounts: (rng, pairs, chosen, counts) => sampler.countPairs(rng, pairs, chosen, counts),
  };
}

/** The job's per-slot propensities: monteCarloPropensities on the job's distribution and stream. */
export function runPropensityJob(job: PropensityJob): number[] {
  return monteCarloPropensities(distributionScorer(job), job.chosen, job.draws, Rng.fromState(job.rng), job.maxError);
}
