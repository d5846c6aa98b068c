import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { type AnyModel, type ModelSnapshot, modelFromSnapshot, nonFiniteStatistic, posteriorHealth } from '@slotwise/bandit';
import { decisionItemKey } from '@slotwise/contracts';
import { Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ClusterBus } from '../../database/cluster-bus';
import { Problem } from '../../common/http/problem';
import { ExperimentEvents } from '../experiments/experiment-events';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import type { PolicySpec } from '../experiments/experiment.schema';
import { ModelsService } from '../models/models.service';
import { buildVariant, ExperimentRuntime, modelSpecFor, VariantRuntime } from './experiment-runtime';
import { ModelStateRepository, ReplicaLeaseLostError, StoredShortlist } from './model-state.repository';
import { ReplicaLease } from './replica-lease';
import { HealthService } from '../observability/health.service';
import { MetricsService } from '../observability/metrics.service';
import { banditCandidate } from './candidates';

/** Seconds a client is told to wait before retrying a quarantined variant (an operator has to look at it). */
const QUARANTINE_RETRY_AFTER_S = 60;

/**
 * Keeps each ranking experiment's serving state in memory: definition, policies, posteriors (sums of sufficient
 * statistics) and per-item impressions. Posterior deltas are added to PostgreSQL every MODEL_FLUSH_MS and at
 * shutdown; at load, this replica's decisions and rewards not yet in the stored snapshot are replayed, so a crash
 * loses no acknowledged reward.
 *
 * Invariants (see docs/scale-out.md): a delta whose flush committed is never added again (only a flush known not to
 * have committed puts its delta back); stored posteriors are read from one snapshot; a flush and a reload of the
 * same variant never interleave; a posterior that is not finite or not positive definite is never written and its
 * variant is quarantined (rank answers 503 for it) instead of failing every request.
 */
