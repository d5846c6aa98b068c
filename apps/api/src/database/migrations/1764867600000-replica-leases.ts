import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per replica id, held by one live process at a time (a random `holder` token per process start, renewed by
 * a heartbeat). Crash replay is per replica id, so two live processes with the same id would each replay and flush
 * the other's unflushed rows; the lease makes the second one wait for the first to be gone, or refuse to start.
 */
export class ReplicaLeases1764867600000 implements MigrationInterface {
  name = 'ReplicaLeases1764867600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE replica_leases (
      replica_id text PRIMARY KEY,
      holder uuid NOT NULL,
      host text NOT NULL,
      pid integer NOT NULL,
      acquired_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE replica_leases`);
  }
}
