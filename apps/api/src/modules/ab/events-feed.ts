import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventRow } from './events.repository';

/**
 * Something that keeps state derived from accepted events (the feature store). It sees the rows the events
 * insert actually stored (no duplicates), inside the insert's transaction: a 2xx means both are durable.
 */
export interface AcceptedEventsListener {
  /**
   * Null when none of these rows matter to it (the batch then takes the plain single-statement insert); else what
   * to run inside the insert's transaction with the rows stored. It must not touch the database outside `manager`
   * there: the embedded database has one connection, which the transaction holds.
   */
  prepare(rows: readonly EventRow[]): Promise<((manager: EntityManager, accepted: readonly EventRow[], receivedAtMs: number) => Promise<void>) | null>;
}

/** Where a listener of accepted events registers (the features module does, at start). */
@Injectable()
export class EventsFeed {
  private current: AcceptedEventsListener | null = null;

  register(listener: AcceptedEventsListener): void {
    if (this.current) throw new Error('an accepted-events listener is already registered');
    this.current = listener;
  }

  get listener(): AcceptedEventsListener | null {
    return this.current;
  }
}
