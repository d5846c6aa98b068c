import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { ModelSnapshot } from '@slotwise/bandit';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { Problem } from '../../common/http/problem';
import { ExperimentEvents } from '../experiments/experiment-events';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import type { PolicySpec } from '../experiments/experiment.schema';
import { ModelsService } from '../models/models.service';
import { buildVariant, ExperimentRuntime, modelSpecFor, VariantRuntime } from './experiment-runtime';
import { ModelStateRepository, StoredShortlist } from './model-state.repository';
import { banditCandidate } from './candidates';

/**
 * Keeps each ranking experiment's serving state in memory: definition, policies, posteriors (sums of sufficient
 * statistics) and per-item impressions. Posterior deltas are added to PostgreSQL every MODEL_FLUSH_MS and at
 * shutdown; at load, this replica's decisions and rewards not yet in the stored snapshot are replayed, so a crash
 * loses no acknowledged reward.
 */
@Injectable()
export class RankEngine implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RankEngine');
  private readonly runtimes = new Map<string, Promise<ExperimentRuntime>>();
  /** Experiment id → key; both are immutable, so entries never go stale. */
  private readonly keysById = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly state: ModelStateRepository,
    private readonly models: ModelsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    events: ExperimentEvents,
  ) {
    this.unsubscribe = events.onChanged((key) => void this.refresh(key));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.modelFlushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  /** The runtime of a ranking experiment (404 when unknown, 400 for an A/B experiment). */
  async runtime(key: string): Promise<ExperimentRuntime> {
    let pending = this.runtimes.get(key);
    if (!pending) {
      pending = this.load(key);
      this.runtimes.set(key, pending);
      pending.catch(() => this.runtimes.delete(key));
    }
    return pending;
  }

  /** Runtimes already in memory (no load). */
  async loaded(): Promise<ExperimentRuntime[]> {
    const settled = await Promise.allSettled(this.runtimes.values());
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  /** The runtime of an experiment by id (rewards name decisions, which name experiments by id). */
  async runtimeById(experimentId: string): Promise<ExperimentRuntime> {
    let key = this.keysById.get(experimentId);
    if (!key) {
      const found = await this.experiments.keyById(experimentId);
      if (!found) throw Problem.notFound(`No experiment with id ${experimentId}.`);
      this.keysById.set(experimentId, (key = found));
    }
    return this.runtime(key);
  }

  private async load(key: string): Promise<ExperimentRuntime> {
    const entity = await this.experiments.findByKey(key);
    if (!entity) throw Problem.notFound(`No experiment with key "${key}".`);
    if (entity.kind !== 'ranking') {
      throw Problem.badRequest(`Experiment "${key}" is an A/B experiment; ask /v1/assign for its variant.`, [{ path: 'experiment', message: 'is not a ranking experiment' }]);
    }
    const runtime = new ExperimentRuntime(entity);
    const ranker = runtime.settings.ranker.model === 'none' ? null : await this.models.describe(runtime.settings.ranker.model);
    const dims = { contextDim: runtime.settings.features.context.length, itemDim: runtime.settings.features.item.length, embeddingDim: ranker?.embeddingDim ?? null };
    for (const v of entity.variants.sort((a, b) => a.position - b.position)) {
      const spec = v.policy as PolicySpec;
      let modelSpec;
      try {
        modelSpec = modelSpecFor(spec, dims);
      } catch (err) {
        throw Problem.conflict(`Variant "${v.key}" of "${key}" cannot serve: ${(err as Error).message}.`, 'misconfigured');
      }
      const stored = modelSpec ? await this.state.load(entity.id, v.key) : null;
      const variant = buildVariant(v.key, spec, modelSpec, (stored?.snapshot as unknown as ModelSnapshot) ?? null);
      variant.storedVersion = stored?.version ?? 0;
      if (variant.model) await this.replay(runtime, variant);
      runtime.variants.set(v.key, variant);
    }
    runtime.impressions = await this.state.impressions(entity.id);
    return runtime;
  }

  /** Re-applies this replica's decisions and rewards that the stored snapshot does not contain yet. */
  private async replay(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    const model = variant.model!;
    const decisions = await this.state.unappliedDecisions(this.config.replicaId, runtime.id, variant.key);
    const contexts = new Map<string, { context: number[]; shortlist: StoredShortlist }>();
    for (const d of decisions) {
      contexts.set(d.id, d);
      for (const s of d.slots) model.observe(d.context, banditCandidate(d.shortlist, s.shortlistIndex), 0);
      variant.pendingDecisionIds.push(d.id);
    }
    const rewards = await this.state.unappliedRewards(this.config.replicaId, runtime.id, variant.key);
    if (!rewards.length) {
      if (decisions.length) this.logger.log(`replayed ${decisions.length} decisions of ${runtime.key}/${variant.key}`);
      return;
    }
    // Each slot's total before the unapplied rewards = its stored total minus those rewards.
    const unappliedSum = new Map<string, number>();
    for (const r of rewards) unappliedSum.set(`${r.decisionId}|${r.itemId}`, (unappliedSum.get(`${r.decisionId}|${r.itemId}`) ?? 0) + r.value);
    const running = new Map<string, number>();
    const missing = rewards.filter((r) => !contexts.has(r.decisionId)).map((r) => r.decisionId);
    for (const d of await this.state.decisionContexts([...new Set(missing)])) contexts.set(d.id, d);
    for (const r of rewards) {
      const k = `${r.decisionId}|${r.itemId}`;
      const before = running.get(k) ?? r.slotReward - unappliedSum.get(k)!;
      const after = before + r.value;
      const d = contexts.get(r.decisionId)!;
      const index = d.shortlist.ids.indexOf(r.itemId);
      model.correct(d.context, banditCandidate(d.shortlist, index), before, after);
      running.set(k, after);
      variant.pendingRewardSeqs.push(r.seq);
    }
    this.logger.log(`replayed ${decisions.length} decisions and ${rewards.length} rewards of ${runtime.key}/${variant.key}`);
  }

  /** A definition changed (status, weights): keep the posteriors, take the new definition. */
  private async refresh(key: string): Promise<void> {
    const current = this.runtimes.get(key);
    if (!current) return;
    try {
      const runtime = await current;
      const entity = await this.experiments.findByKey(key);
      if (entity) runtime.update(entity);
    } catch {
      this.runtimes.delete(key);
    }
  }

  /** Adds every variant's pending delta to PostgreSQL (one at a time; a failed write is retried next time). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        for (const runtime of await this.loaded()) {
          for (const variant of runtime.variants.values()) {
            if (variant.model && variant.hasPending) await this.flushVariant(runtime, variant);
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async flushVariant(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    const model = variant.model!;
    // Taken synchronously together: the delta holds exactly these decisions' and rewards' effects.
    const delta = model.takeDelta();
    const decisionIds = variant.pendingDecisionIds;
    const rewardSeqs = variant.pendingRewardSeqs;
    variant.pendingDecisionIds = [];
    variant.pendingRewardSeqs = [];
    try {
      const { before, after } = await this.state.addDelta(runtime.id, variant.key, delta as never, decisionIds, rewardSeqs);
      if (before !== variant.storedVersion) {
        // Another replica added its delta since our last flush: take the merged posterior (plus what is pending here).
        const stored = await this.state.load(runtime.id, variant.key);
        if (stored) model.rebase(stored.snapshot as never);
      }
      variant.storedVersion = after;
    } catch (err) {
      model.restoreDelta(delta as never);
      variant.pendingDecisionIds = decisionIds.concat(variant.pendingDecisionIds);
      variant.pendingRewardSeqs = rewardSeqs.concat(variant.pendingRewardSeqs);
      this.logger.warn(`model flush of ${runtime.key}/${variant.key} failed, will retry: ${(err as Error).message}`);
    }
  }
}
