/** Normal–Inverse-Gamma helpers shared by the linear, neural-linear and hybrid models. */
import { pairTopCounts, scoreDraws } from '../kernels';
import { choleskySemidefinite } from '../linalg';
import type { OptionSpec } from '../policies/types';
import type { Rng } from '../rng';

export interface NigPrior {
  /** ridge precision λ of the coefficient prior β | σ² ~ N(0, σ²/λ · I) */
  lambda: number;
  /** inverse-gamma shape a0 of σ² */
  a0: number;
  /** inverse-gamma scale b0 of σ² */
  b0: number;
}

/**
 * Noise model. `pooled`: one σ² for every observation (the original model; snapshots without a `noise` field).
 * `item`: each item (action) a gets its own noise scale, as LinFullPost keeps one NIG posterior per action — one
 * pooled σ² lets a rarely chosen high-variance action's posterior collapse once a low-variance action dominates the
 * data (its residuals are averaged with thousands of near-zero ones). See {@link itemNoiseScale}.
 */
export type NoiseModel = 'pooled' | 'item';

/**
 * Per-item noise scale c_a: item a's scores are drawn with σ_a = c_a σ, σ² ~ InvGamma(an, bn) the pooled draw, where
 *   c_a² = E_a / (bn/an),   E_a = (a0 · bn/an + ½ RSS_a) / (a0 + n_a/2)
 * E_a is the item's noise estimate, partially pooled: the item's prior is the pooled estimate bn/an with the weight of
 * a0 pseudo-observations (2·a0), and its residual sum of squares RSS_a (≥ 0) takes over as it is observed. An unseen
 * item gets c_a = 1. The shape of the σ draw stays the pooled one, so the draw consumes exactly the pooled variates
 * (one gamma per request) and the score covariance is D S D (D = diag c). Inputs are sums of statistics, so replicas
 * still merge exactly.
 */
export function itemNoiseScale(p: NigPrior, an: number, bn: number, nA: number, rssA: number): number {
  const pooled = bn / an;
  const own = (p.a0 * pooled + 0.5 * Math.max(0, rssA)) / (p.a0 + nA / 2);
  return Math.sqrt(own / pooled);
}

/** Riquelme, Tucker & Snoek (2018), LinFullPost defaults. */
export const NIG_DEFAULTS: NigPrior = { lambda: 0.25, a0: 6, b0: 6 };

/**
 * Options of the Normal-inverse-gamma models (linear, hybrid, neural-linear), as a Thompson or ε-greedy policy
 * takes them: the prior (defaults above) and the noise model. `noise` omitted: the models' default 'item'.
 */
export const NIG_MODEL_OPTIONS = [
  {
    name: 'lambda',
    type: 'number',
    exclusiveMin: 0,
    max: 1e6,
    default: NIG_DEFAULTS.lambda,
    description: 'prior precision of the coefficients (λ)',
  },
  {
    name: 'a0',
    type: 'number',
    exclusiveMin: 0,
    max: 1e6,
    default: NIG_DEFAULTS.a0,
    description: 'inverse-gamma shape of the noise prior',
  },
  {
    name: 'b0',
    type: 'number',
    exclusiveMin: 0,
    max: 1e6,
    default: NIG_DEFAULTS.b0,
    description: 'inverse-gamma scale of the noise prior',
  },
  {
    name: 'noise',
    type: 'enum',
    values: ['item', 'pooled'],
    description: "σ² per item (LinFullPost-style, the default 'item') or one pooled σ²",
  },
  {
    name: 'itemLambda',
    type: 'number',
    exclusiveMin: 0,
    max: 1e6,
    description: 'hybrid only: prior precision of the per-item block; omitted: 10 · (context features + 1)',
  },
] as const satisfies readonly OptionSpec[];

export function checkPrior(p: NigPrior): NigPrior {
  for (const k of ['lambda', 'a0', 'b0'] as const) {
    if (!(typeof p[k] === 'number' && p[k] > 0 && Number.isFinite(p[k])))
      throw new RangeError(`${k} must be a positive number, got ${p[k]}`);
  }
  return p;
}

/** an = a0 + n/2. */
export function posteriorShape(p: NigPrior, n: number): number {
  return p.a0 + n / 2;
}

/** bn = b0 + ½(yᵀy − μᵀΛμ); the quadratic is ≥ 0 mathematically, clamped against rounding. */
export function posteriorScale(p: NigPrior, yy: number, muLambdaMu: number): number {
  return p.b0 + 0.5 * Math.max(0, yy - muLambdaMu);
}

/** Marginal sd of a score with unit-σ² variance v: the Student-t variance v·bn/(an − 1). */
export function scoreSd(v: number, an: number, bn: number): number {
  return an > 1 ? Math.sqrt((Math.max(v, 0) * bn) / (an - 1)) : Infinity;
}

/**
 * Draws jointly Gaussian scores with an inverse-gamma variance: s = m + σ F ζ, σ² = bn / Gamma(an, 1),
 * ζ ~ N(0, I_r). F is n×r row-major (lower-triangular when r = n and `lower`). Variates consumed in that order.
 */
export class NigScoreSampler {
  constructor(
    readonly mean: Float64Array,
    readonly F: Float64Array,
    readonly r: number,
    readonly lower: boolean,
    readonly an: number,
    readonly bn: number,
    private readonly zeta = new Float64Array(r),
  ) {}

