import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Shadow policies (apprentice mode): a variant flag (`shadow`: no traffic, decides beside every served decision) and
 * the shadow decisions log, one row per (served decision, shadow variant): the shadow's slate with its propensities
 * and its action distribution over the served shortlist (π_shadow(item i at position j), k × n row-major), from which
 * the shadow's value is estimated off-policy on the served logs.
 */
export class ShadowPolicies1765213200000 implements MigrationInterface {
  name = 'ShadowPolicies1765213200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE variants ADD COLUMN shadow boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE TABLE shadow_decisions (
      decision_id uuid NOT NULL REFERENCES decisions(id) ON DELETE CASCADE,
      variant_key text NOT NULL,
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL,
      seed bigint NOT NULL,
      model_version text NOT NULL,
      slots jsonb NOT NULL,
      probs jsonb NOT NULL,
      PRIMARY KEY (decision_id, variant_key)
    )`);
    await q.query(
      `CREATE INDEX shadow_decisions_experiment ON shadow_decisions (experiment_id, variant_key, created_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE shadow_decisions`);
    await q.query(`ALTER TABLE variants DROP COLUMN shadow`);
  }
}
