import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-unit rollups for reports at volume (issue 19).
 *
 * `unit_metric_rollups`: per (experiment, phase, metric, unit) the unit's events of that metric from its first
 * exposure in the phase on — Σ value (summed in (ts, value) order, exactly as the report's raw-table computation
 * sums them, so the two agree to the bit) and the count. A report then reads one row per unit instead of its events.
 * The primary key leads with experiment_id, the column a distributed deployment (Citus) shards it by.
 *
 * `rollup_queue`: units whose rollups are stale. Every event or exposure write enqueues its units in the same
 * statement (so in the same transaction); a worker recomputes the queued units' rollups from the raw rows in
 * bounded batches. A recomputation replaces the unit's rows, so processing a unit twice changes nothing (no double
 * count, whatever retries or races happened); no index, since it is only ever read whole, in batches, and emptied.
 *
 * Existing data: every exposed unit is enqueued here, so the worker builds the rollups of existing experiments.
 */
export class ReportRollups1765645200000 implements MigrationInterface {
  name = 'ReportRollups1765645200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE unit_metric_rollups (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL,
      metric text NOT NULL,
      unit_id text NOT NULL,
      value_sum double precision NOT NULL,
      event_count bigint NOT NULL,
      PRIMARY KEY (experiment_id, phase, metric, unit_id)
    )`);
    await q.query(`CREATE INDEX unit_metric_rollups_unit ON unit_metric_rollups (unit_id)`);
    await q.query(`CREATE TABLE rollup_queue (unit_id text NOT NULL)`);
    await q.query(`INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM exposures`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rollup_queue`);
    await q.query(`DROP TABLE unit_metric_rollups`);
  }
}
