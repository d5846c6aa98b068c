import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-variant sufficient statistics of the report rollups (issue 19), so a report at volume reads O(variants) rows
 * instead of one row per unit for its plain metrics and its population figures.
 *
 * `variant_metric_stats`: per (experiment, phase, event metric, variant) over the unit_metric_rollups rows (units of
 * that variant with at least one event of the metric from first exposure on; a unit without one adds 0 to every
 * sum): `units` the row count, and with y = the unit's value_sum and c = its event_count: Σy, Σy², Σc, Σc², Σy·c.
 * `variant_exposure_stats`: per (experiment, phase, variant) the single-variant units of unit_exposure_rollups.
 *
 * The sums are `numeric`, over each float8 converted exactly (through its shortest round-trip text, since a direct
 * float8::numeric cast keeps only 15 digits): exact decimal arithmetic, so the rollup batch can keep them by adding
 * (new − old) for the units it recomputes and the result never depends on the order or history of the updates — it
 * is always exactly the sum over the current unit rollups (what the equality test checks).
 *
 * Two partial indexes give the population figures' first / last exposure and multiply-exposed count without reading
 * every unit.
 *
 * Citus: both tables are distributed by experiment_id (a report reads one shard), co-located with each other;
 * unit_exposure_rollups is distributed by unit_id, co-located with events, when no earlier migration did it (the
 * rollup batch joins it to exposures and events on the unit).
 */
export class ReportVariantStats1766200000000 implements MigrationInterface {
  name = 'ReportVariantStats1766200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE variant_metric_stats (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL,
      metric text NOT NULL,
      variant text COLLATE "C" NOT NULL,
      units bigint NOT NULL,
      value_sum numeric NOT NULL,
      value_squares numeric NOT NULL,
      count_sum numeric NOT NULL,
      count_squares numeric NOT NULL,
      value_count_products numeric NOT NULL,
      PRIMARY KEY (experiment_id, phase, metric, variant)
    )`);
    await q.query(`CREATE TABLE variant_exposure_stats (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL,
      variant text COLLATE "C" NOT NULL,
      units bigint NOT NULL,
      PRIMARY KEY (experiment_id, phase, variant)
    )`);
    await q.query(
      `CREATE INDEX unit_exposure_rollups_first_at ON unit_exposure_rollups (experiment_id, phase, first_at) WHERE variant IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX unit_exposure_rollups_multiple ON unit_exposure_rollups (experiment_id, phase) WHERE variant IS NULL`,
    );
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (citus.length) {
      await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
      // Not yet hash-distributed: absent from pg_dist_partition, or a "Citus local table" (partmethod 'n'), which
      // Citus makes of a local table with a foreign key to a reference table (experiments).
      const distributed: unknown[] = await q.query(
        `SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'unit_exposure_rollups'::regclass AND partmethod = 'h'`,
      );
      if (!distributed.length)
        await q.query(`SELECT create_distributed_table('unit_exposure_rollups', 'unit_id', colocate_with => 'events')`);
      await q.query(`SELECT create_distributed_table('variant_metric_stats', 'experiment_id')`);
      await q.query(
        `SELECT create_distributed_table('variant_exposure_stats', 'experiment_id', colocate_with => 'variant_metric_stats')`,
      );
    }
    // Existing rollups (rollups of units still queued are replaced by the batch, which then applies the difference).
    await q.query(
      `INSERT INTO variant_metric_stats (experiment_id, phase, metric, variant, units, value_sum, value_squares, count_sum, count_squares, value_count_products)
       SELECT experiment_id, phase, metric, variant, count(*), sum(y), sum(y * y), sum(c), sum(c * c), sum(y * c)
       FROM (SELECT experiment_id, phase, metric, variant, value_sum::text::numeric AS y, event_count::numeric AS c FROM unit_metric_rollups) r
       GROUP BY experiment_id, phase, metric, variant`,
    );
    await q.query(
      `INSERT INTO variant_exposure_stats (experiment_id, phase, variant, units)
       SELECT experiment_id, phase, variant, count(*) FROM unit_exposure_rollups WHERE variant IS NOT NULL GROUP BY experiment_id, phase, variant`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX unit_exposure_rollups_multiple`);
    await q.query(`DROP INDEX unit_exposure_rollups_first_at`);
    await q.query(`DROP TABLE variant_exposure_stats`);
    await q.query(`DROP TABLE variant_metric_stats`);
  }
}
