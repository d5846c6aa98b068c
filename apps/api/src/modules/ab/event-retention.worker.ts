import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
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
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;

  constructor(
    private readonly events: EventsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.eventRetentionDays) return;
    const tick = () => void this.runOnce().catch((err: unknown) => this.log.warn(`event retention pass failed, retried later: ${String(err)}`));
    this.timer = setInterval(tick, INTERVAL_MS);
    this.timer.unref();
    setImmediate(tick);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many events were deleted (0 when retention is off). Concurrent calls share the pass. */
  runOnce(now = Date.now()): Promise<number> {
    const days = this.config.eventRetentionDays;
    if (!days) return Promise.resolve(0);
    this.running ??= (async () => {
      try {
        const cutoff = new Date(now - days * 86_400_000);
        let total = 0;
        for (let i = 0; i < BATCHES_PER_PASS; i++) {
          const n = await this.events.deleteExpired(cutoff, BATCH);
          total += n;
          if (n < BATCH) break;
        }
        if (total) this.log.log(`deleted ${total} events older than ${days} days`);
        return total;
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
