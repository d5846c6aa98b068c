import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per unit for the event-sourced unit feature state (issue 17): `unit_feature_state.states` is a JSON object
 * holding, per state key (`unit:event:<metric>:<window>`), the unit's buckets as
 * `[bucket, count, sum, ref_ms, last_ms, last_value]` arrays (libs/features BucketState; `ref_ms` null for sliding
 * windows). Stored as text, not jsonb: only the API reads it, whole, and on the embedded database a 4,000-row upsert
 * of jsonb took twice as long as of text and reading it back 2.5 times as long (`states::jsonb` to inspect it). The feature-queue worker, the only writer
 * of these states (under the queue's advisory lock, which erasure also takes), reads a batch's units, merges in JS
 * (libs/features `mergeStates`) and writes them back in one multi-row upsert: one row per unit instead of one per
 * (unit, state, bucket). Reward and impression states, which request paths write concurrently, and item states stay
 * in `feature_state`. Existing `unit:event:%` rows of `feature_state` are moved here.
 *
 * On Citus (docs/scale-out.md) `unit_feature_state` and `feature_queue` are distributed by `unit_id`, co-located
 * with `events` (the events insert queues its rows on the shard it writes; a rank reads one unit's row on one shard);
 * on plain PostgreSQL and the embedded database that step does nothing.
 */
export class UnitFeatureState1766000000000 implements MigrationInterface {
  name = 'UnitFeatureState1766000000000';

  async up(q: QueryRunner): Promise<void> {
    // Citus distributes a table only in a transaction that has run no multi-shard statement in parallel mode, so the
    // mode is set before the move below touches the distributed feature_state.
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (citus.length) await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
    await q.query(`CREATE TABLE unit_feature_state (unit_id text PRIMARY KEY, states text NOT NULL)`);
    await q.query(`
      INSERT INTO unit_feature_state (unit_id, states)
      SELECT entity_id, jsonb_object_agg(state_key, buckets)::text FROM (
        SELECT entity_id, state_key,
               jsonb_agg(jsonb_build_array(bucket, count, sum, ref_ms, last_ms, last_value) ORDER BY bucket) AS buckets
        FROM feature_state WHERE state_key LIKE 'unit:event:%' GROUP BY entity_id, state_key) s
      GROUP BY entity_id`);
    await q.query(`DELETE FROM feature_state WHERE state_key LIKE 'unit:event:%'`);
    if (!citus.length) return;
    await q.query(`SELECT create_distributed_table('unit_feature_state', 'unit_id', colocate_with => 'events')`);
    await q.query(`SELECT create_distributed_table('feature_queue', 'unit_id', colocate_with => 'events')`);
  }

  async down(q: QueryRunner): Promise<void> {
    const citus: unknown[] = await q.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
    if (citus.length) {
      await q.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
      await q.query(
        `SELECT undistribute_table('feature_queue') WHERE EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'feature_queue'::regclass)`,
      );
    }
    // A decayed state (ref_ms set) takes its half-life from the state key's last part (a metric may hold ':').
    await q.query(`
      INSERT INTO feature_state (entity_id, state_key, bucket, count, sum, ref_ms, half_life_ms, last_ms, last_value)
      SELECT u.unit_id, k.key, (b.v->>0)::int8, (b.v->>1)::float8, (b.v->>2)::float8, (b.v->>3)::int8,
             CASE WHEN b.v->>3 IS NOT NULL THEN regexp_replace(k.key, '^.*:', '')::float8 END,
             (b.v->>4)::int8, (b.v->>5)::float8
      FROM unit_feature_state u, jsonb_each(u.states::jsonb) k, jsonb_array_elements(k.value) b(v)`);
    await q.query(`DROP TABLE unit_feature_state`);
  }
}
