/** Shared slate mechanics: greedy filling, greedy-with-mean, Monte-Carlo propensities, explanations. */
import { topKAt } from '../kernels';
import type { Rng } from '../rng';
import type { BanditModel, Candidate, SlateScorer } from '../types';
import type { DecisionInput, SlotDecision } from './types';

export const DEFAULT_PROPENSITY_DRAWS = 1000;
export const DEFAULT_EXPLAIN_TOP = 5;
/** Re-draws computed per redrawMany call (bounded scratch: block × candidates doubles). */
const PROPENSITY_BLOCK = 64;

export function checkInput(input: DecisionInput): { n: number; k: number; draws: number } {
  if (!Array.isArray(input.candidates)) throw new RangeError('candidates must be an array');
  if (!(Number.isInteger(input.slots) && input.slots > 0))
    throw new RangeError(`slots must be a positive integer, got ${input.slots}`);
  const draws = input.propensityDraws ?? DEFAULT_PROPENSITY_DRAWS;
  if (!(Number.isInteger(draws) && draws >= 0))
    throw new RangeError(`propensityDraws must be a non-negative integer, got ${draws}`);
  const e = input.propensityError;
  if (e !== undefined && e !== null && !(typeof e === 'number' && e > 0 && Number.isFinite(e)))
    throw new RangeError(`propensityError must be a positive number or null, got ${String(e)}`);
  const seen = new Set<string>();
  for (const c of input.candidates) {
    if (seen.has(c.id)) throw new RangeError(`duplicate candidate id "${c.id}"`);
    seen.add(c.id);
  }
  return { n: input.candidates.length, k: Math.min(input.slots, input.candidates.length), draws };
}

/**
 * Greedy filling without repeats: the indices of the k largest scores in order (ties: lower index first).
 * Writes into `out` (length ≥ k); `used` is scratch of length n.
 */
export function topK(
  scores: ArrayLike<number>,
  k: number,
  out: Int32Array = new Int32Array(k),
  used: Uint8Array = new Uint8Array(scores.length),
): Int32Array {
  const n = scores.length;
  used.fill(0, 0, n);
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bv = -Infinity;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const v = scores[i];
      if (best < 0 || v > bv) {
        best = i;
        bv = v;
      }
    }
    used[best] = 1;
    out[j] = best;
  }
  return out;
}

/** For each slot j: the index with the largest key among candidates not chosen in slots 0..j−1. */
export function greedyGivenEarlier(keys: ArrayLike<number>, chosen: ArrayLike<number>): Int32Array {
  const n = keys.length;
  const k = chosen.length;
  const used = new Uint8Array(n);
  const out = new Int32Array(k);
  for (let j = 0; j < k; j++) {
    let best = -1;
    let bv = -Infinity;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      if (best < 0 || keys[i] > bv) {
        best = i;
        bv = keys[i];
      }
    }
    out[j] = best;
    used[chosen[j]] = 1;
  }
  return out;
}

/**
 * Monte-Carlo propensities: re-draw the scores `draws` times (seeded `rng`), fill the slate greedily each time and
 * count how often each chosen item lands in its position. The logged decision itself is one more draw from the
 * same distribution, so the estimate is (count + 1) / (draws + 1): never zero, bias ≤ 1/(draws + 1).
 *
 * With `redrawPairs` (the Gaussian models) the re-draws are antithetic pairs (s, 2m − s from one σ and one ζ), in
 * blocks of {@link PROPENSITY_BLOCK}; an odd last draw is a plain redraw(). Error bound: the N/2 pair means
 * Y_t = (I_t + I'_t)/2 are independent with Var(Y_t) = p(1 − p)(1 + ρ)/2 ≤ p(1 − p), ρ = corr(I_t, I'_t), so the
 * standard error of count/N is √(p(1 − p)(1 + ρ)/N) ≤ √(2p(1 − p)/N) ≤ 1/√(2N) (0.022 at N = 1,000) — at most √2
 * times independent draws' and equal to it at ρ = 0; for a top-k indicator the mirrored draw tends to disagree
 * (ρ < 0), measured in slate.spec.ts. Variates: half the normals and gammas of independent draws, on the same rng.
 */
export function monteCarloPropensities(
  scorer: SlateScorer,
  chosen: ArrayLike<number>,
  draws: number,
  rng: Rng,
  maxError: PropensityError = null,
): number[] {
  return monteCarloPropensitiesStopped(scorer, chosen, draws, rng, maxError).propensities;
}

/**
 * Standard-error target of Monte-Carlo propensities: `null` = always all draws; a number ε > 0 = stop once every
 * slot's bound is ≤ ε; `'auto'` = ε is the worst-case bound of the full run (1/√(2N) antithetic, 1/(2√N) independent),
 * i.e. the guarantee of N draws, without spending draws beyond what it needs.
 */
export type PropensityError = number | 'auto' | null;

/** Draws before the first stopping check (the bound uses the estimates themselves; too few make them unreliable). */
export const PROPENSITY_MIN_DRAWS = 256;

/**
 * Sequential stopping bound after N draws with counts c_j: per slot, p̃ = (c + 1)/(N + 2) (never 0 or 1), an upper
 * value u = min(½, p̃ + 2·√(f p̃(1 − p̃)/N)) (p(1 − p) grows up to ½, so u(1 − u) bounds the variance of every p within
 * two standard errors of p̃) and the bound √(f·u(1 − u)/N); the largest over the slots. f = 2 for antithetic pairs
 * (their standard error is at most √2 times independent draws', see above), 1 for independent draws.
 */
