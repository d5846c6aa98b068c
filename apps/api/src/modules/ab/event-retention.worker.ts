import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicPass, runBatches } from '../../common/periodic-pass';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { EventsRepository } from './events.repository';

/** How often expired events are looked for. */
const INTERVAL_MS = 10 * 60_000;
/** Events deleted per statement (one short transaction each), and statements per pass at most. */
const BATCH = 10_000;
const BATCHES_PER_PASS = 100;

/**
 * The retention setting SLOTWISE_EVENT_RETENTION_DAYS: every ten minutes (and once at start), events older than
 * that are deleted in bounded batches; their units' report rollups are queued for recomputation by the same
 * statements. Off when the setting is unset. Several replicas may run it: a row is deleted once.
 */
@Injectable()
export class EventRetentionWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('EventRetention');
  private readonly runner: PeriodicPass<number>;

  constructor(
    private readonly events: EventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.runner = new PeriodicPass({
      intervalMs: INTERVAL_MS,
      log: this.log,
      what: 'event retention pass',
      runAtStart: true,
      pass: () => this.pass(),
    });
  }

  onApplicationBootstrap(): void {
    if (this.config.eventRetentionDays) this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** One pass; returns how many events were deleted (0 when retention is off). Concurrent calls share the pass. */
  runOnce(): Promise<number> {
    if (!this.config.eventRetentionDays) return Promise.resolve(0);
    return this.runner.run();
  }

  private async pass(): Promise<number> {
    const days = this.config.eventRetentionDays!;
    const cutoff = new Date(Date.now() - days * 86_400_000);
    const total = await runBatches(
      () => this.events.deleteExpired(cutoff, BATCH),
      BATCH,
      BATCHES_PER_PASS,
      () => this.runner.stopped,
    );
    if (total) this.log.log(`deleted ${total} events older than ${days} days`);
    return total;
  }
}
