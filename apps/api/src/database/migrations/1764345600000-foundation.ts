import { MigrationInterface, QueryRunner } from 'typeorm';

/** Foundation tables: API keys, experiments and variants, catalog items, audit log, settings. */
export class Foundation1764345600000 implements MigrationInterface {
  name = 'Foundation1764345600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);
    await q.query(`CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL)`);
    await q.query(`CREATE TABLE api_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin','editor','viewer','serving')),
      key_hash text NOT NULL,
      prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    )`);
    await q.query(`CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash)`);
    await q.query(`CREATE TABLE experiments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      key text NOT NULL UNIQUE,
      name text NOT NULL,
      hypothesis text NOT NULL DEFAULT '',
      kind text NOT NULL CHECK (kind IN ('ranking','ab')),
      assignment text NOT NULL CHECK (assignment IN ('hash','external')),
      status text NOT NULL CHECK (status IN ('draft','running','paused','stopped')),
      traffic_percent double precision NOT NULL,
      layer text,
      slots int,
      salt text NOT NULL,
      settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      version int NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      stopped_at timestamptz
    )`);
    await q.query(`CREATE INDEX experiments_status ON experiments (status)`);
    await q.query(`CREATE TABLE variants (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      key text NOT NULL,
      position int NOT NULL,
      weight double precision NOT NULL CHECK (weight > 0),
      policy jsonb,
      config jsonb,
      UNIQUE (experiment_id, key)
    )`);
    await q.query(`CREATE TABLE items (
      id text PRIMARY KEY,
      features jsonb NOT NULL DEFAULT '{}'::jsonb,
      attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      at timestamptz NOT NULL DEFAULT now(),
      actor_id text,
      actor_name text NOT NULL,
      action text NOT NULL,
      entity_type text NOT NULL,
      entity_id text NOT NULL,
      before jsonb,
      after jsonb
    )`);
    await q.query(`CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP TABLE items`);
    await q.query(`DROP TABLE variants`);
    await q.query(`DROP TABLE experiments`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE settings`);
  }
}
