import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cached experiment reports. Reports of running experiments are computed in SQL, stored here per (experiment,
 * options), served from here while fresh, and recomputed on a schedule (by whichever replica gets there first:
 * the upsert is idempotent) and on demand (`POST /v1/experiments/{key}/report/refresh`).
 */
export class ReportCache1764604800000 implements MigrationInterface {
  name = 'ReportCache1764604800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE report_cache (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      options_key text NOT NULL,
      options jsonb NOT NULL,
      report jsonb NOT NULL,
      generated_at timestamptz NOT NULL,
      compute_ms double precision NOT NULL,
      last_read_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (experiment_id, options_key)
    )`);
    await q.query(`CREATE INDEX report_cache_generated ON report_cache (generated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE report_cache`);
  }
}
