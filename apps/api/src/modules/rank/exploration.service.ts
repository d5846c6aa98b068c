import { Injectable } from '@nestjs/common';
import { Problem } from '../../common/http/problem';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import type { ExperimentSettings } from '../experiments/experiment.view';
import { ColdItem, ExplorationRepository, ItemCounts, totalOf } from './exploration.repository';

export const TOP_ITEMS = 10;
export const COLD_ITEM_LIST = 20;
const Z95 = 1.959963984540054;

export interface ExplorationSection {
  decisions: number;
  slots: number;
  exploreRate: number | null;
  coldStartRate: number | null;
  coldItems: number;
  coldItemsShown: number;
  graduatedItems: number;
  medianDecisionsToGraduate: number | null;
  coldStartThreshold: number;
  variants: Array<{
    variant: string;
    decisions: number;
    slots: number;
    exploreRate: number | null;
    coldStartRate: number | null;
  }>;
  /** The most-shown items in the window; `topItemsMethod` says what their posterior mean and interval are. */
  topItems: TopItem[];
  topItemsMethod: TopItemsMethod;
  /** Cold items shortlisted in the window, most impressions first, with `remaining` = threshold − impressions. */
  coldItemList: ColdItem[];
}

/**
 * How `topItems` summarises an item, from its SQL-aggregated counts over ALL variants' shown slots in the window
 * (n = impressions, Σr = Σ slot reward totals, Σr² for the variance). Not any replica's in-memory posterior:
 * - `beta-normal`: every learning variant uses the `beta` model. Mean of Beta(1 + Σr, 1 + n − Σr) (the uniform
 *   prior the beta model starts from), and mean ± 1.96·SD of that Beta: a normal approximation of its 95 % credible
 *   interval (not the exact Beta quantiles), clipped to [0, 1].
 * - `empirical`: otherwise (linear / hybrid / neural-linear models, whose posterior is over coefficients, not per
 *   item). Mean = Σr / n, the empirical reward rate per impression. Interval: the 95 % Wilson score interval when every
 *   slot reward of the item is 0 or 1; else the normal interval mean ± 1.96·s/√n with s² the sample variance of the
 *   slot rewards; null bounds when n < 2.
 */
export type TopItemsMethod = 'beta-normal' | 'empirical';

export interface TopItem {
  itemId: string;
  impressions: number;
  rewards: number;
  rewardRate: number;
  posteriorMean: number;
  lower: number | null;
  upper: number | null;
  /** which interval this item got (see TopItemsMethod) */
  interval: 'beta-normal' | 'wilson' | 'normal';
  /** fewer than the cold-start threshold shown slots over the experiment's log */
  cold: boolean;
}

const clip01 = (x: number) => Math.min(1, Math.max(0, x));

/** Posterior mean and 95 % interval of one item from its aggregated counts (see TopItemsMethod). */
export function summariseItem(c: ItemCounts, method: TopItemsMethod, threshold: number): TopItem {
  const n = c.impressions;
  const rewardRate = c.rewards / n;
  const base = {
    itemId: c.itemId,
    impressions: n,
    rewards: c.rewards,
    rewardRate,
    cold: c.lifetimeImpressions < threshold,
  };
  if (method === 'beta-normal') {
    const a = 1 + c.rewards;
    const b = Math.max(1 + n - c.rewards, Number.EPSILON);
    const mean = a / (a + b);
    const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    return {
      ...base,
      posteriorMean: mean,
      lower: clip01(mean - Z95 * sd),
      upper: clip01(mean + Z95 * sd),
      interval: 'beta-normal',
    };
  }
  if (c.binary) {
    const z2 = Z95 * Z95;
    const centre = (rewardRate + z2 / (2 * n)) / (1 + z2 / n);
    const half = (Z95 / (1 + z2 / n)) * Math.sqrt((rewardRate * (1 - rewardRate)) / n + z2 / (4 * n * n));
    // At 0 % and 100 % the Wilson bound is exactly 0 / 1 (floating point would leave ~1e-17 on the wrong side).
    const lower = rewardRate === 0 ? 0 : clip01(centre - half);
    const upper = rewardRate === 1 ? 1 : clip01(centre + half);
    return { ...base, posteriorMean: rewardRate, lower, upper, interval: 'wilson' };
  }
  if (n < 2) return { ...base, posteriorMean: rewardRate, lower: null, upper: null, interval: 'normal' };
  const variance = Math.max(0, (c.rewardSquares - n * rewardRate * rewardRate) / (n - 1));
  const half = Z95 * Math.sqrt(variance / n);
  return { ...base, posteriorMean: rewardRate, lower: rewardRate - half, upper: rewardRate + half, interval: 'normal' };
}

/** `beta-normal` when every variant that learns (thompson / epsilon-greedy) uses the beta model, else `empirical`. */
export function topItemsMethod(policies: Array<Record<string, unknown> | null>): TopItemsMethod {
  const models = policies
    .filter((p) => p && (p.type === 'thompson' || p.type === 'epsilon-greedy'))
    .map((p) => p!.model ?? 'hybrid');
  return models.length > 0 && models.every((m) => m === 'beta') ? 'beta-normal' : 'empirical';
}

@Injectable()
export class ExplorationService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly exploration: ExplorationRepository,
  ) {}

  /** The report's `exploration` section for a ranking experiment, overall and per variant, in [from, to). */
  async section(key: string, from: Date | null, to: Date | null): Promise<ExplorationSection | null> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    if (e.kind !== 'ranking') return null;
    const threshold = (e.settings as unknown as ExperimentSettings).coldStartThreshold;
    const variants = await this.exploration.byVariant(e.id, from, to);
    const total = totalOf(variants);
    const cold = await this.exploration.coldStart(e.id, threshold, from, to);
    const method = topItemsMethod(e.variants.map((v) => v.policy));
    const top = await this.exploration.topItems(e.id, from, to, TOP_ITEMS);
    const coldItemList = await this.exploration.coldItems(e.id, threshold, from, to, COLD_ITEM_LIST);
    return {
      decisions: total.decisions,
      slots: total.slots,
      exploreRate: total.exploreRate,
      coldStartRate: total.coldStartRate,
      ...cold,
      coldStartThreshold: threshold,
      variants: variants.map((v) => ({
        variant: v.variant,
        decisions: v.decisions,
        slots: v.slots,
        exploreRate: v.exploreRate,
        coldStartRate: v.coldStartRate,
      })),
      topItems: top.map((c) => summariseItem(c, method, threshold)),
      topItemsMethod: method,
      coldItemList,
    };
  }
}
