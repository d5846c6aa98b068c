import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Off-policy evaluation: decisions imported from another system (`imported`, with the caller's own decision id in
 * `external_id`, unique per experiment so an import is idempotent), and OPE runs (a job row with status, progress
 * and the stored result).
 */
export class OffPolicyEvaluation1765126800000 implements MigrationInterface {
  name = 'OffPolicyEvaluation1765126800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE decisions ADD COLUMN imported boolean NOT NULL DEFAULT false, ADD COLUMN external_id text`,
    );
    await q.query(
      `CREATE UNIQUE INDEX decisions_external_id ON decisions (experiment_id, external_id) WHERE external_id IS NOT NULL`,
    );
    await q.query(`CREATE TABLE ope_runs (
      id uuid PRIMARY KEY,
      experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      progress double precision NOT NULL DEFAULT 0,
      request jsonb NOT NULL,
      result jsonb,
      error jsonb,
      created_by text,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`);
    await q.query(`CREATE INDEX ope_runs_experiment ON ope_runs (experiment_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ope_runs`);
    await q.query(`DROP INDEX decisions_external_id`);
    await q.query(`ALTER TABLE decisions DROP COLUMN external_id, DROP COLUMN imported`);
  }
}