export function propensityErrorBound(counts: ArrayLike<number>, N: number, f: number): number {
  let worst = 0;
  for (let j = 0; j < counts.length; j++) {
    const p = (counts[j] + 1) / (N + 2);
    const u = Math.min(0.5, p + 2 * Math.sqrt((f * p * (1 - p)) / N));
    worst = Math.max(worst, Math.sqrt((f * u * (1 - u)) / N));
  }
  return worst;
}

/**
 * {@link monteCarloPropensities} with sequential stopping, also returning the number of draws used. Stopping rule:
 * from {@link PROPENSITY_MIN_DRAWS} on, after every block of {@link PROPENSITY_BLOCK} draws, stop when
 * {@link propensityErrorBound} ≤ ε (`maxError`, see {@link PropensityError}); at most `draws` in any case. The
 * estimate is (count + 1)/(used + 1) as without stopping. Deterministic given the rng, so replays and deferred
 * propensities give the same numbers. Checked against 60,000-draw references in propensities.spec.ts (the
 * estimates' RMS error stays within ε).
 */
export function monteCarloPropensitiesStopped(
  scorer: SlateScorer,
  chosen: ArrayLike<number>,
  draws: number,
  rng: Rng,
  maxError: PropensityError = null,
): { propensities: number[]; draws: number } {
  const n = scorer.n;
  const k = chosen.length;
  const counts = new Float64Array(k);
  const order = new Int32Array(k);
  const values = new Float64Array(k);
  const chosenAt = Int32Array.from(chosen);
  // rows b0..b1 of buf (n scores each): one subarray-free pass per row (this loop runs `draws` times per request)
  const countRows = (buf: Float64Array, rows: number): void => {
    for (let b = 0; b < rows; b++) {
      topKAt(buf, b * n, n, k, order, values);
      for (let j = 0; j < k; j++) if (order[j] === chosenAt[j]) counts[j] += 1;
    }
  };
  const count = (row: Float64Array): void => countRows(row, 1);
  const f = scorer.redrawPairs ? 2 : 1;
  const eps = maxError === 'auto' ? Math.sqrt(f / (4 * Math.max(draws, 1))) : maxError;
  if (eps !== null && !(eps > 0 && Number.isFinite(eps)))
    throw new RangeError(`propensity error target must be a positive number, got ${eps}`);
  // a stopping check after `done` draws (only at block ends, where both paths have consumed whole blocks)
  const stop = (done: number): boolean =>
    eps !== null && done >= PROPENSITY_MIN_DRAWS && done < draws && propensityErrorBound(counts, done, f) <= eps;
  const result = (used: number): { propensities: number[]; draws: number } => ({
    propensities: Array.from(counts, (c) => (c + 1) / (used + 1)),
    draws: used,
  });
  if (scorer.redrawPairs) {
    // the draws are written out only without redrawPairCounts (and for an odd last draw)
    const buf = new Float64Array((scorer.redrawPairCounts ? 1 : PROPENSITY_BLOCK) * n);
    const pairs = draws >> 1;
    for (let t = 0; t < pairs; t += PROPENSITY_BLOCK >> 1) {
      const m = Math.min(PROPENSITY_BLOCK >> 1, pairs - t);
      // the same draws and counts, counted inside the kernels when the scorer can (no scores handed back)
      if (scorer.redrawPairCounts) scorer.redrawPairCounts(rng, m, chosenAt, counts);
      else {
        scorer.redrawPairs(rng, m, buf);
        countRows(buf, 2 * m);
      }
      if (stop(2 * (t + m))) return result(2 * (t + m));
    }
    if (draws & 1) {
      scorer.redraw(rng, buf);
      count(buf.subarray(0, n));
    }
    return result(draws);
  }
  const block = scorer.redrawMany ? PROPENSITY_BLOCK : 1;
  const buf = new Float64Array(block * n);
  for (let t = 0; t < draws; t += block) {
    const m = Math.min(block, draws - t);
    if (scorer.redrawMany) scorer.redrawMany(rng, m, buf);
    else scorer.redraw(rng, buf);
    countRows(buf, m);
    if ((t + m) % PROPENSITY_BLOCK === 0 && stop(t + m)) return result(t + m);
  }
  return result(draws);
}

/** Baseline order key: ranker score (missing = −∞, so unscored candidates follow in input order). */
export function rankerKeys(candidates: readonly Candidate[]): Float64Array {
  return Float64Array.from(candidates, (c) =>
    typeof c.rankerScore === 'number' && Number.isFinite(c.rankerScore) ? c.rankerScore : -Infinity,
  );
}

export function buildSlots(
  candidates: readonly Candidate[],
  chosen: ArrayLike<number>,
  greedy: ArrayLike<number>,
  f: {
    score: (i: number) => number | null;
    mean: (i: number) => number | null;
    sd: (i: number) => number | null;
    propensity: (j: number) => number | null;
  },
): SlotDecision[] {
  return Array.from({ length: chosen.length }, (_, j) => {
    const i = chosen[j];
    const g = greedy[j];
    return {
      position: j + 1,
      index: i,
      itemId: candidates[i].id,
      score: f.score(i),
      mean: f.mean(i),
      sd: f.sd(i),
      greedyIndex: g,
      greedyItemId: candidates[g].id,
      explored: i !== g,
      propensity: f.propensity(j),
    };
  });
}

export function attachExplanations(slots: SlotDecision[], input: DecisionInput, model: BanditModel | null): void {
  if (!input.explain || !model) return;
  const opts = input.explain === true ? {} : input.explain;
  const top = opts.top ?? DEFAULT_EXPLAIN_TOP;
  for (const s of slots)
    s.explanation = model.explain(input.context, input.candidates[s.index], opts.names).slice(0, top);
}

export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
