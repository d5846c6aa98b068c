/**
 * Learning-quality arithmetic: slate values against the oracle, cumulative regret, explore / cold-start rates over
 * time and the decisions new items need to graduate. Pure: the runner feeds it decisions and outcomes.
 *
 * Definitions (docs/simulation.md):
 * - value(slate) = Σ_j p(item in slot j, slot j): the expected clicks of the slate under the world's truth.
 * - oracle = the slate of highest value among the request's candidates (all of them, not only the ranker's
 *   shortlist): the top-k candidates by latent score, arranged in the best order (exhaustively for k ≤ 6).
 * - regret(decision) = value(oracle) − value(chosen) ≥ 0 (expected, "pseudo-regret": the click noise is left out).
 * - regret ratio to random = mean regret per decision of a variant / mean regret per decision of `random`.
 */
import type { RequestTruth } from './world';

/** Expected clicks of the slate `chosen` (candidate indices, slot order). */
export function slateValue(truth: RequestTruth, chosen: readonly number[]): number {
  let v = 0;
  chosen.forEach((c, j) => (v += truth.clickProbability(truth.eta[c], j)));
  return v;
}

/** The best slate of `k` slots and its value. */
export function oracleSlate(truth: RequestTruth, k: number): { slate: number[]; value: number } {
  const n = truth.eta.length;
  const kk = Math.min(k, n);
  // Any slate using a candidate outside the top-k by latent score is improved by swapping in an unused top-k one
  // (p is increasing in eta in every slot), so the oracle uses exactly the top-k.
  const top = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => truth.eta[b] - truth.eta[a] || a - b)
    .slice(0, kk);
  if (kk > 6) return { slate: top, value: slateValue(truth, top) };
  let best = top;
  let bestValue = slateValue(truth, top);
  for (const perm of permutations(top)) {
    const v = slateValue(truth, perm);
    if (v > bestValue + 1e-15) {
      best = perm;
      bestValue = v;
    }
  }
  return { slate: best, value: bestValue };
}

function* permutations(xs: number[]): Generator<number[]> {
  if (xs.length <= 1) {
    yield xs.slice();
    return;
  }
  for (let i = 0; i < xs.length; i++) {
    const rest = xs.slice(0, i).concat(xs.slice(i + 1));
    for (const p of permutations(rest)) yield [xs[i], ...p];
  }
}

export interface SlotOutcome {
  itemId: string;
  explored: boolean;
  coldStart: boolean;
  clicked: boolean;
}

export interface SeriesPoint {
  /** Global decision index (all variants) at the end of the window. */
  upTo: number;
  decisions: number;
  cumulativeReward: number;
  cumulativeRegret: number;
  /** In this window only. */
  exploreRate: number;
  coldStartRate: number;
}

export interface VariantSummary {
  variant: string;
  policy: string;
  decisions: number;
  slots: number;
  /** Realized clicks (rewards sent). */
  cumulativeReward: number;
  /** Expected clicks of the chosen slates under the truth. */
  expectedReward: number;
  oracleReward: number;
  cumulativeRegret: number;
  regretPerDecision: number;
  /** regretPerDecision / random's regretPerDecision (null without a random variant). */
  regretRatioToRandom: number | null;
  exploreRate: number;
  coldStartRate: number;
  /** Items that arrived during the run, how many this variant showed at least once and how many graduated. */
  newItems: { arrived: number; shown: number; graduated: number; medianDecisionsToGraduate: number | null };
  /** Off-policy replay estimate on logged records (OBD only): IPS estimate of clicks per decision, and matches. */
  replay?: { ipsClicksPerDecision: number; matches: number };
  series: SeriesPoint[];
}

