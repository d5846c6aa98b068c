import { normalCdf, normalPdf, normalQuantile, normalSf } from './distributions';

/**
 * Power and sample size for a two-sided two-sample test by the normal (z) approximation.
 * Matches statsmodels `NormalIndPower` (alternative='two-sided'), both tails included:
 *   power = Φ̄(z_{1−α/2} − d√ñ) + Φ(−z_{1−α/2} − d√ñ),   ñ = 1/(1/n_c + 1/n_t), n_t = ratio·n_c,
 * with Cohen's d = MDE_abs / σ and σ the baseline standard deviation (√(p(1−p)) for a proportion).
 * n_c corresponds to statsmodels' nobs1 and `ratio` to its ratio = nobs2/nobs1. Solved by Newton
 * iteration to machine precision (not the one-tail closed form), so results equal
 * `NormalIndPower().solve_power(...)` to ~1e-10.
 * The t-based `tt_ind_solve_power` is NOT replicated (it needs the non-central t); for n in the
 * hundreds or more the two agree to well under 1 %.
 */

/** Baseline of the metric: a mean with its standard deviation, or a conversion proportion. */
export type PowerBaseline = { mean: number; stdDev: number } | { proportion: number };

export interface SampleSizeInput {
  baseline: PowerBaseline;
  /** minimum detectable effect (positive) */
  mde: number;
  /** 'relative' (fraction of the baseline mean, default) or 'absolute' */
  mdeType?: 'relative' | 'absolute';
  alpha?: number;
  power?: number;
  /** n_treatment / n_control, default 1 */
  ratio?: number;
}

export interface SampleSizeResult {
  alpha: number;
  power: number;
  ratio: number;
  /** Cohen's d = absolute MDE / σ */
  effectSize: number | null;
  absoluteMde: number | null;
  /** exact (fractional) units per arm, as statsmodels returns them */
  nControl: number | null;
  nTreatment: number | null;
  /** rounded up to whole units */
  nControlRounded: number | null;
  nTreatmentRounded: number | null;
  totalRounded: number | null;
  reason: string | null;
}

export interface MdeInput {
  baseline: PowerBaseline;
  /** units in the control arm */
  nControl: number;
  /** n_treatment / n_control, default 1 */
  ratio?: number;
  alpha?: number;
  power?: number;
}

export interface MdeResult {
  alpha: number;
  power: number;
  ratio: number;
  effectSize: number | null;
  absoluteMde: number | null;
  /** absolute MDE / baseline mean (null when the mean is 0) */
  relativeMde: number | null;
  reason: string | null;
}

function baselineMoments(b: PowerBaseline): { mean: number; sd: number } | string {
  if ('proportion' in b) {
    const p = b.proportion;
    if (!(p > 0 && p < 1)) return 'baseline proportion must be strictly between 0 and 1';
    return { mean: p, sd: Math.sqrt(p * (1 - p)) };
  }
  if (!Number.isFinite(b.mean)) return 'baseline mean must be finite';
  if (!(b.stdDev > 0 && Number.isFinite(b.stdDev))) return 'baseline standard deviation must be positive';
  return { mean: b.mean, sd: b.stdDev };
}

/** Two-sided power for u = d·√ñ. */
function powerAt(u: number, crit: number): number {
  return normalSf(crit - u) + normalCdf(-crit - u);
}

/** Solve powerAt(u) = power for u ≥ 0 (Newton, monotone increasing). */
function solveU(power: number, alpha: number): number {
  const crit = normalQuantile(1 - alpha / 2);
  let u = crit + normalQuantile(power);
  if (!(u > 0)) u = 1e-3;
  for (let i = 0; i < 100; i++) {
    const f = powerAt(u, crit) - power;
    const fp = normalPdf(crit - u) - normalPdf(-crit - u);
    let next = u - f / fp;
    if (!(next > 0)) next = u / 2;
    if (Math.abs(next - u) <= 1e-15 * u) return next;
    u = next;
  }
  return u;
}

