import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** A part of the process that can report trouble: `unavailable` makes /health answer 503 (stop routing here). */
export interface HealthContributor {
  name: string;
  check(): Promise<{ unavailable?: string; degraded?: unknown }>;
}

@Injectable()
export class HealthService {
  private readonly contributors: HealthContributor[] = [];

  /** Modules add their own checks (the rank engine: quarantined posteriors, the replica id lease). */
  register(contributor: HealthContributor): void {
    this.contributors.push(contributor);
  }

  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(): Promise<{
    status: 'ok' | 'degraded';
    db: 'up' | 'down';
    version: string;
    database: 'embedded' | 'server';
    unavailable?: string;
    problems?: Record<string, unknown>;
  }> {
    let up: boolean;
    try {
      await Promise.race([
        this.db.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      up = true;
    } catch {
      up = false;
    }
    const problems: Record<string, unknown> = {};
    let unavailable: string | undefined;
    for (const c of this.contributors) {
      const r = await c.check();
      if (r.unavailable) unavailable ??= r.unavailable;
      if (r.degraded !== undefined) problems[c.name] = r.degraded;
    }
    const ok = up && !unavailable && !Object.keys(problems).length;
    return {
      status: ok ? 'ok' : 'degraded',
      db: up ? 'up' : 'down',
      version: this.config.version,
      database: this.config.databaseUrl ? 'server' : 'embedded',
      ...(unavailable ? { unavailable } : {}),
      ...(Object.keys(problems).length ? { problems } : {}),
    };
  }
}
