import { chiSquareSf } from './distributions';

export interface SrmResult {
  observed: Record<string, number>;
  /** expected counts: total × weight / Σ weights */
  expected: Record<string, number> | null;
  chiSquare: number | null;
  degreesOfFreedom: number | null;
  pValue: number | null;
  /** true when pValue < threshold */
  flagged: boolean;
  threshold: number;
  reason: string | null;
}

export interface SrmOptions {
  /** flag when p < threshold; default 0.001 */
  threshold?: number;
}

/**
 * Sample-ratio mismatch check (Kohavi, Tang, Xu 2020, ch. 21; Fabijan et al. 2019): Pearson χ²
 * goodness of fit of the observed unit counts per variant against the configured weights,
 * χ² = Σ (O − E)²/E with E = N·w/Σw, df = k − 1. Matches scipy.stats.chisquare(observed, expected).
 * Variants are taken from `weights`; a variant missing from `observed` counts 0 units.
 */
export function sampleRatioMismatch(
  observed: Record<string, number>,
  weights: Record<string, number>,
  options: SrmOptions = {},
): SrmResult {
  const threshold = options.threshold ?? 0.001;
  const keys = Object.keys(weights);
  const empty = (reason: string): SrmResult => ({
    observed,
    expected: null,
    chiSquare: null,
    degreesOfFreedom: null,
    pValue: null,
    flagged: false,
    threshold,
    reason,
  });
  if (keys.length < 2) return empty('SRM needs at least two variants');
  const extra = Object.keys(observed).filter((k) => !(k in weights) && observed[k] !== 0);
  if (extra.length) return empty(`observed units for variants without a weight: ${extra.join(', ')}`);
  const counts = keys.map((k) => observed[k] ?? 0);
  const w = keys.map((k) => weights[k]);
  if (counts.some((c) => !Number.isFinite(c) || c < 0)) return empty('observed counts must be finite and non-negative');
  if (w.some((x) => !Number.isFinite(x) || x <= 0)) return empty('weights must be positive finite numbers');
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return empty('no units observed yet');
  const wsum = w.reduce((a, b) => a + b, 0);
  const expected: Record<string, number> = {};
  let chiSquare = 0;
  keys.forEach((k, i) => {
    const e = (total * w[i]) / wsum;
    expected[k] = e;
    chiSquare += ((counts[i] - e) * (counts[i] - e)) / e;
  });
  const df = keys.length - 1;
  const pValue = chiSquareSf(chiSquare, df);
  return {
    observed,
    expected,
    chiSquare,
    degreesOfFreedom: df,
    pValue,
    flagged: pValue < threshold,
    threshold,
    reason: null,
  };
}
