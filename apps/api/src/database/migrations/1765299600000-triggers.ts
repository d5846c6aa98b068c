import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Behavioural triggers (issue 18 part 3). `triggers` holds the definitions: a targeting-language condition over
 * unit features (`features` lists the feature names it reads) and a per-unit cooldown. `trigger_states` is the
 * durable per (trigger, unit) edge state: `inside` (the unit satisfied the condition at its last evaluation) and
 * `last_fired_at` (the cooldown's start); the evaluation locks the row (FOR UPDATE) so two concurrent events for the
 * same unit cannot both see "outside" and fire twice. `trigger_firings` keeps each firing with the feature values
 * that matched (the console's "recent firings"; the webhook delivery carries the same payload). Both per-unit tables
 * are erased with the unit (DELETE /v1/units/{unitId}).
 */
export class Triggers1765299600000 implements MigrationInterface {
  name = 'Triggers1765299600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE triggers (
        id uuid PRIMARY KEY,
        name text NOT NULL UNIQUE,
        description text NOT NULL DEFAULT '',
        condition jsonb NOT NULL,
        features text[] NOT NULL,
        cooldown_seconds double precision NOT NULL CHECK (cooldown_seconds >= 0),
        enabled boolean NOT NULL DEFAULT true,
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE trigger_states (
        trigger_id uuid NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
        unit_id text NOT NULL,
        inside boolean NOT NULL DEFAULT false,
        last_fired_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (trigger_id, unit_id)
      )`);
    await q.query(`CREATE INDEX trigger_states_unit ON trigger_states (unit_id)`);
    await q.query(`
      CREATE TABLE trigger_firings (
        id uuid PRIMARY KEY,
        trigger_id uuid NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
        unit_id text NOT NULL,
        fired_at timestamptz NOT NULL,
        feature_values jsonb NOT NULL
      )`);
    await q.query(`CREATE INDEX trigger_firings_recent ON trigger_firings (trigger_id, fired_at DESC)`);
    await q.query(`CREATE INDEX trigger_firings_unit ON trigger_firings (unit_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS trigger_firings`);
    await q.query(`DROP TABLE IF EXISTS trigger_states`);
    await q.query(`DROP TABLE IF EXISTS triggers`);
  }
}
