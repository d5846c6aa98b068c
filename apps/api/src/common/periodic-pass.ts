import type { Logger } from '@nestjs/common';

/**
 * A background pass run every `intervalMs` (and, with `runAtStart`, once as soon as the application has started):
 * the skeleton the rollup, retention, report-refresh and automation workers share.
 *
 * - **One pass in flight per process.** `run()` while a pass is running returns that pass, so a timer tick and an
 *   explicit call (a test, a report that needs it now) never run two passes side by side.
 * - **A failed pass is logged and retried at the next tick**; the timer is unref'd so it never keeps the process up.
 * - **`stop()`** clears the timer, marks the runner stopped (passes check `stopped` between units of work) and waits
 *   for the pass in flight.
 */
export class PeriodicPass<T, A = never> {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<T> | null = null;
  private halted = false;

  constructor(
    private readonly options: {
      /** Milliseconds between ticks. */
      intervalMs: number;
      /** The work of one pass; a timer tick passes no argument, `run(arg)` passes its own. */
      pass: (arg?: A) => Promise<T>;
      /** Where a failed tick is reported, prefixed by `what`. */
      log: Logger;
      what: string;
      /** Also run once right after `start()` (on the next turn of the event loop). */
      runAtStart?: boolean;
    },
  ) {}

  /** Whether stop() was called: a pass iterating over many items should end early. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): void {
    if (this.halted || this.timer) return;
    const tick = () =>
      void this.run().catch((err: unknown) =>
        this.options.log.warn(
          `${this.options.what} failed, retried at the next tick: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    if (this.options.runAtStart) setImmediate(tick);
  }

  /** One pass now; concurrent calls share the pass in flight (and its argument). */
  run(arg?: A): Promise<T> {
    this.running ??= this.options.pass(arg).finally(() => (this.running = null));
    return this.running;
  }

  async stop(): Promise<void> {
    this.halted = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}

/**
 * Runs `batch` (which handles up to `batchSize` items and returns how many it handled) until a batch comes back
 * short — nothing left — or `maxBatches` have run (the next pass continues), or `stopped()` turns true. Returns the
 * total handled. Bounding each batch keeps its transaction short; bounding the batches per pass keeps one pass from
 * holding the process's pool for long.
 */
export async function runBatches(
  batch: () => Promise<number>,
  batchSize: number,
  maxBatches: number,
  stopped: () => boolean = () => false,
): Promise<number> {
  let total = 0;
  for (let i = 0; i < maxBatches && !stopped(); i++) {
    const n = await batch();
    total += n;
    if (n < batchSize) break;
  }
  return total;
}
