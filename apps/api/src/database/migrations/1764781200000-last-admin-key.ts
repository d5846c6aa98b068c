import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "At least one active admin API key" becomes a database invariant. A trigger on api_keys fires when an active admin
 * key is revoked, loses the admin role or is deleted; it first takes a transaction-level advisory lock, so removals of
 * admin keys run one at a time (a concurrent one waits until the first commits or rolls back), then counts the active
 * admin keys with a fresh snapshot (READ COMMITTED, PostgreSQL's default and what Slotwise uses) and raises
 * 23000 integrity_constraint_violation, constraint `api_keys_last_admin`, when none would remain. Two concurrent
 * revocations of the last two admin keys therefore leave one: the second sees the first's commit and fails.
 * The app checks first for a friendly 409; the trigger is what holds under races and for any other writer.
 */
export class LastAdminKey1764781200000 implements MigrationInterface {
  name = 'LastAdminKey1764781200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION api_keys_keep_last_admin() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- 0x5377_4b59 ("SwKY"): one lock id for every removal of an admin key.
        PERFORM pg_advisory_xact_lock(1400327001);
        IF NOT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL) THEN
          RAISE EXCEPTION 'the last active admin API key cannot be revoked: create another admin key first'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'api_keys_last_admin', TABLE = 'api_keys';
        END IF;
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER api_keys_last_admin_update AFTER UPDATE ON api_keys FOR EACH ROW
      WHEN (OLD.role = 'admin' AND OLD.revoked_at IS NULL AND (NEW.role <> 'admin' OR NEW.revoked_at IS NOT NULL))
      EXECUTE FUNCTION api_keys_keep_last_admin()`);
    await q.query(`
      CREATE TRIGGER api_keys_last_admin_delete AFTER DELETE ON api_keys FOR EACH ROW
      WHEN (OLD.role = 'admin' AND OLD.revoked_at IS NULL)
      EXECUTE FUNCTION api_keys_keep_last_admin()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS api_keys_last_admin_delete ON api_keys`);
    await q.query(`DROP TRIGGER IF EXISTS api_keys_last_admin_update ON api_keys`);
    await q.query(`DROP FUNCTION IF EXISTS api_keys_keep_last_admin()`);
  }
}
