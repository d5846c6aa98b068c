import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Citus only (docs/scale-out.md), like CitusDistribution1765558800000: the report-rollup tables created after it
 * (ReportRollups1765645200000) are distributed by `unit_id`, co-located with `events` and `exposures`, so a batch
 * recomputes each unit's rollups from its own shard's exposures and events, the report joins rollups to exposures on
 * the unit within each shard, and a write enqueues its units on the shard it writes. On plain PostgreSQL and the
 * embedded database this migration does nothing.
 *
 * `unit_metric_rollups` is distributed later, by CitusReportRollups1766100000000: ReportExposureRollups1765920000000
 * changes the collation of its `unit_id`, which Citus refuses on a distribution column. (Edited after merge, Citus
 * branch only: with it distributed here no Citus database could migrate past ReportExposureRollups, so none holds
 * this step's old effect.)
 */
export class CitusRollups1765910000000 implements MigrationInterface {
  name = 'CitusRollups1765910000000';

  async up(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    await q.query(`SELECT create_distributed_table('rollup_queue', 'unit_id', colocate_with => 'events')`);
  }

  async down(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    await q.query(
      `SELECT undistribute_table('rollup_queue', cascade_via_foreign_keys => true) WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'rollup_queue'::regclass)`,
    );
  }
}
