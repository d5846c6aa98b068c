import { checkArms } from './summaries';
import { ArmSummary, Interval } from './types';

/**
 * Always-valid inference for the difference of means (treatment − control) by the mixture
 * sequential probability ratio test (mSPRT) with a normal mixture.
 *
 * Method (Johari, Koomen, Pekelis, Walsh 2017 "Peeking at A/B tests", and 2022 "Always valid
 * inference", Operations Research 70(3)): with θ̂ the difference of means and V its variance
 * (V = s²_t/n_t + s²_c/n_c, plug-in), mixing over θ ~ N(θ0, τ²) gives the likelihood ratio
 *     Λ(θ0) = √(V/(V+τ²)) · exp( (θ̂−θ0)² τ² / (2 V (V+τ²)) ).
 * Always-valid p-value p = min(1, 1/Λ(0)) (and the running minimum over looks);
 * confidence sequence {θ0 : Λ(θ0) < 1/α}, i.e. θ̂ ± √( V (V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V)) ).
 *
 * Tuning (GrowthBook's "sequential tuning parameter" N*, default 5,000; Howard, Ramdas, McAuliffe,
 * Sekhon 2021 and Waudby-Smith et al. 2023 eq. for ρ): with N = n_t + n_c total units,
 *     ρ² = ( −2 ln α + ln(1 − 2 ln α) ) / N*,   τ² = ρ² · N · V   (= ρ² × per-unit variance),
 * which makes the confidence sequence narrowest when about N* units have been observed. In this
 * parametrisation (V+τ²)/V = 1 + Nρ², so the interval equals GrowthBook's
 *     θ̂ ± √( s² · 2(Nρ²+1)/(N²ρ²) · ln(√(Nρ²+1)/α) ),  s² = N·V.
 */
export interface AlwaysValidResult {
  alpha: number;
  /** tuning parameter N* (total units where the sequence is tightest) */
  tuningN: number;
  difference: number | null;
  standardError: number | null;
  /** mixing variance τ² of the normal mixture, on the scale of the difference */
  mixingVariance: number | null;
  /** ρ² = (−2 ln α + ln(1 − 2 ln α)) / N* */
  rhoSquared: number;
  /** ln Λ(0), the log mixture likelihood ratio (e-value) against θ = 0 */
  logLikelihoodRatio: number | null;
  /** always-valid p-value (running minimum when `previous` is given) */
  pValue: number | null;
  /** always-valid (1 − α) confidence sequence (running intersection when `previous` is given) */
  ci: Interval | null;
  reason: string | null;
}

export interface AlwaysValidOptions {
  alpha?: number;
  /** N*, default 5,000 */
  tuningN?: number;
  /** result of the previous look, to carry the running minimum p-value and intersected interval */
  previous?: { pValue: number | null; ci: Interval | null } | null;
}

/** ρ² of the normal mixture for significance level α and tuning N*. */
export function mixingRhoSquared(alpha: number, tuningN: number): number {
  const l = -2 * Math.log(alpha);
  return (l + Math.log(l + 1)) / tuningN;
}

export function alwaysValidTest(
  control: ArmSummary,
  treatment: ArmSummary,
  options: AlwaysValidOptions = {},
): AlwaysValidResult {
  const alpha = options.alpha ?? 0.05;
  const tuningN = options.tuningN ?? 5000;
  const validParams = alpha > 0 && alpha < 1 && tuningN > 0 && Number.isFinite(tuningN);
  const rhoSquared = validParams ? mixingRhoSquared(alpha, tuningN) : 0;
  const empty = (reason: string, difference: number | null = null): AlwaysValidResult => ({
    alpha,
    tuningN,
    difference,
    standardError: null,
    mixingVariance: null,
    rhoSquared,
    logLikelihoodRatio: null,
    pValue: null,
    ci: null,
    reason,
  });
  if (!validParams) return empty('alpha must be in (0, 1) and tuningN positive');
  const bad = checkArms(control, treatment);
  if (bad) return empty(bad);
  const difference = treatment.mean - control.mean;
  const v = treatment.variance / treatment.n + control.variance / control.n;
  if (!(v > 0)) return empty('both arms have zero variance: the difference has no sampling error to test', difference);
  const n = treatment.n + control.n;
  const nRho2 = n * rhoSquared;
  const tau2 = nRho2 * v;
  const z2 = (difference * difference) / v;
  // ln Λ(0) = z² τ²/(2(V+τ²)) − ½ ln((V+τ²)/V) with (V+τ²)/V = 1 + Nρ²
  const logLr = (z2 * nRho2) / (2 * (1 + nRho2)) - 0.5 * Math.log1p(nRho2);
  let pValue = logLr > 0 ? Math.exp(-logLr) : 1;
  const half = Math.sqrt(((v * (1 + nRho2)) / nRho2) * (-2 * Math.log(alpha) + Math.log1p(nRho2)));
  let ci: Interval = { lower: difference - half, upper: difference + half };
  const prev = options.previous;
  if (prev) {
    if (prev.pValue !== null && Number.isFinite(prev.pValue)) pValue = Math.min(pValue, prev.pValue);
    if (prev.ci) {
      const lower = Math.max(ci.lower, prev.ci.lower);
      const upper = Math.min(ci.upper, prev.ci.upper);
      if (lower <= upper) ci = { lower, upper };
    }
  }
  return {
    alpha,
    tuningN,
    difference,
    standardError: Math.sqrt(v),
    mixingVariance: tau2,
    rhoSquared,
    logLikelihoodRatio: logLr,
    pValue,
    ci,
    reason: null,
  };
}
