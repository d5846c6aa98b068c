import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ranked slots: uploaded ranker models, the decision log (one row per decision, one per shown slot), rewards,
 * and the bandit posteriors as additive sufficient statistics per (experiment, variant).
 *
 * `in_model` marks decisions and rewards whose effect on the posterior is already inside the stored snapshot;
 * a restarting replica replays its own rows that are not (the partial indexes keep that lookup cheap).
 */
export class RankedSlots1764518400000 implements MigrationInterface {
  name = 'RankedSlots1764518400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ranker_models (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      version int NOT NULL,
      signature jsonb NOT NULL,
      metadata jsonb NOT NULL,
      bytes bytea NOT NULL,
      sha256 text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by text,
      UNIQUE (name, version)
    )`);
    await q.query(`CREATE TABLE decisions (
      id uuid PRIMARY KEY,
      seq bigserial NOT NULL,
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      variant_key text NOT NULL,
      unit_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      seed bigint NOT NULL,
      model_version text NOT NULL,
      policy jsonb NOT NULL,
      context jsonb NOT NULL,
      shortlist jsonb NOT NULL,
      candidate_count int NOT NULL,
      replica text NOT NULL,
      in_model boolean NOT NULL DEFAULT false
    )`);
    await q.query(`CREATE INDEX decisions_experiment_time ON decisions (experiment_id, created_at)`);
    await q.query(`CREATE INDEX decisions_unit ON decisions (unit_id) WHERE unit_id IS NOT NULL`);
    await q.query(`CREATE INDEX decisions_not_in_model ON decisions (replica, experiment_id) WHERE NOT in_model`);
    await q.query(`CREATE TABLE decision_slots (
      decision_id uuid NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
      experiment_id uuid NOT NULL,
      variant_key text NOT NULL,
      created_at timestamptz NOT NULL,
      position int NOT NULL,
      item_id text NOT NULL,
      shortlist_index int NOT NULL,
      score double precision,
      propensity double precision,
      explored boolean NOT NULL,
      cold_start boolean NOT NULL,
      reward double precision NOT NULL DEFAULT 0,
      reward_count int NOT NULL DEFAULT 0,
      PRIMARY KEY (decision_id, item_id)
    )`);
    await q.query(`CREATE INDEX decision_slots_experiment_time ON decision_slots (experiment_id, created_at)`);
    await q.query(`CREATE INDEX decision_slots_experiment_item ON decision_slots (experiment_id, item_id)`);
    await q.query(`CREATE TABLE rewards (
      seq bigserial PRIMARY KEY,
      event_id text,
      decision_id uuid NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
      item_id text NOT NULL,
      value double precision NOT NULL,
      occurred_at timestamptz NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      replica text NOT NULL,
      in_model boolean NOT NULL DEFAULT false
    )`);
    await q.query(`CREATE UNIQUE INDEX rewards_event_id ON rewards (event_id) WHERE event_id IS NOT NULL`);
    await q.query(`CREATE INDEX rewards_decision ON rewards (decision_id)`);
    await q.query(`CREATE INDEX rewards_not_in_model ON rewards (replica) WHERE NOT in_model`);
    await q.query(`CREATE TABLE model_state (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      variant_key text NOT NULL,
      model_type text NOT NULL,
      snapshot jsonb NOT NULL,
      version bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (experiment_id, variant_key)
    )`);
    await q.query(`CREATE TABLE model_item_state (
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      variant_key text NOT NULL,
      item_id text NOT NULL,
      stats jsonb NOT NULL,
      PRIMARY KEY (experiment_id, variant_key, item_id)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE model_item_state`);
    await q.query(`DROP TABLE model_state`);
    await q.query(`DROP TABLE rewards`);
    await q.query(`DROP TABLE decision_slots`);
    await q.query(`DROP TABLE decisions`);
    await q.query(`DROP TABLE ranker_models`);
  }
}
