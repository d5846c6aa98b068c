import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Interaction histories for sequence rankers (docs/feature-store.md, "Sequences"): per unit, the items it
 * interacted with (rewards with a positive value) at their own time, at most the newest 50 per unit. The primary
 * key leads with the unit, so a rank reads the newest K, and an erasure deletes them, through one index range;
 * a repeated (unit, time, item) is one interaction.
 */
export class UnitHistory1765386000000 implements MigrationInterface {
  name = 'UnitHistory1765386000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE unit_history (
        unit_id text NOT NULL,
        at_ms bigint NOT NULL,
        item_id text COLLATE "C" NOT NULL,
        PRIMARY KEY (unit_id, at_ms, item_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE unit_history`);
  }
}
