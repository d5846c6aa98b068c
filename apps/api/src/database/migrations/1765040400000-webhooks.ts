import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks and their durable outbox. `webhook_deliveries` is the outbox: one row per (event, subscribed webhook),
 * inserted in the transaction of the change that caused the event, so a committed change always has its deliveries
 * and a rolled-back one never does. The row id is the Standard Webhooks `webhook-id` (the same on every attempt);
 * `body` is the exact JSON sent. A pending row is due at `next_attempt_at`; a worker claims it by pushing
 * `next_attempt_at` past its timeout (a lease: a process killed mid-attempt leaves the row due again).
 * `experiment_signals` remembers which evaluation findings (SRM, guardrail breach, significance, auto-stop) were
 * already announced for an experiment phase, so each is announced once.
 */
export class Webhooks1765040400000 implements MigrationInterface {
  name = 'Webhooks1765040400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        description text NOT NULL DEFAULT '',
        event_types text[] NOT NULL,
        secret text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id text PRIMARY KEY,
        webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        last_attempt_at timestamptz,
        last_status_code int,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE experiment_signals (
        experiment_id uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
        phase int NOT NULL,
        signal text NOT NULL,
        subject text NOT NULL DEFAULT '',
        at timestamptz NOT NULL DEFAULT now(),
        evidence jsonb,
        PRIMARY KEY (experiment_id, phase, signal, subject)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS experiment_signals`);
    await q.query(`DROP TABLE IF EXISTS webhook_deliveries`);
    await q.query(`DROP TABLE IF EXISTS webhooks`);
  }
}
