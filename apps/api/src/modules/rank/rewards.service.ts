import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FeatureStoreService } from '../features';
import { DecisionsRepository, RewardRow, RewardTarget } from './decisions.repository';
import { banditCandidate } from './candidates';
import { RankEngine } from './rank-engine';
import { MAX_REWARD_VALUE, RewardsRequest } from './rank.schema';

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
   * rank on this process sees them. Each reward is classified in this order: a duplicate (its eventId was stored
   * before, or came earlier in this batch) before any other check, so a retry is never reported as rejected; then
   * rejected (unknown decision, item not shown, timestamp, reward window, the model's range); then accepted.
   * Rewards without an eventId are applied every time they are sent.
   *
   * Ranges (`rewardRange`): the beta model takes rewards in [0, 1] and slot totals in [0, 1]; every other model, and
   * variants without one, slot totals in [−MAX_REWARD_VALUE, MAX_REWARD_VALUE]. A slot's total is its stored total
   * plus the rewards before it in this batch; the repository checks it again under a lock, so concurrent batches
   * cannot pass it together.
   */
  async record(req: RewardsRequest): Promise<RewardsResult> {
    const rejected: RewardsResult['rejected'] = [];
    const pairs = uniquePairs(req.rewards);
    const eventIds = [...new Set(req.rewards.flatMap((r) => (r.eventId === undefined ? [] : [r.eventId])))];
    const [targetList, storedEvents] = await Promise.all([
      this.decisions.rewardTargets(pairs),
      this.decisions.existingRewardEventIds(eventIds),
    ]);
    const targets = new Map(targetList.map((t) => [key(t.decisionId, t.itemId), t]));
    const now = Date.now();
    const rows: RewardRow[] = [];
    const rowIndex: number[] = [];
    const rowModel: Array<string | null> = [];
    const seenEvents = new Set<string>();
    const batchSums = new Map<string, number>();
    let duplicates = 0;
    for (const [index, r] of req.rewards.entries()) {
      if (r.eventId !== undefined) {
        if (storedEvents.has(r.eventId) || seenEvents.has(r.eventId)) {
          duplicates++;
          continue;
        }
        seenEvents.add(r.eventId);
      }
      const target = targets.get(key(r.decisionId, r.itemId));
      const checked = await this.check(target, r, now);
      if (typeof checked === 'string') {
        rejected.push({ index, reason: checked });
        continue;
      }
      // The slot's total with this reward: stored + the rest of this batch before it, summed in batch order (the
      // order in which the repository sums them again under the lock).
      const k = key(r.decisionId, r.itemId);
      const sum = (batchSums.get(k) ?? 0) + r.value;
      const total = (target!.slotReward ?? 0) + sum;
      if (!(total >= checked.range[0] && total <= checked.range[1])) {
        rejected.push({ index, reason: totalReason(checked.model, checked.range, total) });
        continue;
      }
      batchSums.set(k, sum);
      rows.push({
        decisionId: r.decisionId,
        itemId: r.itemId,
        value: r.value,
        eventId: r.eventId ?? null,
        occurredAt: r.timestamp ? new Date(r.timestamp) : new Date(now),
        totalRange: checked.range,
      });
      rowIndex.push(index);
      rowModel.push(checked.model);
    }
    if (!rows.length) return { accepted: 0, duplicates, rejected };
    const { applied, duplicateEventIds, outOfRange } = await this.decisions.storeRewards(rows, this.config.replicaId);
    // A concurrent batch moved the slot's total between the check above and the lock.
    for (const o of outOfRange)
      rejected.push({ index: rowIndex[o.row], reason: totalReason(rowModel[o.row], rows[o.row].totalRange, o.total) });
    rejected.sort((a, b) => a.index - b.index);
    // Feature store: the stored, non-duplicate, in-range rewards feed reward-sourced features (no I/O when none is defined).
    const outOfRangeRows = new Set(outOfRange.map((o) => o.row));
    await this.features.recordRewards(
      rows.filter((r, i) => !outOfRangeRows.has(i) && (r.eventId === null || !duplicateEventIds.has(r.eventId))),
    );
    // Durable. Now correct the posteriors by the difference between each slot's old and new reward totals.
    for (const a of applied) {
      const target = targets.get(key(a.decisionId, a.itemId))!;
      const runtime = await this.engine.runtimeById(target.experimentId);
      const variant = runtime.variants.get(target.variantKey);
      if (variant?.serving) {
        const candidate = banditCandidate(
          {
            ids: [target.itemId],
            rankerScores: [0],
            features: [target.features ?? []],
            ...(target.embedding ? { embeddings: { '0': target.embedding } } : {}),
          },
          0,
        );
        variant.serving.recordReward(a.seqs, target.context, candidate, a.before, a.after, target.position! - 1);
      }
    }
    const stored = rows.length - outOfRange.length - duplicateEventIds.size;
    return { accepted: stored, duplicates: duplicates + duplicateEventIds.size, rejected };
  }

  /** A rejection reason, or the model and the range the slot's total must stay in. */
  private async check(
    target: RewardTarget | undefined,
    r: RewardsRequest['rewards'][number],
    now: number,
  ): Promise<string | { model: string | null; range: readonly [number, number] }> {
    if (!target) return 'unknown decision';
    if (target.shortlistIndex === null) return `item "${r.itemId}" was not shown in this decision`;
    const decidedAt = new Date(target.createdAt).getTime();
    const at = r.timestamp ? Date.parse(r.timestamp) : now;
    if (at > now + CLOCK_SKEW_MS) return 'timestamp is in the future';
    if (at < decidedAt - CLOCK_SKEW_MS) return 'timestamp is before the decision';
    const runtime = await this.engine.runtimeById(target.experimentId);
    const windowMs = runtime.settings.rewardWindowSeconds * 1000;
    if (Math.max(at, now) > decidedAt + windowMs)
      return `reward window of ${runtime.settings.rewardWindowSeconds} s has closed`;
    const model = runtime.variants.get(target.variantKey)?.model?.type ?? null;
    const range = rewardRange(model);
    if (model === 'beta' && !(r.value >= 0 && r.value <= 1)) return 'the beta model takes rewards in [0, 1]';
    return { model, range };
  }
}

/** The range a slot's reward total must stay in for a variant's model (null: a variant without a model). */
export function rewardRange(model: string | null): readonly [number, number] {
  return model === 'beta' ? [0, 1] : [-MAX_REWARD_VALUE, MAX_REWARD_VALUE];
}

function totalReason(model: string | null, range: readonly [number, number], total: number): string {
  if (model === 'beta') return `the beta model takes rewards in [0, 1]; this slot would total ${total}`;
  const what = model ? `the ${model} model takes` : 'this variant takes';
  return `${what} slot reward totals in [${range[0]}, ${range[1]}]; this slot would total ${total}`;
}

function key(decisionId: string, itemId: string): string {
  return `${decisionId}\u0000${itemId}`;
}

function uniquePairs(rewards: RewardsRequest['rewards']): Array<{ decisionId: string; itemId: string }> {
  const seen = new Map<string, { decisionId: string; itemId: string }>();
  for (const r of rewards) seen.set(key(r.decisionId, r.itemId), { decisionId: r.decisionId, itemId: r.itemId });
  return [...seen.values()];
}
