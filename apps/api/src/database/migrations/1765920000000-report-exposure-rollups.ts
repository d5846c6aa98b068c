import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The exposures side of the report rollups (issue 19), so a report at volume reads no raw exposure and sorts nothing.
 *
 * `unit_exposure_rollups`: per (experiment, phase, unit) what the report derives from the unit's exposure rows —
 * its variant (NULL when the unit was exposed to several variants in the phase: excluded from the analysis), its
 * first exposure time (the earliest over its rows) and its attributes (single-variant units). Kept from
 * `rollup_queue` by the same recomputation as the metric rollups (delete the unit's rows, recompute from the raw
 * exposures), so it is exact and idempotent in the same way.
 *
 * `unit_metric_rollups` gains the unit's variant, and both tables key units in the "C" collation (byte order):
 * the report's per-variant aggregate then merge-joins the two in (variant, unit) order straight from their indexes,
 * which is also the order the aggregate must read units in (float sums depend on the order of their terms), so no
 * 1,000,000-row sort in the database's linguistic collation is needed. Metric rollups are kept only for units with a
 * single variant (the others are not analysed).
 *
 * Existing data: the metric rollups are emptied and every exposed unit is queued, so the worker rebuilds both.
 */
export class ReportExposureRollups1765920000000 implements MigrationInterface {
  name = 'ReportExposureRollups1765920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE unit_exposure_rollups (
      unit_id text COLLATE "C" NOT NULL,
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL,
      variant text COLLATE "C",
      first_at timestamptz NOT NULL,
      attributes jsonb,
      PRIMARY KEY (unit_id, experiment_id, phase)
    )`);
    await q.query(
      `CREATE INDEX unit_exposure_rollups_variant_unit ON unit_exposure_rollups (experiment_id, phase, variant, unit_id) INCLUDE (first_at)`,
    );
    await q.query(`TRUNCATE unit_metric_rollups`);
    await q.query(`ALTER TABLE unit_metric_rollups DROP CONSTRAINT unit_metric_rollups_pkey`);
    await q.query(`ALTER TABLE unit_metric_rollups ADD COLUMN variant text COLLATE "C" NOT NULL`);
    await q.query(`ALTER TABLE unit_metric_rollups ALTER COLUMN unit_id TYPE text COLLATE "C"`);
    await q.query(`ALTER TABLE unit_metric_rollups ADD PRIMARY KEY (experiment_id, phase, metric, variant, unit_id)`);
    await q.query(`INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM exposures`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE unit_exposure_rollups`);
    await q.query(`TRUNCATE unit_metric_rollups`);
    await q.query(`ALTER TABLE unit_metric_rollups DROP CONSTRAINT unit_metric_rollups_pkey`);
    await q.query(`ALTER TABLE unit_metric_rollups DROP COLUMN variant`);
    await q.query(`ALTER TABLE unit_metric_rollups ALTER COLUMN unit_id TYPE text COLLATE "default"`);
    await q.query(`ALTER TABLE unit_metric_rollups ADD PRIMARY KEY (experiment_id, phase, metric, unit_id)`);
    await q.query(`INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM exposures`);
  }
}
