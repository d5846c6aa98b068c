import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { isCitus, withOrderedShardWrites } from '../../database/citus';

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

/**
 * The stored rows of the metrics feature definitions read ($6), queued for the feature store in the same statement
 * with the write's receipt time ($7, epoch ms) and id ($8): as with the rollups, a row that did not commit (or a
 * duplicate, not stored) is never queued, and a stored one always is.
 */
const ENQUEUE_FEATURES = `INSERT INTO feature_queue (unit_id, metric, value, ts, received_ms, write_id) SELECT unit_id, metric, value, ts, $7::int8, $8::int8 FROM ins WHERE metric = ANY($6::text[])`;

/** Which stored events go to the feature store's queue, and the write they came with. */
export interface FeatureQueueing {
  metrics: readonly string[];
  /** when the write was received (epoch ms): the time the behavioural triggers evaluate it at */
  receivedMs: number;
  /** one id per write (the triggers evaluate write by write) */
  writeId: number;
}

/** Outcome events per unit (not per experiment): reports join them to exposures by unit. */
@Injectable()
export class EventsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * One statement for the whole batch (≤ 10,000 rows bound as five arrays): atomic, and committed (durable)
   * before it returns. A row whose event_id exists, or repeats one earlier in the batch, is skipped; the unique
   * index makes concurrent posts of the same ids wait for each other, so each id is stored exactly once.
   * `features`: the stored rows of these metrics are also queued for the feature store in the same statement
   * (`feature_queue`, see migration FeatureQueue1765900000000), with the write's receipt time and id.
   * Returns how many rows were stored.
   */
  async insert(rows: EventRow[], features?: FeatureQueueing): Promise<number> {
    if (rows.length === 0) return 0;
    return withOrderedShardWrites(this.db, this.db.manager, (m) =>
      this.insertCounting(m, rows, features?.metrics.length ? features : undefined),
    );
  }

  private async insertCounting(
    manager: EntityManager,
    rows: EventRow[],
    features: FeatureQueueing | undefined,
  ): Promise<number> {
    const params: unknown[] = [
      rows.map((r) => r.eventId),
      rows.map((r) => r.unitId),
      rows.map((r) => r.metric),
      rows.map((r) => r.value),
      rows.map((r) => r.ts),
    ];
    if (features) params.push(features.metrics, features.receivedMs, features.writeId);
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH ins AS (
         INSERT INTO events (event_id, unit_id, metric, value, ts)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::timestamptz[])
         ON CONFLICT DO NOTHING RETURNING unit_id${features ? ', metric, value, ts' : ''}),
       queued AS (${ENQUEUE_STORED})${features ? `, feature_queued AS (${ENQUEUE_FEATURES})` : ''}
       SELECT count(*)::int AS n FROM ins`,
      params,
    );
    return n;
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
    const next: Array<{ ts: string }> = await this.db.query(
      `SELECT ts::text AS ts FROM events WHERE ts < $1::timestamptz ORDER BY ts OFFSET $2 LIMIT 1`,
      [cutoff.toISOString(), limit],
    );
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
      const [{ n }]: [{ n: number }] = await manager.query(
        `WITH d AS (DELETE FROM events WHERE unit_id = $1 RETURNING 1), queued AS (INSERT INTO rollup_queue (unit_id) VALUES ($1)) SELECT count(*)::int AS n FROM d`,
        [unitId],
      );
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
