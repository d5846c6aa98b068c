import { Injectable } from '@nestjs/common';
import type { Rule } from '@slotwise/assignment';
import { DataSource, EntityManager } from 'typeorm';
import { isCitus } from '../../database/citus';

export interface TriggerRow {
  id: string;
  name: string;
  description: string;
  condition: Rule;
  features: string[];
  cooldownSeconds: number;
  enabled: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface FiringRow {
  id: string;
  triggerId: string;
  unitId: string;
  firedAt: Date;
  values: Record<string, number>;
}

/** One (trigger, unit) edge state as locked for an evaluation. */
export interface LockedState {
  triggerId: string;
  unitId: string;
  inside: boolean;
  lastFiredMs: number | null;
}

const TRIGGER_COLUMNS = `id, name, description, condition, features, cooldown_seconds AS "cooldownSeconds", enabled, version, created_at AS "createdAt", updated_at AS "updatedAt"`;
const FIRING_COLUMNS = `id, trigger_id AS "triggerId", unit_id AS "unitId", fired_at AS "firedAt", feature_values AS "values"`;

/** Every SQL call of the behavioural triggers: definitions, per (trigger, unit) edge state, firings. */
@Injectable()
export class TriggersRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** False when the name is taken. */
  async insert(
    manager: EntityManager,
    t: Omit<TriggerRow, 'version' | 'createdAt' | 'updatedAt'>,
  ): Promise<TriggerRow | null> {
    const rows: TriggerRow[] = await manager.query(
      `INSERT INTO triggers (id, name, description, condition, features, cooldown_seconds, enabled) VALUES ($1,$2,$3,$4::jsonb,$5,$6,$7)
       ON CONFLICT (name) DO NOTHING RETURNING ${TRIGGER_COLUMNS}`,
      [t.id, t.name, t.description, JSON.stringify(t.condition), t.features, t.cooldownSeconds, t.enabled],
    );
    return rows[0] ?? null;
  }

  list(): Promise<TriggerRow[]> {
    return this.db.query(`SELECT ${TRIGGER_COLUMNS} FROM triggers ORDER BY name`);
  }

  enabled(manager: EntityManager = this.db.manager): Promise<TriggerRow[]> {
    return manager.query(`SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE enabled ORDER BY id`);
  }

