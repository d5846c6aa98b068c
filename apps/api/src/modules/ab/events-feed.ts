import { Injectable } from '@nestjs/common';
import type { EventRow } from './events.repository';

/**
 * Something that keeps state derived from accepted events (the feature store). The events insert queues the
 * stored rows of the metrics it names in the same statement (`feature_queue`): a 2xx means the events and their
 * queue entries are durable; the listener folds them in later.
 */
export interface AcceptedEventsListener {
  /** The metrics among these rows whose stored events are to be queued for it (none: the plain insert). */
  queuedMetrics(rows: readonly EventRow[]): Promise<readonly string[]>;
  /** A write that queued entries has committed (on this replica); `unitIds`: the units of its queued rows. */
  queued(unitIds: readonly string[]): void;
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
