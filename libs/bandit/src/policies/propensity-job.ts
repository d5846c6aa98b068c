/**
 * Deferred Monte-Carlo propensities as plain data (issue 13): everything the re-draws of a Gaussian model's decision
 * read — the score means, the factor of their covariance (or, for the hybrid model, the inputs it is formed from),
 * the noise posterior and the re-draw stream's state — so they can run in another thread (structured clone) and give
 * exactly the numbers of the in-thread computation.
 */
import { solvedGram } from '../kernels';
import { choleskySemidefinite } from '../linalg';
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

/**
 * The same distribution before its covariance is formed (the hybrid model): S = Y Yᵀ + diag(v) with Y = G L⁻ᵀ, the
 * unit-σ² score covariance, then F = its semidefinite Cholesky factor. Forming it (n forward solves with the d × d
 * factor, the n × n Gram matrix, the factorisation: ~0.4 ms at n = 50, d = 289) is then the job's work, not the
 * decision's. `L` is a copy (the model's factor moves with the next observation).
 */
export interface ScoreCovarianceInputs {
  /** n posterior mean scores */
  mean: Float64Array;
  /** n × d, row-major */
  G: Float64Array;
  /** n diagonal terms */
  v: Float64Array;
  /** the d × d lower-triangular factor, its lower triangle packed by rows (row i from offset i(i + 1)/2) */
  L: Float64Array;
  d: number;
  an: number;
  bn: number;
}

/** S = (G L⁻ᵀ)(G L⁻ᵀ)ᵀ + diag(v) (n × n): the kernels' solvedGram, so the numbers equal the model's own covariance(). */
export function covarianceFromInputs(c: ScoreCovarianceInputs): Float64Array {
  const { d } = c;
  const n = c.mean.length;
  if (c.L.length !== (d * (d + 1)) / 2) throw new RangeError(`L must hold d(d + 1)/2 = ${(d * (d + 1)) / 2} entries`);
  // the square factor (zeros above the diagonal, which the solves never read)
  const L = new Float64Array(d * d);
  for (let i = 0, at = 0; i < d; at += ++i) L.set(c.L.subarray(at, at + i + 1), i * d);
  const S = solvedGram(L, c.G, n, d);
  for (let a = 0; a < n; a++) S[a * n + a] += c.v[a];
  return S;
}

/** The factored distribution of {@link ScoreCovarianceInputs}: F = semidefinite Cholesky factor of the covariance. */
export function distributionFromInputs(c: ScoreCovarianceInputs): ScoreDistribution {
  const n = c.mean.length;
  return { mean: c.mean, F: choleskySemidefinite(covarianceFromInputs(c), n), r: n, lower: true, an: c.an, bn: c.bn };
}

interface PropensityJobRun {
  /** the decision's candidate index per slot */
  chosen: Int32Array;
  draws: number;
  maxError: PropensityError;
  /** the re-draw stream's state at decision time */
  rng: RngState;
}

/** A re-draw job: the fixed score distribution (factored, or as the inputs of its covariance) and the run's settings. */
export type PropensityJob = (ScoreDistribution | ScoreCovarianceInputs) & PropensityJobRun;

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
  const d = 'G' in job ? distributionFromInputs(job) : job;
  return monteCarloPropensities(distributionScorer(d), job.chosen, job.draws, Rng.fromState(job.rng), job.maxError);
}
