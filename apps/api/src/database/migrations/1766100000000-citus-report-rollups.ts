import { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['unit_metric_rollups', 'unit_exposure_rollups'];

/**
 * Citus only (docs/scale-out.md), like CitusRollups1765910000000: the per-unit report rollups are distributed by
 * `unit_id`, co-located with `events` and `exposures`, so a rollup batch recomputes a unit from its own shard and the
 * report joins exposure rollups to metric rollups within each shard.
 *
 * Citus co-locates only tables whose distribution columns share a collation, and refuses to change the collation of
 * a distribution column. ReportExposureRollups1765920000000 keys both tables' units in the "C" collation; `events`'
 * `unit_id` is in the database's default collation and cannot change once distributed. So on Citus the two tables'
 * `unit_id` goes back to the default collation before they are distributed. The queries that need byte order say
 * `COLLATE "C"` themselves; only the index order the single-server report merge-joins in is lost, and on Citus each
 * shard sums its own units anyway (totals agree to rounding, not bit for bit: docs/scale-out.md). On plain
 * PostgreSQL and the embedded database this migration does nothing.
 */
export class CitusReportRollups1766100000000 implements MigrationInterface {
  name = 'CitusReportRollups1766100000000';

  async up(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    for (const table of TABLES) {
      await q.query(`ALTER TABLE ${table} ALTER COLUMN unit_id TYPE text COLLATE "default"`);
      await q.query(`SELECT create_distributed_table($1, 'unit_id', colocate_with => 'events')`, [table]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    for (const table of TABLES) {
      // Not cascade_via_foreign_keys: that would also undistribute `experiments` (a reference table) and every table
      // referring to it. The table's foreign keys are dropped around the undistribution and put back as they were.
      const foreignKeys: Array<{ name: string; definition: string }> = await q.query(
        `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'`,
        [table],
      );
      for (const fk of foreignKeys) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT "${fk.name}"`);
      await q.query(
        `SELECT undistribute_table($1) WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)`,
        [table],
      );
      await q.query(`ALTER TABLE ${table} ALTER COLUMN unit_id TYPE text COLLATE "C"`);
      for (const fk of foreignKeys) await q.query(`ALTER TABLE ${table} ADD CONSTRAINT "${fk.name}" ${fk.definition}`);
    }
  }
}
