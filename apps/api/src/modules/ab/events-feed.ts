import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventRow } from './events.repository';

/**
 * Something that keeps state derived from accepted events (the feature store). It sees the rows the events
 * insert actually stored (no duplicates), inside the insert's transaction: a 2xx means both are durable.
 */
export interface AcceptedEventsListener {
  /** Whether any of these rows matter to it; when none do, the batch takes the plain single-statement insert. */
  wants(rows: readonly EventRow[]): Promise<boolean>;
  apply(manager: EntityManager, accepted: readonly EventRow[], receivedAtMs: number): Promise<void>;
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
