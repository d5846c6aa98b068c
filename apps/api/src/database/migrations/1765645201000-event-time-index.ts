import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A BRIN index on events(ts) for the retention setting (SLOTWISE_EVENT_RETENTION_DAYS): events arrive roughly in
 * time order, so a block-range index finds the expired ones for a few pages of index and almost no insert cost
 * (a btree on ts would cost every insert a second tree descent).
 *
 * Why not declarative partitioning by time (docs/scale-out.md#time-partitioning-and-retention): a unique index on a
 * partitioned table must contain the partition key, but an event's idempotency key is its eventId alone — a retry
 * without a timestamp gets a new receipt time, so (event_id, ts) would store it twice. Exposures' first time moves
 * earlier on replay (the row would change partition) and decisions are the target of foreign keys from slots and
 * rewards, which PostgreSQL only allows to a partitioned table through keys that include the partition column.
 */
export class EventTimeIndex1765645201000 implements MigrationInterface {
  name = 'EventTimeIndex1765645201000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX events_ts_brin ON events USING brin (ts)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX events_ts_brin`);
  }
}
