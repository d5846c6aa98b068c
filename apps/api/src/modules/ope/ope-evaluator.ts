/**
 * Off-policy evaluation of a target slate policy on logged decisions (libs/ope's estimators, per position).
 *
 * Each shown slot with a logged propensity is one round (x_i, a_i, p_i, r_i, π_b(a_i | x_i, p_i)): the reward is
 * the slot's reward total, the propensity the one stored with the slot. The target's distribution π_e(· | x_i, p_i)
 * comes from re-running the target policy on the decision's stored inputs (context, shortlist with ranker scores
 * and item features): exact for ranker (one-hot), random (1/n) and epsilon-greedy (ε/n + (1 − ε)·[greedy]);
 * Thompson sampling by `draws` seeded re-draws of its posterior (the share of draws that put each item at each
 * position). Actions are indexed over the items seen in the evaluated log.
 */
import { createRng, rankerKeys, topK, topKAt, type BanditModel, type Candidate, type Rng } from '@slotwise/bandit';
import {
  doublyRobust,
  evaluatePolicy,
  fitRewardModel,
  ips,
  normalInterval,
  type ActionDistribution,
  type BanditLog,
  type RewardEstimates,
} from '@slotwise/ope';
import { banditCandidate } from '../rank/candidates';
import type { LoggedDecisionRow } from './ope.repository';
import type { EstimateView, OpeEstimator, OpeResult } from './ope.schema';

/** How a target policy places items, given one decision's inputs. */
export type TargetKind =
  | { type: 'ranker'; scores?: (d: LoggedDecisionRow, candidates: Candidate[]) => Promise<ArrayLike<number>> }
  | { type: 'random' }
  | { type: 'epsilon-greedy'; epsilon: number; model: BanditModel }
  | { type: 'thompson'; model: BanditModel; draws: number }
  /** π_e as logged beside the decision (a shadow variant's distribution at decision time, `LoggedDecisionRow.targetProbs`) */
  | { type: 'logged' };

/** One point of an estimate over time: the rounds of one day, and all rounds up to its end. */
export interface SeriesPoint {
  /** UTC day, YYYY-MM-DD */
  day: string;
  n: number;
  daily: Record<
    'ips' | 'dr',
    { value: number; ci: { lower: number; upper: number; level: number }; stdErr: number } | null
  >;
  cumulative: Record<
    'ips' | 'dr',
    { value: number; ci: { lower: number; upper: number; level: number }; stdErr: number } | null
  >;
}

/**
 * π_e(item i at position j) for one decision, (k × n) row-major over its shortlist: exact for ranker (one-hot greedy),
 * random (1/n) and ε-greedy (ε/n + (1 − ε)·[greedy top-k by posterior mean]); Thompson: the share of `draws` seeded
 * re-draws of its posterior that put each item at each position.
 */
export async function targetTable(
  tgt: TargetKind,
  d: Pick<LoggedDecisionRow, 'context' | 'targetProbs'> & Partial<LoggedDecisionRow>,
  candidates: Candidate[],
  k: number,
  rng: Rng,
): Promise<Float64Array> {
  const n = candidates.length;
  const t = new Float64Array(k * n);
  switch (tgt.type) {
    case 'random':
      t.fill(1 / n);
      return t;
    case 'logged':
      // logged with the served k (a request may ask fewer slots): positions beyond it have no logged rounds
      t.set((d.targetProbs ?? []).slice(0, k * n));
      return t;
    case 'ranker': {
      const keys = tgt.scores
        ? Float64Array.from(await tgt.scores(d as LoggedDecisionRow, candidates))
        : rankerKeys(candidates);
      topK(keys, k).forEach((i, j) => (t[j * n + i] = 1));
      return t;
    }
    case 'epsilon-greedy': {
      const mean = tgt.model.prepare(d.context, candidates).mean;
      t.fill(tgt.epsilon / n);
      topK(mean, k).forEach((i, j) => (t[j * n + i] = Math.min(1, t[j * n + i] + (1 - tgt.epsilon))));
      return t;
    }
    case 'thompson': {
      const scorer = tgt.model.prepare(d.context, candidates);
      const buf = new Float64Array(n);
      const order = new Int32Array(k);
      const values = new Float64Array(k);
      for (let s = 0; s < tgt.draws; s++) {
        scorer.redraw(rng, buf);
        topKAt(buf, 0, n, k, order, values);
        for (let j = 0; j < k; j++) t[j * n + order[j]] += 1;
      }
      // counts, then one division: summing 1/draws could round above 1
      for (let c = 0; c < t.length; c++) t[c] /= tgt.draws;
      return t;
    }
  }
}

/** Largest (rounds × actions) table of π_e and q̂ kept in memory; above it only IPS and SNIPS (which need π_e(a_i) alone) run. */
const MAX_DENSE_CELLS = 20_000_000;
/** Largest number of distinct items for the reward model's one-hot action effects (its Newton step is cubic in them). */
const MAX_MODEL_ACTIONS = 400;

