import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Asynchronous feature state for events (issue 17).
 *
 * `feature_queue`: accepted events that event-sourced features read, waiting to be folded into `feature_state`.
 * The events insert fills it in the same statement as the events themselves (only rows it stored, only metrics a
 * feature reads), so an event is durable together with its queue entry and a duplicate queues nothing. One worker
 * at a time (an advisory lock) takes bounded batches, folds them and adds them to the state in one transaction
 * with the entries' delete; a read of a unit's features folds the unit's still-queued entries in (read-through).
 * `received_ms` / `write_id` identify the write an entry came from: the behavioural triggers evaluate per write,
 * in order, as they did when the state was updated inside the write. No index: the queue is only ever read
 * whole in batches and stays small (about one worker interval of events); a unit's read-through scans it.
 */
export class FeatureQueue1765900000000 implements MigrationInterface {
  name = 'FeatureQueue1765900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE feature_queue (
      unit_id text NOT NULL,
      metric text NOT NULL,
      value double precision NOT NULL,
      ts timestamptz NOT NULL,
      received_ms bigint NOT NULL,
      write_id bigint NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE feature_queue`);
  }
}
