import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { runBatches } from '../../common/periodic-pass';
import { isCitus } from '../../database/citus';

/**
 * The batch's units, as SQL over a rollup table aliased `a` (units in the "C" collation): `join(a)` ends in a WHERE
 * clause to extend with AND; `using(a)` completes a DELETE.
 */
interface UnitBatch {
  taken: number;
  params: unknown[];
  join: (a: string) => string;
  /** The same over a raw table (`exposures`: units in the database's collation). */
  joinRaw: (a: string) => string;
  using: (a: string) => string;
}

/** The numeric sums of variant_metric_stats (ReportVariantStats1766200000000), in column order. */
const METRIC_SUMS = ['units', 'value_sum', 'value_squares', 'count_sum', 'count_squares', 'value_count_products'];
/** A row of per-variant sums as read back: its key columns, and each sum as exact decimal text. */
type StatsRow = Record<string, string | number>;
interface VariantStats {
  metrics: StatsRow[];
  exposures: StatsRow[];
}

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
 * - `variant_metric_stats`, `variant_exposure_stats` (migration ReportVariantStats1766200000000): per variant the exact
 *   (numeric) sums over those rows that the report's plain metrics and population figures need.
 *
 * Per-unit maintenance is a recomputation, never an increment: a batch takes queued units, deletes their rollup rows
 * and recomputes them from the raw exposures and events, in one transaction; the same transaction adds to the
 * per-variant sums the batch units' contribution after minus before (exact numeric arithmetic, so they stay the sum
 * over the current unit rows). So a unit processed twice (a retry, a
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
      const citus = await isCitus(this.db, m);
      // On Citus the batch writes every unit shard, then the experiment-keyed statistics: on one connection per node,
      // in shard order (as shardOrderedTransaction does), so the later writes see the earlier ones' connections.
      if (citus) await m.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
      // float8 → text must be the shortest round-trip form (PostgreSQL ≥ 12 with extra_float_digits > 0, the
      // default): the variant statistics convert each unit value to numeric through it, exactly.
      await m.query(`SET LOCAL extra_float_digits = 1`);
      const batch = citus ? await this.takeCitusBatch(m, limit) : await this.takeBatch(m, limit);
      if (!batch) return 0;
      const before = await this.variantStatsOf(m, batch);
      // The rollup tables key units in the "C" collation (migration ReportExposureRollups1765920000000): comparisons
      // with the raw tables' unit ids name it, so the rollups' unit indexes serve them.
      for (const table of ['unit_metric_rollups', 'unit_exposure_rollups'])
        await m.query(`DELETE FROM ${table} r ${batch.using('r')}`, batch.params);
      // What the report's raw path derives per unit from its exposure rows (exposedUnitsCtes): the variant when it
      // is the only one, the earliest first exposure, the attributes of a single row.
      await m.query(
        `INSERT INTO unit_exposure_rollups (unit_id, experiment_id, phase, variant, first_at, attributes)
         SELECT x.unit_id, x.experiment_id, x.phase, CASE WHEN count(*) = 1 THEN min(x.variant) END, min(x.first_at),
                CASE WHEN count(*) = 1 THEN (array_agg(x.attributes))[1] END
         FROM exposures x ${batch.joinRaw('x')} GROUP BY x.unit_id, x.experiment_id, x.phase`,
        batch.params,
      );
      // The metric rollups of the units analysed (one variant in the phase). The sum's ORDER BY is the report's (see
      // MetricValuesRepository): the same values added in the same order give the same float8.
      const sum = `sum(ev.value ORDER BY ev.ts, ev.value), count(*)`;
      const x = `SELECT r.experiment_id, r.phase, r.variant, r.unit_id, r.first_at FROM unit_exposure_rollups r ${batch.join('r')} AND r.variant IS NOT NULL`;
      await m.query(
        citus
          ? // Citus plans no recursive CTE over distributed tables; each shard joins its own units' rows. No COLLATE:
            // Citus co-locates only distribution columns of one collation, so there both sides already share it.
            `INSERT INTO unit_metric_rollups (experiment_id, phase, metric, variant, unit_id, value_sum, event_count)
             SELECT x.experiment_id, x.phase, ev.metric, x.variant, x.unit_id, ${sum}
             FROM (${x}) x JOIN events ev ON ev.unit_id = x.unit_id AND ev.ts >= x.first_at
             GROUP BY 1, 2, 3, 4, 5`
          : // The metrics are walked by a loose index scan of events_metric_unit_ts, then each (metric, unit) range
            // from the unit's first exposure on is read through it.
            `WITH RECURSIVE metrics AS (
               (SELECT metric FROM events ORDER BY metric LIMIT 1)
               UNION ALL
               SELECT (SELECT e.metric FROM events e WHERE e.metric > metrics.metric ORDER BY e.metric LIMIT 1) FROM metrics WHERE metrics.metric IS NOT NULL
             ),
             x AS (${x})
             INSERT INTO unit_metric_rollups (experiment_id, phase, metric, variant, unit_id, value_sum, event_count)
             SELECT x.experiment_id, x.phase, ev.metric, x.variant, x.unit_id, ${sum}
             FROM x CROSS JOIN metrics mt
             JOIN events ev ON ev.metric = mt.metric AND ev.unit_id = x.unit_id AND ev.ts >= x.first_at
             WHERE mt.metric IS NOT NULL
             GROUP BY 1, 2, 3, 4, 5`,
        batch.params,
      );
      await this.applyVariantStats(m, before, await this.variantStatsOf(m, batch));
      return batch.taken;
    });
  }

  /**
   * Takes up to `limit` queue entries into a temporary table with statistics, so the planner picks index lookups
   * for a small batch and hash joins for a large one (a catch-up after a bulk load).
   */
  private async takeBatch(m: EntityManager, limit: number): Promise<UnitBatch | null> {
    await m.query(`CREATE TEMPORARY TABLE rollup_batch (unit_id text) ON COMMIT DROP`);
    const [{ taken }]: [{ taken: number }] = await m.query(
      `WITH taken AS (
         DELETE FROM rollup_queue WHERE ctid = ANY(ARRAY(SELECT ctid FROM rollup_queue LIMIT $1)) RETURNING unit_id
       ), batch AS (INSERT INTO rollup_batch SELECT DISTINCT unit_id FROM taken)
       SELECT count(*)::int AS taken FROM taken`,
      [limit],
    );
    if (!taken) return null;
    await m.query(`ANALYZE rollup_batch`);
    return {
      taken,
      params: [],
      join: (a) => `JOIN rollup_batch b ON b.unit_id = ${a}.unit_id COLLATE "C" WHERE true`,
      joinRaw: (a) => `JOIN rollup_batch b ON b.unit_id = ${a}.unit_id WHERE true`,
      using: (a) => `USING rollup_batch b WHERE ${a}.unit_id = b.unit_id COLLATE "C"`,
    };
  }

  /**
   * The batch on Citus, where the queue, the rollups, `exposures` and `events` are distributed by unit and
   * co-located (CitusRollups1765910000000, ReportVariantStats1766200000000): a `ctid` names a row only within one
   * shard, and a temporary table cannot join distributed tables, so the batch takes whole units (every queue entry
   * of a unit taken: the recomputation covers them all) and names them in an array; each statement then runs per
   * shard.
   */
  private async takeCitusBatch(m: EntityManager, limit: number): Promise<UnitBatch | null> {
    const taken: Array<{ unit_id: string }> = await m.query(
      `WITH taken AS (DELETE FROM rollup_queue WHERE unit_id IN (SELECT unit_id FROM rollup_queue LIMIT $1) RETURNING unit_id) SELECT unit_id FROM taken`,
      [limit],
    );
    if (!taken.length) return null;
    return {
      taken: taken.length,
      params: [[...new Set(taken.map((r) => r.unit_id))]],
      join: (a) => `WHERE ${a}.unit_id = ANY($1::text[])`,
      joinRaw: (a) => `WHERE ${a}.unit_id = ANY($1::text[])`,
      using: (a) => `WHERE ${a}.unit_id = ANY($1::text[])`,
    };
  }

  /**
   * The batch's units' contribution to the variant statistics (ReportVariantStats1766200000000), as exact decimal
   * text: each float8 value_sum goes to numeric through its shortest round-trip text (a direct cast keeps 15 digits).
   */
  private async variantStatsOf(m: EntityManager, batch: UnitBatch): Promise<VariantStats> {
    const metrics: StatsRow[] = await m.query(
      `SELECT r.experiment_id, r.phase, r.metric, r.variant, count(*)::text AS units, sum(r.y)::text AS value_sum,
              sum(r.y * r.y)::text AS value_squares, sum(r.c)::text AS count_sum, sum(r.c * r.c)::text AS count_squares,
              sum(r.y * r.c)::text AS value_count_products
       FROM (SELECT r.experiment_id, r.phase, r.metric, r.variant, r.value_sum::text::numeric AS y, r.event_count::numeric AS c
             FROM unit_metric_rollups r ${batch.join('r')}) r
       GROUP BY r.experiment_id, r.phase, r.metric, r.variant`,
      batch.params,
    );
    const exposures: StatsRow[] = await m.query(
      `SELECT r.experiment_id, r.phase, r.variant, count(*)::text AS units
       FROM unit_exposure_rollups r ${batch.join('r')} AND r.variant IS NOT NULL
       GROUP BY r.experiment_id, r.phase, r.variant`,
      batch.params,
    );
    return { metrics, exposures };
  }

  /**
   * Adds (after − before) to the variant statistics: numeric arithmetic in the database, so exact. Groups whose
   * figures did not change (a unit recomputed to the same rollups) write nothing.
   */
  private async applyVariantStats(m: EntityManager, before: VariantStats, after: VariantStats): Promise<void> {
    await this.applyDeltas(
      m,
      'variant_metric_stats',
      ['experiment_id', 'phase', 'metric', 'variant'],
      METRIC_SUMS,
      before.metrics,
      after.metrics,
    );
    await this.applyDeltas(
      m,
      'variant_exposure_stats',
      ['experiment_id', 'phase', 'variant'],
      ['units'],
      before.exposures,
      after.exposures,
    );
  }

  /**
   * Upserts into `table`, per key, each of `sums` += after − before (numeric text; a side without the key counts 0):
   * multi-row INSERT … ON CONFLICT, which Citus routes by key.
   */
  private async applyDeltas(
    m: EntityManager,
    table: string,
    keys: string[],
    sums: string[],
    before: StatsRow[],
    after: StatsRow[],
  ): Promise<void> {
    const keyOf = (r: StatsRow) => JSON.stringify(keys.map((k) => String(r[k])));
    const pairs = new Map<string, { key: StatsRow; before?: StatsRow; after?: StatsRow }>();
    for (const r of before) pairs.set(keyOf(r), { key: r, before: r });
    for (const r of after) {
      const p = pairs.get(keyOf(r));
      if (p) p.after = r;
      else pairs.set(keyOf(r), { key: r, after: r });
    }
    const changed = [...pairs.values()].filter((p) => sums.some((s) => p.before?.[s] !== p.after?.[s]));
    const types: Record<string, string> = { experiment_id: 'uuid', phase: 'int', metric: 'text', variant: 'text' };
    for (let i = 0; i < changed.length; i += 500) {
      const params: unknown[] = [];
      const $ = (v: unknown, type: string) => {
        params.push(v);
        return `$${params.length}::${type}`;
      };
      const rows = changed
        .slice(i, i + 500)
        .map(
          (p) =>
            `(${[
              ...keys.map((k) => $(p.key[k], types[k])),
              ...sums.map((s) => `${$(p.after?.[s] ?? '0', 'numeric')} - ${$(p.before?.[s] ?? '0', 'numeric')}`),
            ].join(', ')})`,
        );
      await m.query(
        `INSERT INTO ${table} AS t (${[...keys, ...sums].join(', ')}) VALUES ${rows.join(', ')}
         ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${sums.map((s) => `${s} = t.${s} + excluded.${s}`).join(', ')}`,
        params,
      );
    }
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
