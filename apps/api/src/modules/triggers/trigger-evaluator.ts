import { Injectable } from '@nestjs/common';
import { compileRule, RulePredicate } from '@slotwise/assignment';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { UnitErasureService } from '../ab';
import { FeatureStoreService, UnitFeatureReader, UnitFeaturesListener } from '../features';
import { WebhooksRepository } from '../webhooks';
import { nextEdge } from './condition';
import { FiringRow, LockedState, TriggerRow, TriggersRepository } from './triggers.repository';

/** How long a replica trusts its copy of the enabled triggers (a change on another replica applies within this). */
export const TRIGGERS_TTL_MS = 1000;

interface CompiledTrigger {
  row: TriggerRow;
  predicate: RulePredicate;
  /** the state keys of the features the condition reads: an update touching none of them cannot change the answer */
  stateKeys: Set<string>;
}

/**
 * Evaluates the enabled triggers for the units whose feature state was just updated, inside the update's own
 * transaction (registered with the feature store; rewards and impressions pass here as they are written, events
 * when the feature-queue worker applies them — write by write, at each write's receipt time). Per affected
 * (trigger, unit) — only triggers reading a feature whose state the update touched — it locks the durable edge
 * state row (see TriggersRepository.lockStates), then reads the unit's feature values at the update's time (after
 * the lock: a concurrent update for the same unit that committed first is seen), applies {@link nextEdge}, and for
 * each firing stores it and writes a `trigger.fired` outbox delivery — so the state change, the firing and its
 * webhook deliveries commit together or not at all, and two concurrent updates for one unit fire at most once.
 */
@Injectable()
export class TriggerEvaluator implements UnitFeaturesListener {
  private cached: { at: number; triggers: CompiledTrigger[] } | null = null;
  private loading: Promise<CompiledTrigger[]> | null = null;

  constructor(
    private readonly repo: TriggersRepository,
    store: FeatureStoreService,
    private readonly outbox: WebhooksRepository,
    erasure: UnitErasureService,
  ) {
    store.registerUnitListener(this);
    erasure.register('triggers', (m, unitId) => this.repo.eraseUnit(m, unitId));
  }

  /** Drop the cached triggers (after a change on this replica). */
  forget(): void {
    this.cached = null;
  }

  async watchedStateKeys(
    manager: EntityManager,
    read: Pick<UnitFeatureReader, 'stateKeyOf'>,
  ): Promise<ReadonlySet<string>> {
    return new Set((await this.enabled(manager, read)).flatMap((t) => [...t.stateKeys]));
  }

  async unitsUpdated(
    manager: EntityManager,
    touched: ReadonlyMap<string, ReadonlySet<string>>,
    atMs: number,
    read: UnitFeatureReader,
  ): Promise<void> {
    const triggers = await this.enabled(manager, read);
    if (!triggers.length) return;
    const pairs: Array<{ trigger: CompiledTrigger; unitId: string }> = [];
    for (const [unitId, keys] of touched)
      for (const t of triggers) if ([...keys].some((k) => t.stateKeys.has(k))) pairs.push({ trigger: t, unitId });
    if (!pairs.length) return;
    const byId = new Map(triggers.map((t) => [t.row.id, t]));
    const locked = await this.repo.lockStates(
      manager,
      pairs.map((p) => ({ triggerId: p.trigger.row.id, unitId: p.unitId })),
    );
    const names = [...new Set(pairs.flatMap((p) => p.trigger.row.features))];
    const units = [...new Set(pairs.map((p) => p.unitId))];
    const values = await read.values(units, names);
    const changed: LockedState[] = [];
    const firings: FiringRow[] = [];
    const firedAt = new Date(atMs);
    for (const s of locked) {
      const t = byId.get(s.triggerId)!;
      const unitValues = values.get(s.unitId) ?? {};
      const next = nextEdge(
        { inside: s.inside, lastFiredMs: s.lastFiredMs },
        t.predicate(unitValues),
        atMs,
        t.row.cooldownSeconds * 1000,
      );
      if (next.state.inside !== s.inside || next.state.lastFiredMs !== s.lastFiredMs)
        changed.push({ ...s, ...next.state });
      if (next.fire)
        firings.push({
          id: randomUUID(),
          triggerId: t.row.id,
          unitId: s.unitId,
          firedAt,
          values: Object.fromEntries(t.row.features.map((n) => [n, unitValues[n]])),
        });
    }
    await this.repo.saveStates(manager, changed);
    await this.repo.insertFirings(manager, firings);
    for (const f of firings) {
      const t = byId.get(f.triggerId)!.row;
      await this.outbox.enqueue(
        manager,
        'trigger.fired',
        {
          firingId: f.id,
          trigger: { id: t.id, name: t.name, condition: t.condition, cooldownSeconds: t.cooldownSeconds },
          unitId: f.unitId,
          firedAt: firedAt.toISOString(),
          values: f.values,
        },
        firedAt,
      );
    }
  }

  /** Enabled triggers, compiled, reloaded when older than {@link TRIGGERS_TTL_MS} (through `manager`: we are inside a transaction). */
  private async enabled(
    manager: EntityManager,
    read: Pick<UnitFeatureReader, 'stateKeyOf'>,
  ): Promise<CompiledTrigger[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < TRIGGERS_TTL_MS) return this.cached.triggers;
    // A feature's state key never changes (its source and window cannot be patched) and features are never deleted.
    this.loading ??= this.repo
      .enabled(manager)
      .then((rows) => {
        const triggers = rows.map((row) => ({
          row,
          predicate: compileRule(row.condition),
          stateKeys: new Set(row.features.flatMap((n) => read.stateKeyOf(n) ?? [])),
        }));
        this.cached = { at: now, triggers };
        return triggers;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }
}
