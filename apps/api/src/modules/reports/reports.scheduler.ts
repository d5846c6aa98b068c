import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PeriodicPass } from '../../common/periodic-pass';
import { stableStringify } from '../../common/stable-json';
import { ReportsRepository } from './reports.repository';
import { normalizeOptions, REPORT_REFRESH_MS, ReportOptions, ReportsService } from './reports.service';

/** Cached reports nobody read for this long are dropped (and no longer recomputed). */
const KEEP_UNREAD_MS = 24 * 3_600_000;
/** Reports recomputed per tick at most (the next tick continues). */
const PER_TICK = 50;

/**
 * Recomputes the cached reports of running experiments on a schedule: every REPORT_REFRESH_MS (5 min), each cached report older than the interval and read within the last
 * day is recomputed, and every running experiment gets its default report computed. Several replicas may do the
 * same work; the cache upsert keeps the newest.
 */
@Injectable()
export class ReportsScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(ReportsScheduler.name);
  private readonly runner: PeriodicPass<number, number>;

  constructor(
    private readonly reports: ReportsService,
    private readonly repo: ReportsRepository,
  ) {
    this.runner = new PeriodicPass({
      intervalMs: REPORT_REFRESH_MS,
      log: this.log,
      what: 'report refresh',
      pass: (maxAgeMs) => this.pass(maxAgeMs ?? REPORT_REFRESH_MS),
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** One pass; returns how many reports were recomputed. Concurrent calls share the pass in progress. */
  tick(maxAgeMs = REPORT_REFRESH_MS): Promise<number> {
    return this.runner.run(maxAgeMs);
  }

  private async pass(maxAgeMs: number): Promise<number> {
    let done = 0;
    await this.repo.prune(KEEP_UNREAD_MS);
    const defaults = normalizeOptions({});
    for (const key of await this.repo.runningWithoutDefault(stableStringify(defaults), PER_TICK)) {
      if (this.runner.stopped) return done;
      await this.reports.recompute(key, defaults);
      done++;
    }
    for (const s of await this.repo.stale(maxAgeMs, KEEP_UNREAD_MS, PER_TICK)) {
      if (this.runner.stopped) return done;
      await this.reports.recompute(s.experimentKey, s.options as unknown as ReportOptions);
      done++;
    }
    return done;
  }
}