/** Per-variant accumulator. */
export class VariantTracker {
  decisions = 0;
  slots = 0;
  reward = 0;
  expected = 0;
  oracle = 0;
  regret = 0;
  explored = 0;
  cold = 0;
  private winSlots = 0;
  private winExplored = 0;
  private winCold = 0;
  private winDecisions = 0;
  readonly series: SeriesPoint[] = [];
  /** Shown slots per item in this variant. */
  private readonly impressions = new Map<string, number>();
  /** Item id → this variant's decisions when the item arrived (items that arrived during the run). */
  private readonly arrivedAt = new Map<string, number>();
  private readonly graduatedAfter = new Map<string, number>();
  private ips = 0;
  private matches = 0;

  constructor(
    readonly variant: string,
    readonly policy: string,
    private readonly coldStartThreshold: number,
  ) {}

  /** An item arrived during the run (call before the decision that first offers it). */
  itemArrived(itemId: string): void {
    if (!this.arrivedAt.has(itemId)) this.arrivedAt.set(itemId, this.decisions);
  }

  record(d: {
    value: number;
    oracle: number;
    slots: SlotOutcome[];
    replay?: { matched: boolean; click: number; propensity: number };
  }): void {
    this.decisions++;
    this.winDecisions++;
    this.expected += d.value;
    this.oracle += d.oracle;
    this.regret += d.oracle - d.value;
    for (const s of d.slots) {
      this.slots++;
      this.winSlots++;
      if (s.explored) {
        this.explored++;
        this.winExplored++;
      }
      if (s.coldStart) {
        this.cold++;
        this.winCold++;
      }
      if (s.clicked) this.reward++;
      const n = (this.impressions.get(s.itemId) ?? 0) + 1;
      this.impressions.set(s.itemId, n);
      if (n === this.coldStartThreshold && this.arrivedAt.has(s.itemId) && !this.graduatedAfter.has(s.itemId)) {
        this.graduatedAfter.set(s.itemId, this.decisions - this.arrivedAt.get(s.itemId)!);
      }
    }
    if (d.replay) {
      if (d.replay.matched) {
        this.matches++;
        this.ips += d.replay.click / d.replay.propensity;
      }
    }
  }

  /** Close the current window of the time series. */
  closeWindow(upTo: number): void {
    this.series.push({
      upTo,
      decisions: this.decisions,
      cumulativeReward: this.reward,
      cumulativeRegret: round(this.regret, 6),
      exploreRate: this.winSlots ? round(this.winExplored / this.winSlots, 4) : 0,
      coldStartRate: this.winSlots ? round(this.winCold / this.winSlots, 4) : 0,
    });
    this.winSlots = this.winExplored = this.winCold = this.winDecisions = 0;
  }

  summary(randomRegretPerDecision: number | null, withReplay: boolean): VariantSummary {
    const perDecision = this.decisions ? this.regret / this.decisions : 0;
    const grads = [...this.graduatedAfter.values()];
    const shown = [...this.arrivedAt.keys()].filter((id) => (this.impressions.get(id) ?? 0) > 0).length;
    return {
      variant: this.variant,
      policy: this.policy,
      decisions: this.decisions,
      slots: this.slots,
      cumulativeReward: this.reward,
      expectedReward: round(this.expected, 4),
      oracleReward: round(this.oracle, 4),
      cumulativeRegret: round(this.regret, 4),
      regretPerDecision: round(perDecision, 6),
      regretRatioToRandom: randomRegretPerDecision ? round(perDecision / randomRegretPerDecision, 4) : null,
      exploreRate: this.slots ? round(this.explored / this.slots, 4) : 0,
      coldStartRate: this.slots ? round(this.cold / this.slots, 4) : 0,
      newItems: {
        arrived: this.arrivedAt.size,
        shown,
        graduated: grads.length,
        medianDecisionsToGraduate: median(grads),
      },
      ...(withReplay
        ? {
            replay: {
              ipsClicksPerDecision: this.decisions ? round(this.ips / this.decisions, 6) : 0,
              matches: this.matches,
            },
          }
        : {}),
      series: this.series,
    };
  }
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
