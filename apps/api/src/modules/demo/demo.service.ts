import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { SlotwiseClient } from '@slotwise/client';
import { EcommerceWorld } from '@slotwise/simulation';
import { DEMO_AB, DEMO_RANKING, DemoTraffic, seedDemo } from './demo-traffic';

const DEMO_KEY_NAME = 'demo traffic (SLOTWISE_DEMO)';
const SYSTEM = { keyId: 'system:demo', name: 'demo', role: 'admin' as const };

/** Whether the demo runs for this configuration: on, off, or auto = on for the embedded database only. */
export function demoEnabled(config: Pick<AppConfig, 'demo' | 'databaseUrl'>): boolean {
  return config.demo === 'on' || (config.demo === 'auto' && !config.databaseUrl);
}

/**
 * The demo workspace. `start(baseUrl)` runs after the server listens (main.ts): on a first start with an empty
 * database it seeds a catalog, a ranking and an A/B experiment through the HTTP API, then drives gentle traffic.
 * On later starts, traffic resumes when the demo experiments are there. Never in tests (SLOTWISE_DEMO=off).
 */
@Injectable()
export class DemoService implements OnModuleDestroy {
  private readonly logger = new Logger('Demo');
  private traffic?: DemoTraffic;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
    private readonly keys: ApiKeysService,
  ) {}

  /** Returns what happened: 'off', 'seeded', 'resumed' or 'skipped' (a database with other data). */
  async start(
    baseUrl: string,
    options: { intervalMs?: number } = {},
  ): Promise<'off' | 'seeded' | 'resumed' | 'skipped'> {
    if (!demoEnabled(this.config)) return 'off';
    const [row] = await this.db.query(
      `SELECT (SELECT count(*) FROM experiments)::int AS experiments, (SELECT count(*) FROM items)::int AS items,
              (SELECT count(*) FROM experiments WHERE key = $1)::int AS demo`,
      [DEMO_RANKING],
    );
    const empty = row.experiments === 0 && row.items === 0;
    if (!empty && row.demo === 0) return 'skipped';
    await this.traffic?.stop(); // started again in the same process: one driver only
    const client = new SlotwiseClient(baseUrl, await this.demoKey());
    const world = await EcommerceWorld.create({ seed: 7, decisionsPerHour: 3600, arrivalsPerDay: 48 });
    if (empty) await seedDemo(client, world);
    this.traffic = new DemoTraffic(client, world, {
      intervalMs: options.intervalMs ?? 250,
      rewardDelayMs: [1000, 8000],
      seed: Date.now() % 1_000_000,
      log: (m) => this.logger.warn(m),
    });
    this.traffic.start();
    this.logger.log(
      `demo workspace ${empty ? 'seeded' : 'resumed'}: experiments ${DEMO_RANKING} and ${DEMO_AB} with background traffic (SLOTWISE_DEMO=off disables it)`,
    );
    return empty ? 'seeded' : 'resumed';
  }

  /** A fresh admin key for the traffic driver (the previous demo key, if any, is revoked). */
  private async demoKey(): Promise<string> {
    for (const k of await this.keys.list()) {
      if (k.name === DEMO_KEY_NAME) await this.keys.revoke(k.id, SYSTEM).catch(() => undefined);
    }
    return (await this.keys.create({ name: DEMO_KEY_NAME, role: 'admin' }, SYSTEM)).key;
  }

  async onModuleDestroy(): Promise<void> {
    await this.traffic?.stop();
  }
}
