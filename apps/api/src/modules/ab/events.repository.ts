import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isCitus, shardOrderedTransaction, withOrderedShardWrites } from '../../database/citus';

export interface EventRow {
  /** The client's idempotency key; null: never deduplicated. */
  eventId: string | null;
  unitId: string;
  metric: string;
  value: number;
  /** ISO 8601. */
  ts: string;
}

/**
 * The units of the rows a statement stored (its `ins` CTE), queued for the report rollups in the same statement:
 * the rollups are recomputed from the stored rows, so they can never count a row that did not commit, and a
 * duplicate (not stored) queues nothing.
 */
const ENQUEUE_STORED = `INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM ins`;

/** Outcome events per unit (not per experiment): reports join them to exposures by unit. */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * One statement for the whole batch (≤ 10,000 rows bound as five arrays): atomic, and committed (durable)
   * before it returns. A row whose event_id exists, or repeats one earlier in the batch, is skipped; the unique
   * index makes concurrent posts of the same ids wait for each other, so each id is stored exactly once.
   * Returns how many rows were stored.
   */
  async insert(rows: EventRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    return withOrderedShardWrites(this.db, this.db.manager, (m) => this.insertCounting(m, rows));
  }

  private async insertCounting(manager: EntityManager, rows: EventRow[]): Promise<number> {
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH ins AS (
         INSERT INTO events (event_id, unit_id, metric, value, ts)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING unit_id),
       queued AS (${ENQUEUE_STORED})
       SELECT count(*)::int AS n FROM ins`,
      [rows.map((r) => r.eventId), rows.map((r) => r.unitId), rows.map((r) => r.metric), rows.map((r) => r.value), rows.map((r) => r.ts)],
    );
    return n;
  }

  /**
   * The same insert, then `after` with the rows it stored (duplicates left out), in one transaction: for the
   * accepted-events listener (see events-feed.ts), so a 2xx means the events and its state are both durable.
   * Returns how many rows were stored.
   */
  insertThen(rows: EventRow[], after: (manager: EntityManager, stored: EventRow[]) => Promise<void>): Promise<number> {
    return shardOrderedTransaction(this.db, async (m) => {
      const stored = await this.insertReturning(m, rows);
      await after(m, stored);
      return stored.length;
    });
  }

  private async insertReturning(manager: EntityManager, rows: EventRow[]): Promise<EventRow[]> {
    if (rows.length === 0) return [];
    const stored: Array<{ event_id: string | null; unit_id: string; metric: string; value: number; ts: Date }> = await manager.query(
      `WITH ins AS (
         INSERT INTO events (event_id, unit_id, metric, value, ts)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING event_id, unit_id, metric, value, ts),
       queued AS (${ENQUEUE_STORED})
       SELECT * FROM ins`,
      [rows.map((r) => r.eventId), rows.map((r) => r.unitId), rows.map((r) => r.metric), rows.map((r) => r.value), rows.map((r) => r.ts)],
    );
    return stored.map((r) => ({ eventId: r.event_id, unitId: r.unit_id, metric: r.metric, value: r.value, ts: new Date(r.ts).toISOString() }));
  }

  /**
   * Retention: deletes up to `limit` events with a timestamp before `cutoff` (found through the BRIN index
   * events_ts_brin) and queues their units for the report rollups in the same statement, so the rollups follow the
   * raw table. Returns how many were deleted (fewer than `limit`: none left).
   */
  async deleteExpired(cutoff: Date, limit: number): Promise<number> {
    if (await isCitus(this.db)) return this.deleteExpiredByTime(cutoff, limit);
    const [{ n }]: [{ n: number }] = await this.db.query(
      `WITH d AS (
         DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events WHERE ts < $1::timestamptz LIMIT $2)) RETURNING unit_id
       ), queued AS (INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM d)
       SELECT count(*)::int AS n FROM d`,
      [cutoff.toISOString(), limit],
    );
    return n;
  }

  /**
   * deleteExpired on Citus, where a `ctid` names a row only within one shard: the batch is bounded by time instead —
   * the events older than the (limit+1)-th oldest one (at most `limit`; fewer when it shares its timestamp with others,
   * and then, when none is older, that timestamp's events, so a pass always progresses).
   */
  private async deleteExpiredByTime(cutoff: Date, limit: number): Promise<number> {
    // As text: a Date would drop the microseconds.
    const next: Array<{ ts: string }> = await this.db.query(`SELECT ts::text AS ts FROM events WHERE ts < $1::timestamptz ORDER BY ts OFFSET $2 LIMIT 1`, [cutoff.toISOString(), limit]);
    const remove = (condition: string, at: string) =>
      this.db
        .query(
          `WITH d AS (DELETE FROM events WHERE ${condition} RETURNING unit_id), queued AS (INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM d)
           SELECT count(*)::int AS n FROM d`,
          [at],
        )
        .then((rows: Array<{ n: number }>) => rows[0].n);
    if (!next.length) return remove(`ts < $1::timestamptz`, cutoff.toISOString());
    const n = await remove(`ts < $1::timestamptz`, next[0].ts);
    return n > 0 ? n : remove(`ts = $1::timestamptz`, next[0].ts);
  }

  /**
   * Erase one unit's events. There is no unit_id index (every insert would pay for it): the distinct metrics are
   * walked with a loose index scan of events_metric_unit_ts, then each (metric, unit) range is deleted through it.
   * On Citus (no recursive CTEs over distributed tables) the unit's rows are deleted from its one shard directly.
   * The unit is queued for the report rollups, whose recomputation then drops its rows.
   */
  async eraseUnit(manager: EntityManager, unitId: string): Promise<number> {
    if (await isCitus(this.db, manager)) {
      const [{ n }]: [{ n: number }] = await manager.query(`WITH d AS (DELETE FROM events WHERE unit_id = $1 RETURNING 1), queued AS (INSERT INTO rollup_queue (unit_id) VALUES ($1)) SELECT count(*)::int AS n FROM d`, [unitId]);
      return n;
    }
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH RECURSIVE metrics AS (
         (SELECT metric FROM events ORDER BY metric LIMIT 1)
         UNION ALL
         SELECT (SELECT e.metric FROM events e WHERE e.metric > metrics.metric ORDER BY e.metric LIMIT 1) FROM metrics WHERE metrics.metric IS NOT NULL
       ), d AS (
         DELETE FROM events WHERE unit_id = $1 AND metric IN (SELECT metric FROM metrics WHERE metric IS NOT NULL) RETURNING 1
       ), queued AS (INSERT INTO rollup_queue (unit_id) VALUES ($1))
       SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    return n;
  }
}