export class OpeAccumulator {
  private readonly itemIndex = new Map<string, number>();
  private readonly action: number[] = [];
  private readonly position: number[] = [];
  private readonly reward: number[] = [];
  private readonly pscore: number[] = [];
  private readonly contexts: number[] = [];
  /** per round: the decision's UTC day (for the estimate over time) */
  private readonly day: string[] = [];
  /** per round: the items the target can place (global index) and their probability at the round's position */
  private readonly rowItems: Int32Array[] = [];
  private readonly rowProbs: Float64Array[] = [];
  /** Σ over rounds logged with propensity 1 of the target's mass elsewhere (mass where the logging policy had none) */
  private unsupportedMass = 0;
  decisions = 0;
  skippedSlots = 0;
  private readonly rng: Rng;

  constructor(
    private readonly target: TargetKind,
    private readonly slots: number,
    private readonly contextDim: number,
    seed: number,
  ) {
    this.rng = createRng(seed);
  }

  /** Adds one decision's rounds. */
  async add(d: LoggedDecisionRow): Promise<void> {
    const n = d.shortlist.ids.length;
    const candidates = d.shortlist.ids.map((_, i) => banditCandidate(d.shortlist, i));
    const k = Math.min(this.slots, n);
    const table = await targetTable(
      this.target,
      d,
      candidates,
      k,
      this.target.type === 'thompson' ? this.rng.split() : this.rng,
    );
    const global = Int32Array.from(d.shortlist.ids, (id) => {
      let g = this.itemIndex.get(id);
      if (g === undefined) this.itemIndex.set(id, (g = this.itemIndex.size));
      return g;
    });
    this.decisions++;
    for (const s of d.slots) {
      const j = s.position - 1;
      if (s.propensity === null || !(s.propensity > 0) || j >= k) {
        this.skippedSlots++;
        continue;
      }
      this.action.push(global[s.shortlistIndex]);
      this.position.push(j);
      this.reward.push(s.reward);
      this.pscore.push(s.propensity);
      this.day.push(d.createdAt ? new Date(d.createdAt).toISOString().slice(0, 10) : '');
      for (let c = 0; c < this.contextDim; c++) this.contexts.push(d.context[c] ?? 0);
      this.rowItems.push(global);
      this.rowProbs.push(table.subarray(j * n, (j + 1) * n));
      if (s.propensity === 1) this.unsupportedMass += 1 - table[j * n + s.shortlistIndex];
    }
  }

  get rounds(): number {
    return this.action.length;
  }

  /** The logging policy's own value: mean reward per logged slot with its normal (1 − α) interval. */
  onPolicy(alpha: number): {
    value: number;
    ci: { lower: number; upper: number; level: number };
    stdErr: number;
    n: number;
  } {
    const r = normalInterval(this.reward, alpha);
    return {
      value: r.mean,
      ci: { lower: r.lower, upper: r.upper, level: r.level },
      stdErr: r.standardError,
      n: this.reward.length,
    };
  }

  /** The accumulated rounds as libs/ope's inputs, with the cross-fitted reward model when one is wanted and can be fitted. */
  private prepare(wantsModel: boolean): {
    n: number;
    log: BanditLog;
    dist: ActionDistribution;
    qHat: RewardEstimates | undefined;
    warnings: string[];
  } {
    const n = this.action.length;
    const nItems = this.itemIndex.size;
    const warnings: string[] = [];
    const dense = n * nItems <= MAX_DENSE_CELLS;
    const log: BanditLog = {
      action: dense ? Int32Array.from(this.action) : new Int32Array(n),
      reward: Float64Array.from(this.reward),
      pscore: Float64Array.from(this.pscore),
      position: Int32Array.from(this.position),
    };
    const width = dense ? nItems : 1;
    const probs = new Float64Array(n * width);
    for (let r = 0; r < n; r++) {
      const items = this.rowItems[r];
      const p = this.rowProbs[r];
      if (dense) for (let i = 0; i < items.length; i++) probs[r * width + items[i]] += p[i];
      else probs[r] = p[items.indexOf(this.action[r])];
    }
    const dist = { nActions: width, probs };
    let qHat: RewardEstimates | undefined;
    if (wantsModel) {
      const why = !dense
        ? `the log has too many rounds × items (${n} × ${nItems}) for the reward model`
        : nItems > MAX_MODEL_ACTIONS
          ? `the log has ${nItems} distinct items, more than the reward model's ${MAX_MODEL_ACTIONS}`
          : this.reward.some((r) => r < 0 || r > 1)
            ? 'rewards outside [0, 1] (the reward model is a logistic regression)'
            : null;
      if (why) warnings.push(`DM, DR, SNDR and Switch-DR skipped: ${why}.`);
      else {
        try {
          qHat = fitRewardModel(log, {
            nActions: nItems,
            context: Float64Array.from(this.contexts),
            dContext: this.contextDim,
            folds: n >= 30 ? 3 : 1,
          });
        } catch (err) {
          warnings.push(
            `DM, DR, SNDR and Switch-DR skipped: the reward model could not be fitted (${(err as Error).message}).`,
          );
        }
      }
    }
    return { n, log, dist, qHat, warnings };
  }

