import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { runBatches } from '../../common/periodic-pass';
import { FeatureStoreService } from './feature-store.service';

/** How often the queue is looked at for other replicas' writes (this replica's writes wake the worker). */
export const FEATURE_QUEUE_INTERVAL_MS = 200;
/** After a write on this replica, how long the worker waits to gather more writes into one batch. */
const WAKE_DELAY_MS = 20;
/** Queued events per transaction: bounds a batch's row locks and how long it holds a connection. */
export const FEATURE_QUEUE_BATCH = 4_000;
/** Batches per tick at most, so one tick never holds the pool for long; the next tick continues. */
const BATCHES_PER_TICK = 10;

/**
 * Folds the feature queue into the feature state in the background (FeatureStoreService.applyQueued): one batch at a
 * time across all replicas (an advisory lock), bounded batches. A read of a unit's features folds in what is still
 * queued, so the worker's delay never shows in values; it bounds the queue's length (what a read scans) and how
 * soon the behavioural triggers see an event.
 */
@Injectable()
export class FeatureQueueWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('FeatureQueue');
  private timer?: NodeJS.Timeout;
  private wake?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly store: FeatureStoreService) {
    store.onQueued(() => {
      if (this.stopped || this.wake) return;
      this.wake = setTimeout(() => {
        this.wake = undefined;
        void this.tick();
      }, WAKE_DELAY_MS);
      this.wake.unref();
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), FEATURE_QUEUE_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake);
    await this.running;
  }

  /** Applies the whole queue as it stands (waiting for another replica's batch): afterwards the state holds every event committed before the call. */
  drain(): Promise<number> {
    return runBatches(() => this.store.applyQueued(FEATURE_QUEUE_BATCH, true), FEATURE_QUEUE_BATCH, Infinity);
  }

  private tick(): Promise<void> {
    if (this.running) {
      this.again = true; // a wake during a batch: look once more right after it
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await runBatches(
            () => this.store.applyQueued(FEATURE_QUEUE_BATCH),
            FEATURE_QUEUE_BATCH,
            BATCHES_PER_TICK,
            () => this.stopped,
          );
        } while (this.again && !this.stopped);
      } catch (err) {
        this.log.warn(`feature queue batch failed, retried next tick: ${(err as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
