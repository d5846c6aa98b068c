import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicPass } from '../common/periodic-pass';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { HOT_TABLES, MaintenanceRepository } from './maintenance.repository';

/** How often the flush-rewritten tables are vacuumed on the embedded database. */
export const HOT_VACUUM_INTERVAL_MS = 15_000;
/** Every this many passes the whole database is vacuumed (every 5 minutes). */
export const FULL_VACUUM_EVERY = 20;

/**
 * The embedded database (PGlite) is a single-user PostgreSQL without the autovacuum launcher, so the space of
 * updated and deleted rows is never made reusable: a demo whose model flush rewrites a 3.4 MB posterior row every
 * second grew its data folder from 64 MB to 2.6 GB in ten minutes. This pass does autovacuum's job there: a plain
 * `VACUUM` (not FULL: no exclusive rewrite) of the flush-rewritten tables every 15 s, and of the whole database every
 * 5 minutes, so a row's dead versions are reused by its next versions. On a PostgreSQL server autovacuum does it and
 * the pass stays off.
 */
@Injectable()
export class EmbeddedVacuumWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('EmbeddedVacuum');
  private readonly runner: PeriodicPass<void>;
  private passes = 0;

  constructor(
    private readonly maintenance: MaintenanceRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.runner = new PeriodicPass({
      intervalMs: HOT_VACUUM_INTERVAL_MS,
      log: this.log,
      what: 'embedded vacuum',
      pass: () => this.pass(),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.databaseUrl) this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** One pass: the hot tables, or every {@link FULL_VACUUM_EVERY}th time the whole database. */
  async pass(): Promise<void> {
    this.passes += 1;
    await this.maintenance.vacuum(this.passes % FULL_VACUUM_EVERY === 0 ? [] : HOT_TABLES);
  }
}