function checkLevels(alpha: number, power: number, ratio: number): string | null {
  if (!(alpha > 0 && alpha < 1)) return 'alpha must be in (0, 1)';
  if (!(power > alpha && power < 1)) return 'power must be in (alpha, 1)';
  if (!(ratio > 0 && Number.isFinite(ratio))) return 'ratio must be a positive number';
  return null;
}

/** Power achieved for Cohen's d with nControl units in control and ratio·nControl in treatment. */
export function achievedPower(effectSize: number, nControl: number, ratio = 1, alpha = 0.05): number | null {
  if (!(nControl > 0) || !(ratio > 0) || !(alpha > 0 && alpha < 1) || !Number.isFinite(effectSize)) return null;
  const nEff = 1 / (1 / nControl + 1 / (ratio * nControl));
  return powerAt(Math.abs(effectSize) * Math.sqrt(nEff), normalQuantile(1 - alpha / 2));
}

/** Units per arm needed to detect `mde` with the given power (two-sided z-test). */
export function sampleSizePerArm(input: SampleSizeInput): SampleSizeResult {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const ratio = input.ratio ?? 1;
  const empty = (reason: string): SampleSizeResult => ({
    alpha,
    power,
    ratio,
    effectSize: null,
    absoluteMde: null,
    nControl: null,
    nTreatment: null,
    nControlRounded: null,
    nTreatmentRounded: null,
    totalRounded: null,
    reason,
  });
  const bad = checkLevels(alpha, power, ratio);
  if (bad) return empty(bad);
  const m = baselineMoments(input.baseline);
  if (typeof m === 'string') return empty(m);
  if (!(input.mde > 0 && Number.isFinite(input.mde))) return empty('mde must be a positive number');
  const mdeType = input.mdeType ?? 'relative';
  if (mdeType === 'relative' && m.mean === 0) return empty('a relative MDE needs a non-zero baseline mean');
  const absoluteMde = mdeType === 'relative' ? input.mde * Math.abs(m.mean) : input.mde;
  const d = absoluteMde / m.sd;
  const u = solveU(power, alpha);
  const nEff = (u / d) ** 2;
  const nControl = (nEff * (1 + ratio)) / ratio;
  const nTreatment = nControl * ratio;
  if (!Number.isFinite(nControl)) return empty('the required sample size is not finite');
  const nControlRounded = Math.ceil(nControl - 1e-9);
  const nTreatmentRounded = Math.ceil(nTreatment - 1e-9);
  return {
    alpha,
    power,
    ratio,
    effectSize: d,
    absoluteMde,
    nControl,
    nTreatment,
    nControlRounded,
    nTreatmentRounded,
    totalRounded: nControlRounded + nTreatmentRounded,
    reason: null,
  };
}

/** Minimum detectable effect for a given number of control units (inverse of sampleSizePerArm). */
export function minimumDetectableEffect(input: MdeInput): MdeResult {
  const alpha = input.alpha ?? 0.05;
  const power = input.power ?? 0.8;
  const ratio = input.ratio ?? 1;
  const empty = (reason: string): MdeResult => ({
    alpha,
    power,
    ratio,
    effectSize: null,
    absoluteMde: null,
    relativeMde: null,
    reason,
  });
  const bad = checkLevels(alpha, power, ratio);
  if (bad) return empty(bad);
  const m = baselineMoments(input.baseline);
  if (typeof m === 'string') return empty(m);
  if (!(input.nControl > 0 && Number.isFinite(input.nControl))) return empty('nControl must be a positive number');
  const nEff = 1 / (1 / input.nControl + 1 / (ratio * input.nControl));
  const d = solveU(power, alpha) / Math.sqrt(nEff);
  const absoluteMde = d * m.sd;
  return {
    alpha,
    power,
    ratio,
    effectSize: d,
    absoluteMde,
    relativeMde: m.mean !== 0 ? absoluteMde / Math.abs(m.mean) : null,
    reason: null,
  };
}
