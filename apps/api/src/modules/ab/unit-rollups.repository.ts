import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runBatches } from '../../common/periodic-pass';
import { isCitus } from '../../database/citus';

/** Advisory lock key of rollup maintenance ("swroll"): one worker at a time across all replicas. */
const ROLLUP_LOCK = 0x7377726f6c6c;
/** Queue entries recomputed per transaction by the background worker: bounds a batch's locks and work. */
export const ROLLUP_BATCH_UNITS = 20_000;
/** Per transaction when a report drains the queue (it waits for it anyway; larger batches use hash joins). */
export const ROLLUP_DRAIN_BATCH_UNITS = 1_000_000;

/**
 * The report rollups, kept up to date from `rollup_queue`, where every event and exposure write enqueues its units
 * in the same statement:
 * - `unit_exposure_rollups` (migration ReportExposureRollups1765920000000): per (experiment, phase, unit) its
 *   variant (NULL when exposed to several), first exposure time and attributes;
 * - `unit_metric_rollups` (migration ReportRollups1765645200000): per (experiment, phase, metric, variant, unit) of
 *   the single-variant units, the unit's events of the metric from its first exposure in the phase on — Σ value in
 *   (ts, value) order and the count.
 *
 * Maintenance is a recomputation, never an increment: a batch takes queued units, deletes their rollup rows and
 * recomputes them from the raw exposures and events, in one transaction. So a unit processed twice (a retry, a
 * write that committed while its unit was being recomputed, a unit queued by both an event and an exposure) ends
 * with the same rows, and a retried event (same eventId, not stored twice) is counted once. Batches are serialised
 * by an advisory lock, so replicas never recompute the same unit concurrently.
 */