@Injectable()
export class RankEngine implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RankEngine');
  private readonly runtimes = new Map<string, Promise<ExperimentRuntime>>();
  /** Experiment id → key; both are immutable, so entries never go stale. */
  private readonly keysById = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly state: ModelStateRepository,
    private readonly models: ModelsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    events: ExperimentEvents,
    private readonly lease: ReplicaLease,
    metrics: MetricsService,
    health: HealthService,
    private readonly bus: ClusterBus,
  ) {
    this.unsubscribe = [
      events.onChanged((key) => void this.refresh(key)),
      // Another replica's flush committed a version: reload now rather than at our next flush or idle check.
      bus.on('model', (m) => void this.heard(m.experimentId, m.variant, m.version)),
      // Versions may have been missed while the listener was away: every variant checks before its next decision.
      bus.onResync(() => void this.loaded().then((rs) => rs.forEach((r) => r.variants.forEach((v) => (v.syncedAt = 0))))),
    ];
    const quarantined = () => this.quarantined();
    new Gauge({
      name: 'slotwise_model_quarantined',
      help: 'Variants whose posterior is quarantined on this process (1 per variant; rank answers 503 for them)',
      labelNames: ['experiment', 'variant'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const q of await quarantined()) this.set({ experiment: q.experiment, variant: q.variant }, 1);
      },
    });
    health.register({
      name: 'models',
      check: async () => {
        const quarantined = await this.quarantined();
        return {
          ...(lease.held ? {} : { unavailable: `replica id "${lease.replicaId}" was taken over by another process` }),
          ...(quarantined.length ? { degraded: { quarantined } } : {}),
        };
      },
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.config.modelFlushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe.forEach((u) => u());
    if (this.timer) clearInterval(this.timer);
    // A flush in flight took its delta before the last requests finished: wait for it, then flush the rest.
    await this.flushing;
    await this.flush();
  }

  /** The runtime of a ranking experiment (404 when unknown, 400 for an A/B experiment). */
  async runtime(key: string): Promise<ExperimentRuntime> {
    if (!this.lease.held) {
      throw Problem.unavailable(
        'Replica id taken over',
        `Another process took over this process's replica id "${this.lease.replicaId}"; this process no longer ranks or records rewards. Restart it with its own SLOTWISE_REPLICA_ID.`,
        'replica-id-lost',
        5,
      );
    }
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

  /** Variants quarantined on this process (for /health and /metrics). */
  async quarantined(): Promise<Array<{ experiment: string; variant: string; reason: string; since: string }>> {
    return (await this.loaded()).flatMap((r) =>
      [...r.variants.values()].flatMap((v) => (v.quarantine ? [{ experiment: r.key, variant: v.key, reason: v.quarantine.reason, since: v.quarantine.since.toISOString() }] : [])),
    );
  }

  /**
   * Before a decision: a quarantined variant answers 503; a variant this replica has not synchronised for longer
   * than the flush interval (an idle replica, whose flushes have nothing to write and so never see other replicas'
   * versions) checks the stored version and reloads the merged posterior when another replica wrote.
   */
  async readyToDecide(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    if (variant.model && !variant.quarantine && Date.now() - variant.syncedAt > this.config.modelFlushMs) {
      await variant.exclusive(async () => {
        if (variant.quarantine || Date.now() - variant.syncedAt <= this.config.modelFlushMs) return;
        const version = await this.state.storedVersion(runtime.id, variant.key);
        if (version !== variant.storedVersion) await this.reload(runtime, variant);
        else variant.syncedAt = Date.now();
      });
    }
    if (variant.quarantine) {
      throw Problem.unavailable(
        'Variant quarantined',
        `The posterior of variant "${variant.key}" of "${runtime.key}" cannot serve (${variant.quarantine.reason}); it is quarantined since ${variant.quarantine.since.toISOString()}. Other variants are served; see /health.`,
        'variant-quarantined',
        QUARANTINE_RETRY_AFTER_S,
      );
    }
  }

  private async load(key: string): Promise<ExperimentRuntime> {
    const entity = await this.experiments.findByKey(key);
    if (!entity) throw Problem.notFound(`No experiment with key "${key}".`);
    if (entity.kind !== 'ranking') {
      throw Problem.badRequest(`Experiment "${key}" is an A/B experiment; ask /v1/assign for its variant.`, [{ path: 'experiment', message: 'is not a ranking experiment' }]);
    }
    const runtime = new ExperimentRuntime(entity);
    this.keysById.set(entity.id, key);
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
      const snapshot = (stored?.snapshot as unknown as ModelSnapshot | undefined) ?? null;
      // Building the model factors its precision matrices: it fails unless they are positive definite.
      let unusable = snapshot && nonFiniteStatistic(snapshot.stats) ? `statistic ${nonFiniteStatistic(snapshot.stats)} is not a finite number` : null;
      let variant: VariantRuntime | undefined;
      if (!unusable) {
        try {
          variant = buildVariant(v.key, spec, modelSpec, snapshot);
        } catch (err) {
          unusable = (err as Error).message;
        }
      }
      variant ??= buildVariant(v.key, spec, modelSpec, null);
      variant.storedVersion = stored?.version ?? 0;
      variant.syncedAt = Date.now();
      runtime.variants.set(v.key, variant);
      if (unusable) {
        this.quarantine(runtime, variant, `stored posterior version ${stored!.version}: ${unusable}`);
        continue;
      }
      if (variant.model) {
        try {
          await this.replay(runtime, variant);
          const bad = nonFiniteStatistic(variant.model.peekDelta().stats);
          if (bad) throw new Error(`replayed statistic ${bad} is not a finite number`);
        } catch (err) {
          this.quarantine(runtime, variant, `replay of this replica's unflushed rows failed: ${(err as Error).message}`);
        }
      }
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
      for (const s of d.slots) model.observe(d.context, banditCandidate(d.shortlist, s.shortlistIndex), 0, s.position - 1);
      variant.pendingDecisionIds.push(d.id);
    }
    const rewards = await this.state.unappliedRewards(this.config.replicaId, runtime.id, variant.key);
    if (!rewards.length) {
      if (decisions.length) this.logger.log(`replayed ${decisions.length} decisions of ${runtime.key}/${variant.key}`);
      return;
    }
    // Each slot's total before the unapplied rewards = its stored total minus those rewards.
    const unappliedSum = new Map<string, number>();
    for (const r of rewards) unappliedSum.set(decisionItemKey(r.decisionId, r.itemId), (unappliedSum.get(decisionItemKey(r.decisionId, r.itemId)) ?? 0) + r.value);
    const running = new Map<string, number>();
    const missing = rewards.filter((r) => !contexts.has(r.decisionId)).map((r) => r.decisionId);
    for (const d of await this.state.decisionContexts([...new Set(missing)])) contexts.set(d.id, d);
    for (const r of rewards) {
      const k = decisionItemKey(r.decisionId, r.itemId);
      const before = running.get(k) ?? r.slotReward - unappliedSum.get(k)!;
      const after = before + r.value;
      const d = contexts.get(r.decisionId)!;
      const index = d.shortlist.ids.indexOf(r.itemId);
      model.correct(d.context, banditCandidate(d.shortlist, index), before, after, r.position - 1);
      running.set(k, after);
      variant.pendingRewardSeqs.push(r.seq);
    }
    this.logger.log(`replayed ${decisions.length} decisions and ${rewards.length} rewards of ${runtime.key}/${variant.key}`);
  }

  /**
   * Another replica stored version `version` of a variant's posterior: a variant loaded here and behind it reloads
   * (stored snapshot + what is pending here) in its exclusive section, so the next decision uses the merged model.
   */
  private async heard(experimentId: string, variantKey: string, version: number): Promise<void> {
    const key = this.keysById.get(experimentId);
    const pending = key ? this.runtimes.get(key) : undefined;
    if (!pending) return;
    const runtime = await pending.catch(() => null);
    const variant = runtime?.variants.get(variantKey);
    if (!runtime || !variant?.model || variant.quarantine || version <= variant.storedVersion) return;
    await variant.exclusive(async () => {
      if (!variant.quarantine && version > variant.storedVersion) await this.reload(runtime, variant);
    });
  }

  /** A definition changed (status, weights): keep the posteriors, take the new definition. */
  private async refresh(key: string): Promise<void> {
    const current = this.runtimes.get(key);
    if (!current) return;
    let runtime: ExperimentRuntime;
    try {
      runtime = await current;
    } catch {
      this.runtimes.delete(key);
      return;
    }
    // A failed read keeps the runtime (and its pending deltas); the definition is taken at the next change.
    const entity = await this.experiments.findByKey(key).catch(() => null);
    if (entity) runtime.update(entity);
  }

  /** Adds every variant's pending delta to PostgreSQL (one at a time; a failed write is retried next time). */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        for (const runtime of await this.loaded()) {
          for (const variant of runtime.variants.values()) {
            if (variant.quarantine && variant.hasPending) {
              // Rewards still arrive for a quarantined variant: their rows stay for the replay at restart.
              variant.pendingDecisionIds = [];
              variant.pendingRewardSeqs = [];
              variant.model?.takeDelta();
            }
            if (variant.model && !variant.quarantine && (variant.hasPending || variant.inDoubt)) await variant.exclusive(() => this.flushVariant(runtime, variant));
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  private async flushVariant(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    if (variant.quarantine || !this.lease.held) return;
    if (variant.inDoubt && !(await this.settleInDoubt(runtime, variant))) return;
    if (!variant.hasPending) return;
    const model = variant.model!;
    // Taken synchronously together: the delta holds exactly these decisions' and rewards' effects.
    const delta = model.takeDelta() as ModelSnapshot;
    const decisionIds = variant.pendingDecisionIds;
    const rewardSeqs = variant.pendingRewardSeqs;
    variant.pendingDecisionIds = [];
    variant.pendingRewardSeqs = [];
    const bad = nonFiniteStatistic(delta.stats);
    if (bad) {
      // Never written: the stored posterior stays finite. The rows stay out of the model (in_model = false).
      this.quarantine(runtime, variant, `update statistic ${bad} is not a finite number`);
      return;
    }
    let result: { before: number; after: number };
    try {
      result = await this.state.addDelta(runtime.id, variant.key, delta as never, decisionIds, rewardSeqs, this.lease.token);
    } catch (err) {
      if (err instanceof ReplicaLeaseLostError) {
        // Not committed, and never to be: the process now holding the id replays these rows.
        this.lease.markLost();
        return;
      }
      // Whether the transaction committed is unknown until asked (a failed COMMIT, a broken connection).
      variant.inDoubt = { delta, decisionIds, rewardSeqs };
      this.logger.warn(`model flush of ${runtime.key}/${variant.key} failed, will retry: ${(err as Error).message}`);
      await this.settleInDoubt(runtime, variant);
      return;
    }
    // Committed: from here on the delta is in the stored posterior and is never put back.
    void this.bus.publish('model', { experimentId: runtime.id, variant: variant.key, version: result.after });
    if (result.before === variant.storedVersion) {
      variant.storedVersion = result.after;
      variant.syncedAt = Date.now();
    } else {
      // Another replica added its delta since our last flush: take the merged posterior (plus what is pending here).
      await this.reload(runtime, variant);
    }
  }

  /**
   * Finds out whether an in-doubt flush committed: if it did, its delta is already stored (reload to learn the
   * version); if not, the delta and its rows go back into the pending delta. False while it cannot be told.
   */
  private async settleInDoubt(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<boolean> {
    const doubt = variant.inDoubt!;
    let committed: boolean;
    try {
      const probe = doubt.decisionIds.length ? { decisionId: doubt.decisionIds[0] } : { rewardSeq: doubt.rewardSeqs[0] };
      committed = await this.state.flushCommitted(runtime.id, variant.key, probe);
    } catch (err) {
      this.logger.warn(`cannot tell yet whether the failed flush of ${runtime.key}/${variant.key} committed: ${(err as Error).message}`);
      return false;
    }
    variant.inDoubt = null;
    if (committed) {
      this.logger.warn(`the failed flush of ${runtime.key}/${variant.key} had committed; not re-adding its delta`);
      await this.reload(runtime, variant);
      return !variant.quarantine;
    }
    variant.model!.restoreDelta(doubt.delta as never);
    variant.pendingDecisionIds = doubt.decisionIds.concat(variant.pendingDecisionIds);
    variant.pendingRewardSeqs = doubt.rewardSeqs.concat(variant.pendingRewardSeqs);
    return true;
  }

  /**
   * Replaces the in-memory posterior with the stored one (read from one snapshot) plus what is pending on this
   * replica. Runs inside the variant's exclusive section, so no flush is in flight: stored + pending is the whole
   * state. A failed rebase leaves the model half-moved, so the posterior is rebuilt from the snapshot instead;
   * when that fails too the stored posterior itself is broken and the variant is quarantined.
   */
  private async reload(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    let stored;
    try {
      stored = await this.state.load(runtime.id, variant.key);
    } catch (err) {
      // Serve on with the local posterior; storedVersion is stale, so the next flush or decision reloads again.
      this.logger.warn(`reload of ${runtime.key}/${variant.key} failed, will retry: ${(err as Error).message}`);
      return;
    }
    if (!stored) return;
    const snapshot = stored.snapshot as unknown as ModelSnapshot;
    const model = variant.model!;
    // Synchronous from here: nothing else touches the model until it is replaced.
    const pending = model.peekDelta() as ModelSnapshot;
    try {
      const bad = nonFiniteStatistic(snapshot.stats);
      if (bad) throw new Error(`stored statistic ${bad} is not a finite number`);
      model.rebase(snapshot as never);
    } catch (rebaseError) {
      try {
        variant.setModel(this.rebuilt(snapshot, pending));
        this.logger.warn(`rebase of ${runtime.key}/${variant.key} on version ${stored.version} failed (${(rebaseError as Error).message}); rebuilt from the stored posterior`);
      } catch (err) {
        this.quarantine(runtime, variant, `stored posterior version ${stored.version}: ${(err as Error).message}`);
        return;
      }
    }
    variant.storedVersion = stored.version;
    variant.syncedAt = Date.now();
  }

  /** A fresh model holding `snapshot` as its stored state and `pending` as its unflushed delta. */
  private rebuilt(snapshot: ModelSnapshot, pending: ModelSnapshot): AnyModel {
    const health = posteriorHealth(snapshot);
    if (!health.healthy) throw new Error(health.reason);
    const fresh = modelFromSnapshot(snapshot);
    // mergeDelta adds the pending statistics to the state; restoreDelta then marks them as not yet flushed.
    fresh.mergeDelta(pending as never);
    fresh.restoreDelta(pending as never);
    return fresh;
  }

  /**
   * Stops serving a variant whose posterior cannot be trusted. Its pending delta is dropped unwritten: the rows it
   * came from stay out of the stored statistics (`in_model` false) and are replayed when this replica restarts.
   */
  private quarantine(runtime: ExperimentRuntime, variant: VariantRuntime, reason: string): void {
    variant.quarantine = { reason, since: new Date() };
    // The model may be half-moved (a failed rebase): requests in flight and rewards still update a model, so give
    // them a fresh prior of the same configuration, never flushed (an empty delta is a snapshot of the prior).
    const model = variant.model;
    if (model) {
      try {
        model.takeDelta();
        variant.setModel(modelFromSnapshot(model.peekDelta() as ModelSnapshot));
      } catch {
        // keep the old model: a quarantined variant is never flushed nor ranked with
      }
    }
    variant.pendingDecisionIds = [];
    variant.pendingRewardSeqs = [];
    variant.inDoubt = null;
    this.logger.error(`quarantined the posterior of ${runtime.key}/${variant.key}: ${reason}; rank answers 503 for this variant until the process restarts`);
  }
}
