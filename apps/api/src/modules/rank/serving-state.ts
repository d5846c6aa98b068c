import {
  type AnyModel,
  type BanditModel,
  type Candidate,
  type ModelSnapshot,
  type Vector,
  modelFromSnapshot,
  posteriorHealth,
} from '@slotwise/bandit';

/**
 * A variant's pending delta taken for a flush, together with exactly the decisions and rewards whose effects it
 * holds (their rows get `in_model = true` in the same transaction that adds the delta).
 */
export interface PendingFlush {
  delta: ModelSnapshot;
  decisionIds: string[];
  rewardSeqs: string[];
}

/** Why and since when a variant's posterior does not serve. */
export interface Quarantine {
  reason: string;
  since: Date;
}

/** One shown slot as the posterior observes it: the candidate and its 0-based slot index. */
export interface ShownSlot {
  candidate: Candidate;
  slot: number;
}

/**
 * The serving state of one variant's posterior: the model and what the next flush must write. It is the one place
 * where the invariant "a model's pending delta and its pending decision / reward ids move together" holds: every
 * change to the model's statistics goes with the id of the durable row it came from (`recordDecision`,
 * `recordReward`), and the delta leaves and comes back only with those ids (`takePending`, `restorePending`).
 * Everything here is synchronous, so no request interleaves with a take or a restore.
 */
export class ServingState {
  private decisionIds: string[] = [];
  private rewardSeqs: string[] = [];
  private doubt: PendingFlush | null = null;
  private quarantined: Quarantine | null = null;

  /** `onReplace` is told when the model object is replaced (the policy reading it must follow). */
  constructor(
    private current: AnyModel,
    private readonly onReplace: (model: AnyModel) => void = () => undefined,
  ) {}

  get model(): AnyModel {
    return this.current;
  }

  /** The model through the bandit's generic interface, whose snapshot type is the union of the models' own. */
  private get bandit(): BanditModel<ModelSnapshot> {
    return this.current;
  }

  /** Whether decisions or rewards await a flush. */
  get hasPending(): boolean {
    return this.decisionIds.length > 0 || this.rewardSeqs.length > 0;
  }

  /** A taken delta whose flush failed in a way that may or may not have committed (settled before the next flush). */
  get inDoubt(): PendingFlush | null {
    return this.doubt;
  }

  get quarantine(): Quarantine | null {
    return this.quarantined;
  }

  /**
   * A durable decision (or one replayed from its row): its shown slots become observations with the default reward 0.
   * Ignored while quarantined: the row stays out of the stored posterior and is replayed at the next start.
   */
  recordDecision(decisionId: string, context: Vector, shown: readonly ShownSlot[]): void {
    if (this.quarantined) return;
    // hybrid: one rank-k update of the shared factor for the slate instead of one pass per slot (same state)
    if (this.bandit.observeShown) this.bandit.observeShown(context, shown);
    else for (const s of shown) this.bandit.observe(context, s.candidate, 0, s.slot);
    this.decisionIds.push(decisionId);
  }

  /**
   * Durable rewards (`seqs`, or replayed ones) that moved a shown slot's total from `before` to `after`. Applied even
   * while quarantined (the model is never flushed then; the rows are replayed at the next start).
   */
  recordReward(
    seqs: readonly string[],
    context: Vector,
    candidate: Candidate,
    before: number,
    after: number,
    slot: number,
  ): void {
    this.bandit.correct(context, candidate, before, after, slot);
    this.rewardSeqs.push(...seqs);
  }

  /** The pending delta without taking it. */
  pendingDelta(): ModelSnapshot {
    return this.bandit.peekDelta();
  }

  /** Takes the pending delta and its rows for a flush (null when nothing is pending). */
  takePending(): PendingFlush | null {
    if (!this.hasPending) return null;
    const taken: PendingFlush = {
      // typed arrays: the flush packs them into one buffer (a memcpy per array), never as JSON
      delta: this.bandit.takeDelta({ typedArrays: true }),
      decisionIds: this.decisionIds,
      rewardSeqs: this.rewardSeqs,
    };
    this.decisionIds = [];
    this.rewardSeqs = [];
    return taken;
  }

  /** Puts a taken delta and its rows back in front of what became pending since (its flush did not commit). */
  restorePending(taken: PendingFlush): void {
    this.bandit.restoreDelta(taken.delta);
    this.decisionIds = taken.decisionIds.concat(this.decisionIds);
    this.rewardSeqs = taken.rewardSeqs.concat(this.rewardSeqs);
  }

  /** A taken delta's flush failed and may have committed: held until `settle` is told. */
  markInDoubt(taken: PendingFlush): void {
    this.doubt = taken;
  }

  /** The in-doubt flush committed (its delta is stored: dropped here) or not (its delta and rows are pending again). */
  settle(committed: boolean): void {
    const doubt = this.doubt;
    this.doubt = null;
    if (doubt && !committed) this.restorePending(doubt);
  }

  /** Drops what is pending unwritten (a quarantined variant): the rows stay `in_model = false` for the replay at restart. */
  dropPending(): void {
    this.bandit.takeDelta();
    this.decisionIds = [];
    this.rewardSeqs = [];
  }

  /**
   * Takes `stored` as the stored state, keeping what is pending here. When the in-place rebase fails (it may leave
   * the model half-moved) the model is rebuilt from `stored` plus the pending delta taken before; throws when that
   * fails too (the stored posterior itself is broken). Returns the rebase error when it rebuilt.
   */
  rebase(stored: ModelSnapshot, check: (snapshot: ModelSnapshot) => void): Error | null {
    const pending = this.bandit.peekDelta();
    try {
      check(stored);
      this.bandit.rebase(stored);
      return null;
    } catch (rebaseError) {
      const health = posteriorHealth(stored);
      if (!health.healthy) throw new Error(health.reason, { cause: rebaseError });
      const fresh = modelFromSnapshot(stored);
      const generic: BanditModel<ModelSnapshot> = fresh;
      // mergeDelta adds the pending statistics to the state; restoreDelta then marks them as not yet flushed.
      generic.mergeDelta(pending);
      generic.restoreDelta(pending);
      this.replace(fresh);
      return rebaseError as Error;
    }
  }

  /**
   * Stops serving this posterior: what is pending is dropped unwritten (its rows are replayed at restart), and the
   * model becomes a fresh prior of the same configuration (it may be half-moved; requests in flight and rewards still
   * update it, but it is never flushed nor ranked with).
   */
  enterQuarantine(reason: string): void {
    this.quarantined = { reason, since: new Date() };
    try {
      this.bandit.takeDelta();
      // an empty delta is a snapshot of the prior
      this.replace(modelFromSnapshot(this.bandit.peekDelta()));
    } catch {
      // keep the old model: a quarantined variant is never flushed nor ranked with
    }
    this.decisionIds = [];
    this.rewardSeqs = [];
    this.doubt = null;
  }

  private replace(model: AnyModel): void {
    this.current = model;
    this.onReplace(model);
  }
}
