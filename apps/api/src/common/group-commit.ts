interface Waiting<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: coalesces concurrent writes into batches. Calls made in the same event-loop turn, or while a
 * batch is being written, go into a following batch (at most `maxBatch` items), so under load one statement
 * carries many callers' rows instead of each queueing for a connection. A caller's promise settles only when its
 * batch has committed (or failed: then every caller in that batch gets the error), so an answer given after it
 * still means durable. `maxInFlight` batches are written at a time (1 for a single-connection database).
 * A failed batch of several items is written again one item at a time (a batch is one atomic statement, so nothing
 * of it was kept): one bad row fails only its own caller, not the up to `maxBatch` others that shared its statement.
 */
export class GroupCommit<T> {
  private readonly queue: Waiting<T>[] = [];
  /** Writers running; counted synchronously with their last look at the queue, so no submit is left behind. */
  private active = 0;
  /** Writers holding a batch. */
  private busy = 0;
  private readonly writers = new Set<Promise<void>>();

  constructor(
    private readonly writeBatch: (items: T[]) => Promise<void>,
    private readonly maxBatch: number,
    private readonly maxInFlight = 1,
  ) {
    if (!(maxBatch >= 1) || !(maxInFlight >= 1)) throw new RangeError(`maxBatch and maxInFlight must be at least 1`);
  }

  /** Resolves once `item` is written as part of a batch; rejects with that batch's error. */
  submit(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.active < this.maxInFlight) {
        this.active++;
        const writer = this.writeQueued();
        this.writers.add(writer);
        void writer.then(() => this.writers.delete(writer));
      }
    });
  }

  /** Resolves when everything submitted so far is written or has failed (shutdown). */
  async drain(): Promise<void> {
    while (this.writers.size) await Promise.all(this.writers);
  }

  private async writeOneByOne(batch: Waiting<T>[]): Promise<void> {
    for (const w of batch) {
      try {
        await this.writeBatch([w.item]);
        w.resolve();
      } catch (err) {
        w.reject(err);
      }
    }
  }

  private async writeQueued(): Promise<void> {
    // The rest of this event-loop turn's calls join the first batch.
    await new Promise<void>((next) => setImmediate(next));
    while (this.queue.length) {
      // Writers that have no batch yet share the queue, so parallel connections each get part of it.
      const share = Math.ceil(this.queue.length / (this.active - this.busy));
      const batch = this.queue.splice(0, Math.min(this.maxBatch, share));
      this.busy++;
      try {
        await this.writeBatch(batch.map((w) => w.item));
        for (const w of batch) w.resolve();
      } catch (err) {
        if (batch.length === 1) batch[0].reject(err);
        else await this.writeOneByOne(batch);
      }
      this.busy--;
    }
    this.active--;
  }
}
