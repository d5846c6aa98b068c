import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { nonFiniteStatistic } from '@slotwise/bandit';
import { Gauge } from 'prom-client';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ClusterBus } from '../../database/cluster-bus';
import { Problem } from '../../common/http/problem';
import { ExperimentEvents } from '../experiments/experiment-events';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import type { PolicySpec } from '../experiments/experiment.schema';
import { ModelsService } from '../models/models.service';
import { buildVariant, ExperimentRuntime, modelSpecFor, VariantRuntime } from './experiment-runtime';
import { ModelFlusher } from './model-flusher';
import { ModelReplay } from './model-replay';
import { ModelStateRepository } from './model-state.repository';
import { ReplicaLease } from './replica-lease';
import { HealthService } from '../observability/health.service';
import { MetricsService } from '../observability/metrics.service';

/** Seconds a client is told to wait before retrying a quarantined variant (an operator has to look at it). */
const QUARANTINE_RETRY_AFTER_S = 60;

/**
 * The cache of ranking experiments' serving state in memory: definition, policies, posteriors (sums of sufficient
 * statistics, each variant's owned by its ServingState) and per-item impressions. It loads a runtime on first use
 * (stored snapshot, then ModelReplay re-applies this replica's rows not in it, so a crash loses no acknowledged
 * reward), keeps it in step with the definition and with other replicas' versions, and every MODEL_FLUSH_MS and at
 * shutdown has ModelFlusher add each variant's pending delta to PostgreSQL, one variant at a time in its exclusive
 * section (a flush and a reload of the same variant never interleave).
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
    bus: ClusterBus,
    private readonly flusher: ModelFlusher,
    private readonly replayer: ModelReplay,
  ) {
    this.unsubscribe = [
      events.onChanged((key) => void this.refresh(key)),
      // Another replica's flush committed a version: reload now rather than at our next flush or idle check.
      bus.on('model', (m) => void this.heard(m.experimentId, m.variant, m.version)),
      // Versions may have been missed while the listener was away: every variant checks before its next decision.
      bus.onResync(
        () => void this.loaded().then((rs) => rs.forEach((r) => r.variants.forEach((v) => (v.syncedAt = 0)))),
      ),
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
      [...r.variants.values()].flatMap((v) =>
        v.quarantine
          ? [
              {
                experiment: r.key,
                variant: v.key,
                reason: v.quarantine.reason,
                since: v.quarantine.since.toISOString(),
              },
            ]
          : [],
      ),
    );
  }

  /**
   * Before a decision: a quarantined variant answers 503; a variant this replica has not synchronised for longer
   * than the flush interval (an idle replica, whose flushes have nothing to write and so never see other replicas'
   * versions) checks the stored version and reloads the merged posterior when another replica wrote.
   */
  async readyToDecide(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    // Not while a flush or reload of the variant runs: it takes the stored version itself, and waiting for it put
    // every request that arrived during a flush pass behind the whole pass.
    if (
      variant.model &&
      !variant.quarantine &&
      !variant.busy &&
      Date.now() - variant.syncedAt > this.config.modelFlushMs
    ) {
      await variant.exclusive(async () => {
        if (variant.quarantine || Date.now() - variant.syncedAt <= this.config.modelFlushMs) return;
        const version = await this.state.storedVersion(runtime.id, variant.key);
        if (version !== variant.storedVersion) await this.flusher.reload(runtime, variant);
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
      throw Problem.badRequest(`Experiment "${key}" is an A/B experiment; ask /v1/assign for its variant.`, [
        { path: 'experiment', message: 'is not a ranking experiment' },
      ]);
    }
    const runtime = new ExperimentRuntime(entity);
    this.keysById.set(entity.id, key);
    const ranker =
      runtime.settings.ranker.model === 'none' ? null : await this.models.describe(runtime.settings.ranker.model);
    const dims = {
      contextDim: runtime.settings.features.context.length,
      itemDim: runtime.settings.features.item.length,
      embeddingDim: ranker?.embeddingDim ?? null,
    };
    for (const v of entity.variants.sort((a, b) => a.position - b.position)) {
      const spec = v.policy as PolicySpec;
      let modelSpec;
      try {
        modelSpec = modelSpecFor(spec, dims);
      } catch (err) {
        throw Problem.conflict(
          `Variant "${v.key}" of "${key}" cannot serve: ${(err as Error).message}.`,
          'misconfigured',
        );
      }
      const stored = modelSpec ? await this.state.load(entity.id, v.key) : null;
      const snapshot = stored?.snapshot ?? null;
      // Building the model factors its precision matrices: it fails unless they are positive definite.
      let unusable =
        snapshot && nonFiniteStatistic(snapshot.stats)
          ? `statistic ${nonFiniteStatistic(snapshot.stats)} is not a finite number`
          : null;
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
        this.flusher.quarantine(runtime, variant, `stored posterior version ${stored!.version}: ${unusable}`);
        continue;
      }
      if (variant.serving) {
        try {
          await this.replayer.replay(runtime, variant);
          const bad = nonFiniteStatistic(variant.serving.pendingDelta().stats);
          if (bad) throw new Error(`replayed statistic ${bad} is not a finite number`);
        } catch (err) {
          this.flusher.quarantine(
            runtime,
            variant,
            `replay of this replica's unflushed rows failed: ${(err as Error).message}`,
          );
        }
      }
    }
    runtime.impressions = await this.state.impressions(entity.id);
    return runtime;
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
      if (!variant.quarantine && version > variant.storedVersion) await this.flusher.reload(runtime, variant);
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
            const serving = variant.serving;
            // Rewards still arrive for a quarantined variant: their rows stay for the replay at restart.
            if (serving?.quarantine && serving.hasPending) serving.dropPending();
            if (serving && !serving.quarantine && (serving.hasPending || serving.inDoubt))
              await variant.exclusive(() => this.flusher.flushVariant(runtime, variant));
          }
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
