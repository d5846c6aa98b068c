import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicPass, runBatches } from '../../common/periodic-pass';
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
  private readonly runner: PeriodicPass<number>;

  constructor(private readonly rollups: UnitRollupsRepository) {
    this.runner = new PeriodicPass({
      intervalMs: INTERVAL_MS,
      log: new Logger('UnitRollups'),
      what: 'rollup batch',
      pass: () =>
        runBatches(
          () => this.rollups.processBatch(),
          ROLLUP_BATCH_UNITS,
          BATCHES_PER_TICK,
          () => this.runner.stopped,
        ),
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** One pass now (up to BATCHES_PER_TICK batches); returns the queue entries processed. Shares a pass in flight. */
  runOnce(): Promise<number> {
    return this.runner.run();
  }
}
