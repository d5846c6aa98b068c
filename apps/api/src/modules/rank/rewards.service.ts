import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FeatureStoreService } from '../features';
import { DecisionsRepository, RewardRow, RewardTarget } from './decisions.repository';
import { banditCandidate } from './candidates';
import { RankEngine } from './rank-engine';
import { RewardsRequest } from './rank.schema';

/** A reward may arrive up to this long before the server's clock says its decision was made (client clock skew). */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface RewardsResult {
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; reason: string }>;
}

@Injectable()
export class RewardsService {
  constructor(
    private readonly decisions: DecisionsRepository,
    private readonly engine: RankEngine,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly features: FeatureStoreService,
  ) {}

  /**
   * Stores the batch's valid rewards durably (one transaction), then corrects the posteriors at once: the next
   * rank on this process sees them. Rewards with an eventId seen before are duplicates; rewards without an
   * eventId are applied every time they are sent.
   */
  async record(req: RewardsRequest): Promise<RewardsResult> {
    const rejected: RewardsResult['rejected'] = [];
    const pairs = uniquePairs(req.rewards);
    const targets = new Map((await this.decisions.rewardTargets(pairs)).map((t) => [key(t.decisionId, t.itemId), t]));
    const now = Date.now();
    const rows: RewardRow[] = [];
    const seenEvents = new Set<string>();
    let duplicates = 0;
    for (const [index, r] of req.rewards.entries()) {
      const target = targets.get(key(r.decisionId, r.itemId));
      const reason = await this.rejection(target, r, now);
      if (reason) {
        rejected.push({ index, reason });
        continue;
      }
      if (r.eventId !== undefined) {
        if (seenEvents.has(r.eventId)) {
          duplicates++;
          continue;
        }
        seenEvents.add(r.eventId);
      }
      rows.push({ decisionId: r.decisionId, itemId: r.itemId, value: r.value, eventId: r.eventId ?? null, occurredAt: r.timestamp ? new Date(r.timestamp) : new Date(now) });
    }
    if (!rows.length) return { accepted: 0, duplicates, rejected };
    const { applied, duplicateEventIds } = await this.decisions.storeRewards(rows, this.config.replicaId);
    // Feature store: the stored, non-duplicate rewards feed reward-sourced features (no I/O when none is defined).
    await this.features.recordRewards(rows.filter((r) => r.eventId === null || !duplicateEventIds.has(r.eventId)));
    // Durable. Now correct the posteriors by the difference between each slot's old and new reward totals.
    for (const a of applied) {
      const target = targets.get(key(a.decisionId, a.itemId))!;
      const runtime = await this.engine.runtimeById(target.experimentId);
      const variant = runtime.variants.get(target.variantKey);
      if (variant?.model) {
        const candidate = banditCandidate(
          { ids: [target.itemId], rankerScores: [0], features: [target.features ?? []], ...(target.embedding ? { embeddings: { '0': target.embedding } } : {}) },
          0,
        );
        variant.model.correct(target.context, candidate, a.before, a.after);
        variant.pendingRewardSeqs.push(...a.seqs);
      }
    }
    return { accepted: rows.length - duplicateEventIds.size, duplicates: duplicates + duplicateEventIds.size, rejected };
  }

  private async rejection(target: RewardTarget | undefined, r: RewardsRequest['rewards'][number], now: number): Promise<string | null> {
    if (!target) return 'unknown decision';
    if (target.shortlistIndex === null) return `item "${r.itemId}" was not shown in this decision`;
    const decidedAt = new Date(target.createdAt).getTime();
    const at = r.timestamp ? Date.parse(r.timestamp) : now;
    if (at > now + CLOCK_SKEW_MS) return 'timestamp is in the future';
    if (at < decidedAt - CLOCK_SKEW_MS) return 'timestamp is before the decision';
    const runtime = await this.engine.runtimeById(target.experimentId);
    const windowMs = runtime.settings.rewardWindowSeconds * 1000;
    if (Math.max(at, now) > decidedAt + windowMs) return `reward window of ${runtime.settings.rewardWindowSeconds} s has closed`;
    const variant = runtime.variants.get(target.variantKey);
    if (variant?.model?.type === 'beta') {
      const total = (target.slotReward ?? 0) + r.value;
      if (r.value < 0 || total > 1) return 'the beta model takes rewards in [0, 1] per slot';
    }
    return null;
  }
}

function key(decisionId: string, itemId: string): string {
  return `${decisionId}\u0000${itemId}`;
}

function uniquePairs(rewards: RewardsRequest['rewards']): Array<{ decisionId: string; itemId: string }> {
  const seen = new Map<string, { decisionId: string; itemId: string }>();
  for (const r of rewards) seen.set(key(r.decisionId, r.itemId), { decisionId: r.decisionId, itemId: r.itemId });
  return [...seen.values()];
}