  async find(id: string, manager: EntityManager = this.db.manager): Promise<TriggerRow | null> {
    const rows: TriggerRow[] = await manager.query(`SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Optimistic update (null when the row changed since `expectedVersion` or is gone). */
  async update(
    manager: EntityManager,
    id: string,
    t: Pick<TriggerRow, 'description' | 'condition' | 'features' | 'cooldownSeconds' | 'enabled'>,
    expectedVersion: number,
  ): Promise<TriggerRow | null> {
    const [rows]: [TriggerRow[], number] = await manager.query(
      `UPDATE triggers SET description = $2, condition = $3::jsonb, features = $4, cooldown_seconds = $5, enabled = $6, version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $7 RETURNING ${TRIGGER_COLUMNS}`,
      [id, t.description, JSON.stringify(t.condition), t.features, t.cooldownSeconds, t.enabled, expectedVersion],
    );
    return rows[0] ?? null;
  }

  /** A changed condition starts afresh: every unit counts as outside (last firings, and so cooldowns, are kept). */
  async resetInside(manager: EntityManager, id: string): Promise<void> {
    await manager.query(
      `UPDATE trigger_states SET inside = false, updated_at = now() WHERE trigger_id = $1 AND inside`,
      [id],
    );
  }

  /** Deletes the trigger with its states and firings (cascade). */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await manager.query(`DELETE FROM triggers WHERE id = $1`, [id]);
    return affected === 1;
  }

  /**
   * Locks the edge state of each (trigger, unit) pair for the rest of `manager`'s transaction, creating missing
   * rows (outside, never fired) first. The rows are created and locked in (unit, trigger) order, so concurrent
   * evaluations wait for each other instead of deadlocking; a waiting one reads the state the first committed
   * (READ COMMITTED re-reads a row after the lock it waited for is released).
   */
  async lockStates(
    manager: EntityManager,
    pairs: ReadonlyArray<{ triggerId: string; unitId: string }>,
  ): Promise<LockedState[]> {
    const triggerIds = pairs.map((p) => p.triggerId);
    const unitIds = pairs.map((p) => p.unitId);
    await manager.query(
      `INSERT INTO trigger_states (trigger_id, unit_id)
       SELECT p.trigger_id, p.unit_id FROM unnest($1::uuid[], $2::text[]) AS p(trigger_id, unit_id) ORDER BY p.unit_id, p.trigger_id
       ON CONFLICT (trigger_id, unit_id) DO NOTHING`,
      [triggerIds, unitIds],
    );
    type Row = { trigger_id: string; unit_id: string; inside: boolean; last_fired_ms: string | null };
    const rows: Row[] = [];
    if (await isCitus(this.db, manager)) {
      // Citus locks rows on one shard per statement (trigger_states is distributed by unit): one FOR UPDATE per unit,
      // units in one fixed order, so concurrent evaluations still wait for each other instead of deadlocking.
      const byUnit = new Map<string, string[]>();
      for (const p of pairs) byUnit.set(p.unitId, [...(byUnit.get(p.unitId) ?? []), p.triggerId]);
      for (const unitId of [...byUnit.keys()].sort()) {
        rows.push(
          ...(await manager.query(
            `SELECT trigger_id, unit_id, inside, (extract(epoch FROM last_fired_at) * 1000)::int8 AS last_fired_ms
             FROM trigger_states WHERE unit_id = $1 AND trigger_id = ANY($2::uuid[]) ORDER BY trigger_id FOR UPDATE`,
            [unitId, byUnit.get(unitId)],
          )),
        );
      }
    } else {
      rows.push(
        ...(await manager.query(
          `SELECT s.trigger_id, s.unit_id, s.inside, (extract(epoch FROM s.last_fired_at) * 1000)::int8 AS last_fired_ms
           FROM trigger_states s JOIN unnest($1::uuid[], $2::text[]) AS p(trigger_id, unit_id) ON s.trigger_id = p.trigger_id AND s.unit_id = p.unit_id
           ORDER BY s.unit_id, s.trigger_id FOR UPDATE OF s`,
          [triggerIds, unitIds],
        )),
      );
    }
    return rows.map((r) => ({
      triggerId: r.trigger_id,
      unitId: r.unit_id,
      inside: r.inside,
      lastFiredMs: r.last_fired_ms === null ? null : Number(r.last_fired_ms),
    }));
  }

  /** Writes changed edge states (rows locked by {@link lockStates} in the same transaction). */
  async saveStates(manager: EntityManager, states: ReadonlyArray<LockedState>): Promise<void> {
    if (!states.length) return;
    await manager.query(
      `UPDATE trigger_states s SET inside = p.inside, last_fired_at = CASE WHEN p.last_fired_ms IS NULL THEN NULL ELSE to_timestamp(p.last_fired_ms / 1000.0) END, updated_at = now()
       FROM unnest($1::uuid[], $2::text[], $3::boolean[], $4::float8[]) AS p(trigger_id, unit_id, inside, last_fired_ms)
       WHERE s.trigger_id = p.trigger_id AND s.unit_id = p.unit_id`,
      [
        states.map((s) => s.triggerId),
        states.map((s) => s.unitId),
        states.map((s) => s.inside),
        states.map((s) => s.lastFiredMs),
      ],
    );
  }

  async insertFirings(manager: EntityManager, firings: ReadonlyArray<FiringRow>): Promise<void> {
    if (!firings.length) return;
    await manager.query(
      `INSERT INTO trigger_firings (id, trigger_id, unit_id, fired_at, feature_values)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::jsonb[])`,
      [
        firings.map((f) => f.id),
        firings.map((f) => f.triggerId),
        firings.map((f) => f.unitId),
        firings.map((f) => f.firedAt.toISOString()),
        firings.map((f) => JSON.stringify(f.values)),
      ],
    );
  }

  firings(triggerId: string, limit: number): Promise<FiringRow[]> {
    return this.db.query(
      `SELECT ${FIRING_COLUMNS} FROM trigger_firings WHERE trigger_id = $1 ORDER BY fired_at DESC, id LIMIT $2`,
      [triggerId, limit],
    );
  }

  /** Erase a unit's edge states and firings (inside the erasure transaction); returns the rows removed. */
  async eraseUnit(manager: EntityManager, unitId: string): Promise<number> {
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH s AS (DELETE FROM trigger_states WHERE unit_id = $1 RETURNING 1), f AS (DELETE FROM trigger_firings WHERE unit_id = $1 RETURNING 1)
       SELECT ((SELECT count(*) FROM s) + (SELECT count(*) FROM f))::int AS n`,
      [unitId],
    );
    return n;
  }
}
