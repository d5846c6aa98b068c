/** Exploration and cold-start helpers (the report's `exploration` block aggregates these per slot in SQL). */

export const DEFAULT_COLD_START_THRESHOLD = 100;

/** An item is cold while it has fewer than `threshold` rewarded impressions in the experiment. */
export function isCold(rewardedImpressions: number, threshold = DEFAULT_COLD_START_THRESHOLD): boolean {
  if (!(Number.isFinite(rewardedImpressions) && rewardedImpressions >= 0))
    throw new RangeError(`rewardedImpressions must be a non-negative number, got ${rewardedImpressions}`);
  if (!(Number.isFinite(threshold) && threshold >= 0))
    throw new RangeError(`threshold must be a non-negative number, got ${threshold}`);
  return rewardedImpressions < threshold;
}

export interface ExplorationSummary {
  slots: number;
  exploredSlots: number;
  coldSlots: number;
  exploreRate: number;
  coldStartRate: number;
}

/** exploreRate = explored slots / slots; coldStartRate = slots given to cold items / slots (0 when no slots). */
export function summarizeExploration(slots: readonly { explored: boolean; coldStart?: boolean }[]): ExplorationSummary {
  const n = slots.length;
  let e = 0;
  let c = 0;
  for (const s of slots) {
    if (s.explored) e++;
    if (s.coldStart) c++;
  }
  return { slots: n, exploredSlots: e, coldSlots: c, exploreRate: n ? e / n : 0, coldStartRate: n ? c / n : 0 };
}

/**
 * Clamps a requested exploration probability into [floor, cap] (Optimizely bounds exploration to 5–50%);
 * e.g. for epsilon-greedy's epsilon.
 */
export function boundExploration(rate: number, floor = 0.05, cap = 0.5): number {
  if (!(floor >= 0 && cap <= 1 && floor <= cap)) throw new RangeError('need 0 ≤ floor ≤ cap ≤ 1');
  return Math.min(cap, Math.max(floor, rate));
}
