import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A/B engine: assignment phases (variant allocation per phase), layers, shipped variants, exposures, events and
 * metric definitions. Index choices (see apps/api/src/modules/ab/README.md):
 *
 * - `exposures` primary key (experiment_id, phase, unit_id, variant): idempotent exposure writes, and the report's
 *   per-unit scan of one experiment phase in unit order (multiple-exposure detection is a GROUP BY on it).
 * - `exposures_unit` (unit_id): unit erasure.
 * - `events_event_id` UNIQUE (event_id): idempotent ingestion (`ON CONFLICT (event_id) DO NOTHING`); NULL event ids
 *   never conflict.
 * - `events_metric_unit_ts` (metric, unit_id, ts) INCLUDE (value): the report reads one metric's events in unit
 *   order with an index-only scan and merge-joins them to the exposures; erasure walks the distinct metrics of
 *   this index (a loose index scan), so events carry no separate unit_id index that every insert would pay for.
 */
export class AbEngine1764432000000 implements MigrationInterface {
  name = 'AbEngine1764432000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE experiments ADD COLUMN shipped_variant text, ADD COLUMN shipped_at timestamptz`);
    await q.query(`CREATE TABLE experiment_phases (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL CHECK (phase >= 1),
      allocation jsonb NOT NULL,
      weights jsonb NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz,
      PRIMARY KEY (experiment_id, phase)
    )`);
    await q.query(`CREATE TABLE layers (
      key text PRIMARY KEY,
      salt text NOT NULL,
      hash_version int NOT NULL DEFAULT 1,
      holdout_percent double precision NOT NULL DEFAULT 0 CHECK (holdout_percent >= 0 AND holdout_percent <= 100),
      holdout jsonb NOT NULL DEFAULT '[]'::jsonb,
      experiments jsonb NOT NULL DEFAULT '{}'::jsonb,
      version int NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE exposures (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      phase int NOT NULL,
      unit_id text NOT NULL,
      variant text NOT NULL,
      first_at timestamptz NOT NULL,
      attributes jsonb,
      PRIMARY KEY (experiment_id, phase, unit_id, variant)
    )`);
    await q.query(`CREATE INDEX exposures_unit ON exposures (unit_id)`);
    await q.query(`CREATE TABLE events (
      event_id text,
      unit_id text NOT NULL,
      metric text NOT NULL,
      value double precision NOT NULL,
      ts timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE UNIQUE INDEX events_event_id ON events (event_id)`);
    await q.query(`CREATE INDEX events_metric_unit_ts ON events (metric, unit_id, ts) INCLUDE (value)`);
    await q.query(`CREATE TABLE metric_definitions (
      key text PRIMARY KEY,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      type text NOT NULL CHECK (type IN ('sum','mean','binary','ratio')),
      event text,
      numerator text,
      denominator text,
      conversion_window_seconds int,
      capping jsonb,
      direction text NOT NULL CHECK (direction IN ('increase','decrease')),
      guardrail_margin double precision,
      cuped_lookback_days int NOT NULL DEFAULT 14,
      version int NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE metric_definitions`);
    await q.query(`DROP TABLE events`);
    await q.query(`DROP TABLE exposures`);
    await q.query(`DROP TABLE layers`);
    await q.query(`DROP TABLE experiment_phases`);
    await q.query(`ALTER TABLE experiments DROP COLUMN shipped_at, DROP COLUMN shipped_variant`);
  }
}
