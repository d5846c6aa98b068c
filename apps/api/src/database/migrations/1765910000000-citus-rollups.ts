import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Citus only (docs/scale-out.md), like CitusDistribution1765558800000: the report-rollup tables created after it
 * (ReportRollups1765645200000) are distributed by `unit_id`, co-located with `events` and `exposures`, so a batch
 * recomputes each unit's rollups from its own shard's exposures and events, the report joins rollups to exposures on
 * the unit within each shard, and a write enqueues its units on the shard it writes. On plain PostgreSQL and the
 * embedded database this migration does nothing.
 */
export class CitusRollups1765910000000 implements MigrationInterface {
  name = 'CitusRollups1765910000000';

  async up(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    await q.query(`SELECT create_distributed_table('unit_metric_rollups', 'unit_id', colocate_with => 'events')`);
    await q.query(`SELECT create_distributed_table('rollup_queue', 'unit_id', colocate_with => 'events')`);
  }

  async down(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (!citus.length) return;
    await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    for (const table of ['rollup_queue', 'unit_metric_rollups']) {
      await q.query(
        `SELECT undistribute_table($1, cascade_via_foreign_keys => true) WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass)`,
        [table],
      );
    }
  }
}
