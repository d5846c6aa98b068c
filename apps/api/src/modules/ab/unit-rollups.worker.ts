import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ROLLUP_BATCH_UNITS, UnitRollupsRepository } from './unit-rollups.repository';

/** How often the queue is looked at. */
const INTERVAL_MS = 1_000;
/** Batches per tick at most, so one tick never holds the process's pool for long; the next tick continues. */
const BATCHES_PER_TICK = 10;

/**
 * Keeps the report rollups current in the background: every second, queued units are recomputed in bounded
 * batches (UnitRollupsRepository). A report drains what is left before it reads them, so the worker only keeps that
 * drain short. Any replica may run it; the advisory lock lets one batch run at a time.
 */
@Injectable()
export class UnitRollupsWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('UnitRollups');
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;

  constructor(private readonly rollups: UnitRollupsRepository) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private tick(): Promise<void> {
    this.running ??= (async () => {
      try {
        for (let i = 0; i < BATCHES_PER_TICK; i++) if ((await this.rollups.processBatch()) < ROLLUP_BATCH_UNITS) break;
      } catch (err) {
        this.log.warn(`rollup batch failed, retried next tick: ${(err as Error).message}`);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
