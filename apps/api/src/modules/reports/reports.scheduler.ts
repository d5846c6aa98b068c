import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
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
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly reports: ReportsService,
    private readonly repo: ReportsRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick().catch((err: unknown) => this.log.warn(`report refresh failed: ${String(err)}`)), REPORT_REFRESH_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; returns how many reports were recomputed. Concurrent calls share the pass in progress. */
  tick(maxAgeMs = REPORT_REFRESH_MS): Promise<number> {
    this.running ??= this.pass(maxAgeMs).finally(() => (this.running = null));
    return this.running;
  }

  private async pass(maxAgeMs: number): Promise<number> {
    let done = 0;
    await this.repo.prune(KEEP_UNREAD_MS);
    const defaults = normalizeOptions({});
    for (const key of await this.repo.runningWithoutDefault(stableStringify(defaults), PER_TICK)) {
      if (this.stopped) return done;
      await this.reports.recompute(key, defaults);
      done++;
    }
    for (const s of await this.repo.stale(maxAgeMs, KEEP_UNREAD_MS, PER_TICK)) {
      if (this.stopped) return done;
      await this.reports.recompute(s.experimentKey, s.options as unknown as ReportOptions);
      done++;
    }
    return done;
  }
}
