import { Injectable, Logger } from '@nestjs/common';
import { type ModelSnapshot, nonFiniteStatistic } from '@slotwise/bandit';
import { ClusterBus } from '../../database/cluster-bus';
import type { ExperimentRuntime, VariantRuntime } from './experiment-runtime';
import { ModelStateRepository, ReplicaLeaseLostError } from './model-state.repository';
import { ReplicaLease } from './replica-lease';
import type { ServingState } from './serving-state';

/**
 * Writes a variant's pending delta to PostgreSQL and takes the stored versions back (reload, rebase); quarantines a
 * posterior that cannot be trusted. Every method runs inside the variant's exclusive section (the caller's), so a
 * flush and a reload of the same variant never interleave.
 *
 * Invariants (see docs/scale-out.md): a delta whose flush committed is never added again (only a flush known not to
 * have committed puts its delta back); stored posteriors are read from one snapshot; a posterior that is not finite
 * or not positive definite is never written and its variant is quarantined (rank answers 503 for it).
 */
@Injectable()
export class ModelFlusher {
  private readonly logger = new Logger('RankEngine');

  constructor(
    private readonly state: ModelStateRepository,
    private readonly lease: ReplicaLease,
    private readonly bus: ClusterBus,
  ) {}

  /** Adds the variant's pending delta to the stored posterior (a failed write is retried at the next flush). */
  async flushVariant(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    const serving = variant.serving;
    if (!serving || serving.quarantine || !this.lease.held) return;
    if (serving.inDoubt && !(await this.settleInDoubt(runtime, variant, serving))) return;
    // Taken synchronously together: the delta holds exactly these decisions' and rewards' effects.
    const taken = serving.takePending();
    if (!taken) return;
    const bad = nonFiniteStatistic(taken.delta.stats);
    if (bad) {
      // Never written: the stored posterior stays finite. The rows stay out of the model (in_model = false).
      this.quarantine(runtime, variant, `update statistic ${bad} is not a finite number`);
      return;
    }
    let result: { before: number; after: number };
    try {
      result = await this.state.addDelta(
        runtime.id,
        variant.key,
        taken.delta,
        taken.decisionIds,
        taken.rewardSeqs,
        this.lease.token,
      );
    } catch (err) {
      if (err instanceof ReplicaLeaseLostError) {
        // Not committed, and never to be: the process now holding the id replays these rows.
        this.lease.markLost();
        return;
      }
      // Whether the transaction committed is unknown until asked (a failed COMMIT, a broken connection).
      serving.markInDoubt(taken);
      this.logger.warn(`model flush of ${runtime.key}/${variant.key} failed, will retry: ${(err as Error).message}`);
      await this.settleInDoubt(runtime, variant, serving);
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
  private async settleInDoubt(
    runtime: ExperimentRuntime,
    variant: VariantRuntime,
    serving: ServingState,
  ): Promise<boolean> {
    const doubt = serving.inDoubt!;
    let committed: boolean;
    try {
      const probe = doubt.decisionIds.length
        ? { decisionId: doubt.decisionIds[0] }
        : { rewardSeq: doubt.rewardSeqs[0] };
      committed = await this.state.flushCommitted(runtime.id, variant.key, probe);
    } catch (err) {
      this.logger.warn(
        `cannot tell yet whether the failed flush of ${runtime.key}/${variant.key} committed: ${(err as Error).message}`,
      );
      return false;
    }
    serving.settle(committed);
    if (committed) {
      this.logger.warn(`the failed flush of ${runtime.key}/${variant.key} had committed; not re-adding its delta`);
      await this.reload(runtime, variant);
      return !serving.quarantine;
    }
    return true;
  }

  /**
   * Replaces the in-memory posterior with the stored one (read from one snapshot) plus what is pending on this
   * replica. Runs inside the variant's exclusive section, so no flush is in flight: stored + pending is the whole
   * state. A failed rebase leaves the model half-moved, so the posterior is rebuilt from the snapshot instead;
   * when that fails too the stored posterior itself is broken and the variant is quarantined.
   */
  async reload(runtime: ExperimentRuntime, variant: VariantRuntime): Promise<void> {
    const serving = variant.serving!;
    let stored;
    try {
      stored = await this.state.load(runtime.id, variant.key);
    } catch (err) {
      // Serve on with the local posterior; storedVersion is stale, so the next flush or decision reloads again.
      this.logger.warn(`reload of ${runtime.key}/${variant.key} failed, will retry: ${(err as Error).message}`);
      return;
    }
    if (!stored) return;
    // Synchronous from here: nothing else touches the model until it is replaced.
    try {
      const rebuiltAfter = serving.rebase(stored.snapshot, finiteSnapshot);
      if (rebuiltAfter) {
        this.logger.warn(
          `rebase of ${runtime.key}/${variant.key} on version ${stored.version} failed (${rebuiltAfter.message}); rebuilt from the stored posterior`,
        );
      }
    } catch (err) {
      this.quarantine(runtime, variant, `stored posterior version ${stored.version}: ${(err as Error).message}`);
      return;
    }
    variant.storedVersion = stored.version;
    variant.syncedAt = Date.now();
  }

  /**
   * Stops serving a variant whose posterior cannot be trusted. Its pending delta is dropped unwritten: the rows it
   * came from stay out of the stored statistics (`in_model` false) and are replayed when this replica restarts.
   */
  quarantine(runtime: ExperimentRuntime, variant: VariantRuntime, reason: string): void {
    variant.serving?.enterQuarantine(reason);
    this.logger.error(
      `quarantined the posterior of ${runtime.key}/${variant.key}: ${reason}; rank answers 503 for this variant until the process restarts`,
    );
  }
}

function finiteSnapshot(snapshot: ModelSnapshot): void {
  const bad = nonFiniteStatistic(snapshot.stats);
  if (bad) throw new Error(`stored statistic ${bad} is not a finite number`);
}
