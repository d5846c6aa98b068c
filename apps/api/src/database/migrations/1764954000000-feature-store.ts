import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The online feature store (docs/feature-store.md): feature definitions, and per (entity, state key, bucket) the
 * incremental state of libs/features — a sliding window's time buckets, or one decayed state (bucket 0) valued at
 * `ref_ms`. The state key is entity, source and window (`unit:event:click:sliding:1200000`): features that differ
 * only in their aggregation share one state. The primary key leads with the entity, so a rank reads one unit's
 * features, and an erasure deletes them, through one index range.
 */
export class FeatureStore1764954000000 implements MigrationInterface {
  name = 'FeatureStore1764954000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE feature_definitions (
        name text PRIMARY KEY,
        entity text NOT NULL CHECK (entity IN ('unit', 'item')),
        source jsonb NOT NULL,
        aggregation text NOT NULL,
        window_spec jsonb NOT NULL,
        default_value double precision NOT NULL DEFAULT 0,
        description text NOT NULL DEFAULT '',
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE feature_state (
        entity_id text NOT NULL,
        state_key text NOT NULL,
        bucket bigint NOT NULL,
        count double precision NOT NULL,
        sum double precision NOT NULL,
        ref_ms bigint,
        half_life_ms double precision,
        last_ms bigint NOT NULL,
        last_value double precision NOT NULL,
        PRIMARY KEY (entity_id, state_key, bucket)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE feature_state`);
    await q.query(`DROP TABLE feature_definitions`);
  }
}