  /** From the unit-σ² covariance S (n×n): F = semidefinite Cholesky of S. */
  static fromCovariance(mean: Float64Array, S: Float64Array, an: number, bn: number): NigScoreSampler {
    const n = mean.length;
    return new NigScoreSampler(mean, choleskySemidefinite(S, n), n, true, an, bn);
  }

  sample(rng: Rng, out: Float64Array): Float64Array {
    const g = rng.gamma(this.an, 1);
    rng.normals(this.zeta);
    return this.fromVariates(g, this.zeta, out);
  }

  /**
   * `count` draws into out (count × n, row-major), consuming the variates exactly as `count` calls of sample().
   * The products run in the kernels (two draws share each row of F; WebAssembly SIMD where available) with the same
   * two-accumulator sums as a single draw, so every draw is bit-identical to sample()'s.
   */
  sampleMany(rng: Rng, count: number, out: Float64Array): Float64Array {
    const { mean, F, r } = this;
    const n = mean.length;
    if (out.length < count * n) throw new RangeError(`sampleMany: out needs ${count * n} numbers`);
    const zetas = this.zetaBlock.length >= count * r ? this.zetaBlock : (this.zetaBlock = new Float64Array(count * r));
    const sigmas = new Float64Array(count);
    for (let t = 0; t < count; t++) {
      sigmas[t] = Math.sqrt(this.bn / rng.gamma(this.an, 1));
      rng.normals(zetas, t * r, (t + 1) * r);
    }
    scoreDraws(F, zetas, mean, sigmas, out, n, r, count, this.lower);
    return out;
  }

  private zetaBlock = new Float64Array(0);
  private productBlock = new Float64Array(0);
  private zeroMean = new Float64Array(0);
  private unitSigmas = new Float64Array(0);

  /**
   * Antithetic pairs (Hammersley & Morton 1956): for t < pairs, one σ_t = √(bn / Gamma(an, 1)) and one ζ_t ~ N(0, I_r)
   * (consumed in that order, as sample()), p_t = F ζ_t, then out[2t] = m + σ_t p_t and out[2t+1] = m − σ_t p_t.
   * ζ and −ζ have the same law, so each row is an exact draw; a pair costs half the normals, gammas and products of
   * two independent draws. p_t is summed as in sampleMany (the kernels with zero mean and unit σ: bit-identical).
   */
  samplePairs(rng: Rng, pairs: number, out: Float64Array): Float64Array {
    const { mean, F, r } = this;
    const n = mean.length;
    if (out.length < 2 * pairs * n) throw new RangeError(`samplePairs: out needs ${2 * pairs * n} numbers`);
    const zetas = this.zetaBlock.length >= pairs * r ? this.zetaBlock : (this.zetaBlock = new Float64Array(pairs * r));
    const prods =
      this.productBlock.length >= pairs * n ? this.productBlock : (this.productBlock = new Float64Array(pairs * n));
    if (this.zeroMean.length < n) this.zeroMean = new Float64Array(n);
    if (this.unitSigmas.length < pairs) this.unitSigmas = new Float64Array(pairs).fill(1);
    const sigmas = new Float64Array(pairs);
    for (let t = 0; t < pairs; t++) {
      sigmas[t] = Math.sqrt(this.bn / rng.gamma(this.an, 1));
      rng.normals(zetas, t * r, (t + 1) * r);
    }
    scoreDraws(F, zetas, this.zeroMean, this.unitSigmas, prods, n, r, pairs, this.lower);
    for (let t = 0; t < pairs; t++) {
      const s = sigmas[t];
      const p = t * n;
      const a = 2 * t * n;
      const b = a + n;
      for (let i = 0; i < n; i++) {
        const d = s * prods[p + i];
        out[a + i] = mean[i] + d;
        out[b + i] = mean[i] - d;
      }
    }
    return out;
  }

  /**
   * samplePairs(rng, pairs, …) with the 2·pairs draws counted instead of returned (see SlateScorer.redrawPairCounts):
   * the same variates in the same order, the same products (pairTopCounts), the same greedy filling.
   */
  countPairs(rng: Rng, pairs: number, chosen: Int32Array, counts: Float64Array): void {
    const { mean, F, r } = this;
    const zetas = this.zetaBlock.length >= pairs * r ? this.zetaBlock : (this.zetaBlock = new Float64Array(pairs * r));
    const sigmas = new Float64Array(pairs);
    for (let t = 0; t < pairs; t++) {
      sigmas[t] = Math.sqrt(this.bn / rng.gamma(this.an, 1));
      rng.normals(zetas, t * r, (t + 1) * r);
    }
    // candidates by decreasing mean enter the top-k list first (same counts, fewer insertions; see pairTopCounts)
    this.byMean ??= Int32Array.from(mean.keys()).sort((a, b) => mean[b] - mean[a] || a - b);
    pairTopCounts(F, zetas, mean, sigmas, mean.length, r, pairs, this.lower, chosen, counts, this.byMean);
  }

  private byMean: Int32Array | null = null;

  /** The draw for given variates (golden tests): g ~ Gamma(an, 1), ζ ~ N(0, I_r). */
  fromVariates(g: number, zeta: ArrayLike<number>, out: Float64Array): Float64Array {
    return this.fromSigma(Math.sqrt(this.bn / g), zeta, out);
  }

  private fromSigma(sigma: number, zeta: ArrayLike<number>, out: Float64Array): Float64Array {
    const n = this.mean.length;
    const z = zeta instanceof Float64Array ? zeta : Float64Array.from(zeta);
    scoreDraws(this.F, z, this.mean, Float64Array.of(sigma), out, n, this.r, 1, this.lower);
    return out;
  }
}
