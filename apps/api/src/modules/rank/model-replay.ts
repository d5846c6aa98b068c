import { Inject, Injectable, Logger } from '@nestjs/common';
import { decisionItemKey } from '@slotwise/contracts';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { banditCandidate } from './candidates';
import type { ExperimentRuntime, VariantRuntime } from './experiment-runtime';
import { ModelStateRepository, StoredShortlist } from './model-state.repository';

/**
 * Replay at load: this replica's decisions and rewards whose rows are durable but whose effect is not in the stored
 * snapshot (`in_model` false: a crash before their flush) are applied again, each with its row id, so they are
 * pending exactly as before the crash and a crash loses no acknowledged decision or reward.
 */
@Injectable()
export class ModelReplay {
  private readonly logger = new Logger('RankEngine');

  constructor(
    private readonly state: ModelStateRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Re-applies this replica's decisions and rewards that the stored snapshot does not contain yet. */
  async replay(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    const serving = variant.serving!;
    const decisions = await this.state.unappliedDecisions(this.config.replicaId, runtime.id, variant.key);
    const contexts = new Map<string, { context: number[]; shortlist: StoredShortlist }>();
    for (const d of decisions) {
      contexts.set(d.id, d);
      serving.recordDecision(
        d.id,
        d.context,
        d.slots.map((s) => ({ candidate: banditCandidate(d.shortlist, s.shortlistIndex), slot: s.position - 1 })),
      );
    }
    const rewards = await this.state.unappliedRewards(this.config.replicaId, runtime.id, variant.key);
    if (!rewards.length) {
      if (decisions.length) this.logger.log(`replayed ${decisions.length} decisions of ${runtime.key}/${variant.key}`);
      return;
    }
    // Each slot's total before the unapplied rewards = its stored total minus those rewards.
    const unappliedSum = new Map<string, number>();
    for (const r of rewards)
      unappliedSum.set(
        decisionItemKey(r.decisionId, r.itemId),
        (unappliedSum.get(decisionItemKey(r.decisionId, r.itemId)) ?? 0) + r.value,
      );
    const running = new Map<string, number>();
    const missing = rewards.filter((r) => !contexts.has(r.decisionId)).map((r) => r.decisionId);
    for (const d of await this.state.decisionContexts([...new Set(missing)])) contexts.set(d.id, d);
    for (const r of rewards) {
      const k = decisionItemKey(r.decisionId, r.itemId);
      const before = running.get(k) ?? r.slotReward - unappliedSum.get(k)!;
      const after = before + r.value;
      const d = contexts.get(r.decisionId)!;
      const index = d.shortlist.ids.indexOf(r.itemId);
      serving.recordReward([r.seq], d.context, banditCandidate(d.shortlist, index), before, after, r.position - 1);
      running.set(k, after);
    }
    this.logger.log(
      `replayed ${decisions.length} decisions and ${rewards.length} rewards of ${runtime.key}/${variant.key}`,
    );
  }
}