  /** Runs the estimators on the accumulated rounds. */
  evaluate(options: {
    estimators: readonly OpeEstimator[];
    alpha: number;
    clip?: number;
  }): Omit<OpeResult, 'posterior' | 'actionDistribution'> {
    const { n, log, dist, qHat, warnings } = this.prepare(options.estimators.some((e) => e !== 'ips' && e !== 'snips'));
    const report = evaluatePolicy(log, dist, { alpha: options.alpha, clip: options.clip, qHat });
    const estimates: EstimateView[] = report.estimates
      .filter((e) => options.estimators.includes(e.estimator as OpeEstimator))
      .map((e) => ({
        estimator: e.estimator as OpeEstimator,
        value: e.value,
        ci: { lower: e.normal.lower, upper: e.normal.upper, level: e.normal.level },
        stdErr: e.standardError,
      }));
    const missing = this.unsupportedMass / n;
    if (missing > 1e-9) {
      warnings.push(
        `Missing support: on rounds logged with propensity 1 the target puts ${(missing * 100).toFixed(1)}% of the per-round mass on items the logging policy never showed there; every estimate is biased towards the logged items.`,
      );
    } else {
      const se = report.weights.meanWeight > 0 ? Math.sqrt(variance(report, log, dist) / n) : 0;
      if (report.weights.meanWeight + 3 * se < 0.9) {
        warnings.push(
          `Possible missing support: the mean importance weight is ${report.weights.meanWeight.toFixed(3)} (1 expected when the logging policy covers the target).`,
        );
      }
    }
    if (this.skippedSlots)
      warnings.push(
        `${this.skippedSlots} logged slots had no propensity (or lay beyond the experiment's slots) and were left out.`,
      );
    return {
      n,
      decisions: this.decisions,
      effectiveSampleSize: report.weights.effectiveSampleSize,
      maxWeight: report.weights.maxWeight,
      meanWeight: report.weights.meanWeight,
      clip: Number.isFinite(report.clip) ? report.clip : null,
      loggedValue: report.loggedValue,
      estimates,
      warnings,
    };
  }

  /**
   * The estimate over time: IPS and DR per UTC day of the decisions and cumulative up to each day's end, each a mean
   * of per-round terms (libs/ope's round rewards, the reward model cross-fitted once on the whole log) with its
   * normal (1 − α) interval. DR is null when no reward model could be fitted (see `warnings`).
   */
  series(options: { alpha: number; clip?: number }): { points: SeriesPoint[]; warnings: string[] } {
    const { n, log, dist, qHat, warnings } = this.prepare(true);
    const terms = {
      ips: ips(log, dist, { clip: options.clip }).roundRewards,
      dr: qHat ? doublyRobust(log, dist, qHat, { clip: options.clip }).roundRewards : null,
    };
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
      this.day[a] < this.day[b] ? -1 : this.day[a] > this.day[b] ? 1 : a - b,
    );
    const points: SeriesPoint[] = [];
    const stat = (values: number[]) => {
      if (values.length < 2) return null;
      const r = normalInterval(values, options.alpha);
      return { value: r.mean, ci: { lower: r.lower, upper: r.upper, level: r.level }, stdErr: r.standardError };
    };
    const cumulative: Record<'ips' | 'dr', number[]> = { ips: [], dr: [] };
    for (let i = 0; i < order.length;) {
      const day = this.day[order[i]];
      const today: Record<'ips' | 'dr', number[]> = { ips: [], dr: [] };
      for (; i < order.length && this.day[order[i]] === day; i++) {
        for (const e of ['ips', 'dr'] as const) {
          const t = terms[e];
          if (!t) continue;
          today[e].push(t[order[i]]);
          cumulative[e].push(t[order[i]]);
        }
      }
      points.push({
        day,
        n: today.ips.length,
        daily: { ips: stat(today.ips), dr: terms.dr ? stat(today.dr) : null },
        cumulative: { ips: stat(cumulative.ips), dr: terms.dr ? stat(cumulative.dr) : null },
      });
    }
    return { points, warnings };
  }
}

/** Sample variance of the raw importance weights (for the missing-support check). */
function variance(
  report: { weights: { meanWeight: number } },
  log: BanditLog,
  dist: { nActions: number; probs: Float64Array },
): number {
  const n = log.action.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const w = dist.probs[i * dist.nActions + log.action[i]] / log.pscore[i];
    s += (w - report.weights.meanWeight) ** 2;
  }
  return n > 1 ? s / (n - 1) : 0;
}