@Injectable()
export class UnitRollupsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Recomputes up to `limit` queued units in one transaction. `wait`: block until another replica's batch is done
   * (a report that needs the rollups current); otherwise skip when one is running. Returns how many queue entries
   * were taken (0: empty, or skipped).
   */
  async processBatch(limit = ROLLUP_BATCH_UNITS, wait = false): Promise<number> {
    return this.db.transaction(async (m) => {
      if (wait) await m.query(`SELECT pg_advisory_xact_lock($1)`, [ROLLUP_LOCK]);
      else {
        const [{ locked }]: [{ locked: boolean }] = await m.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [
          ROLLUP_LOCK,
        ]);
        if (!locked) return 0;
      }
      // Not `SELECT EXISTS (subquery)`: Citus refuses a subquery over a distributed table in the target list.
      const any: unknown[] = await m.query(`SELECT 1 FROM rollup_queue LIMIT 1`);
      if (!any.length) return 0;
      if (await isCitus(this.db, m)) return this.processCitusBatch(m, limit);
      // The batch's units go into a temporary table with statistics, so the planner picks index lookups for a
      // small batch and hash joins for a large one (a catch-up after a bulk load).
      await m.query(`CREATE TEMPORARY TABLE rollup_batch (unit_id text) ON COMMIT DROP`);
      const [{ taken }]: [{ taken: number }] = await m.query(
        `WITH taken AS (
           DELETE FROM rollup_queue WHERE ctid = ANY(ARRAY(SELECT ctid FROM rollup_queue LIMIT $1)) RETURNING unit_id
         ), batch AS (INSERT INTO rollup_batch SELECT DISTINCT unit_id FROM taken)
         SELECT count(*)::int AS taken FROM taken`,
        [limit],
      );
      if (!taken) return 0;
      await m.query(`ANALYZE rollup_batch`);
      // The rollup tables key units in the "C" collation (migration ReportExposureRollups1765920000000): comparisons
      // with the raw tables' unit ids name it, so the rollups' unit indexes serve them.
      await m.query(`DELETE FROM unit_metric_rollups r USING rollup_batch b WHERE r.unit_id = b.unit_id COLLATE "C"`);
      await m.query(`DELETE FROM unit_exposure_rollups r USING rollup_batch b WHERE r.unit_id = b.unit_id COLLATE "C"`);
      // What the report's raw path derives per unit from its exposure rows (exposedUnitsCtes): the variant when it
      // is the only one, the earliest first exposure, the attributes of a single row.
      await m.query(
        `INSERT INTO unit_exposure_rollups (unit_id, experiment_id, phase, variant, first_at, attributes)
         SELECT x.unit_id, x.experiment_id, x.phase, CASE WHEN count(*) = 1 THEN min(x.variant) END, min(x.first_at),
                CASE WHEN count(*) = 1 THEN (array_agg(x.attributes))[1] END
         FROM exposures x JOIN rollup_batch b ON b.unit_id = x.unit_id GROUP BY x.unit_id, x.experiment_id, x.phase`,
      );
      // The metric rollups of the units analysed (one variant in the phase). The metrics are walked by a loose index
      // scan of events_metric_unit_ts, then each (metric, unit) range from the unit's first exposure on is read
      // through it. The sum's ORDER BY is the report's (see MetricValuesRepository): the same values added in the
      // same order give the same float8.
      await m.query(
        `WITH RECURSIVE metrics AS (
           (SELECT metric FROM events ORDER BY metric LIMIT 1)
           UNION ALL
           SELECT (SELECT e.metric FROM events e WHERE e.metric > metrics.metric ORDER BY e.metric LIMIT 1) FROM metrics WHERE metrics.metric IS NOT NULL
         ),
         x AS (
           SELECT r.experiment_id, r.phase, r.variant, b.unit_id, r.first_at
           FROM rollup_batch b JOIN unit_exposure_rollups r ON r.unit_id = b.unit_id COLLATE "C" WHERE r.variant IS NOT NULL
         )
         INSERT INTO unit_metric_rollups (experiment_id, phase, metric, variant, unit_id, value_sum, event_count)
         SELECT x.experiment_id, x.phase, ev.metric, x.variant, x.unit_id, sum(ev.value ORDER BY ev.ts, ev.value), count(*)
         FROM x CROSS JOIN metrics mt
         JOIN events ev ON ev.metric = mt.metric AND ev.unit_id = x.unit_id AND ev.ts >= x.first_at
         WHERE mt.metric IS NOT NULL
         GROUP BY 1, 2, 3, 4, 5`,
      );
      return taken;
    });
  }

  /**
   * The same batch on Citus, where `rollup_queue`, `unit_metric_rollups`, `exposures` and `events` are distributed by
   * unit and co-located (CitusRollups1765910000000): a `ctid` names a row only within one shard, and a recursive CTE
   * or a temporary table cannot join distributed tables, so the batch takes whole units (every queue entry of a unit
   * taken: the recomputation covers them all) and names them in an array; each statement then runs per shard.
   */
  private async processCitusBatch(m: EntityManager, limit: number): Promise<number> {
    const taken: Array<{ unit_id: string }> = await m.query(
      `WITH taken AS (DELETE FROM rollup_queue WHERE unit_id IN (SELECT unit_id FROM rollup_queue LIMIT $1) RETURNING unit_id) SELECT unit_id FROM taken`,
      [limit],
    );
    if (!taken.length) return 0;
    const units = [...new Set(taken.map((r) => r.unit_id))];
    await m.query(`DELETE FROM unit_metric_rollups WHERE unit_id = ANY($1::text[])`, [units]);
    await m.query(
      `INSERT INTO unit_metric_rollups (experiment_id, phase, metric, unit_id, value_sum, event_count)
       SELECT x.experiment_id, x.phase, ev.metric, x.unit_id, sum(ev.value ORDER BY ev.ts, ev.value), count(*)
       FROM (SELECT experiment_id, phase, unit_id, min(first_at) AS first_at FROM exposures WHERE unit_id = ANY($1::text[]) GROUP BY 1, 2, 3) x
       JOIN events ev ON ev.unit_id = x.unit_id AND ev.ts >= x.first_at
       GROUP BY 1, 2, 3, 4`,
      [units],
    );
    return taken.length;
  }

  /** Processes the whole queue as it stands (waiting for another replica's batch): afterwards the rollups hold every write committed before the call. */
  drain(): Promise<number> {
    return runBatches(() => this.processBatch(ROLLUP_DRAIN_BATCH_UNITS, true), ROLLUP_DRAIN_BATCH_UNITS, Infinity);
  }

  /** Whether the phase's analysis has no end yet (phase open, experiment not stopped): only then do the rollups, which have no upper time bound, equal the report's window. */
  async phaseOpen(experimentId: string, phase: number): Promise<boolean> {
    const rows: Array<{ open: boolean }> = await this.db.query(
      `SELECT (p.ended_at IS NULL AND e.stopped_at IS NULL) AS open
       FROM experiments e LEFT JOIN experiment_phases p ON p.experiment_id = e.id AND p.phase = $2 WHERE e.id = $1`,
      [experimentId, phase],
    );
    return rows.length > 0 && rows[0].open;
  }

  /** Queue entries waiting (for /metrics and tests). */
  async queued(): Promise<number> {
    const [{ n }]: [{ n: number }] = await this.db.query(`SELECT count(*)::int AS n FROM rollup_queue`);
    return n;
  }
}
