import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

@Injectable()
export class HealthService {
  constructor(
    private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async check(): Promise<{ status: 'ok' | 'degraded'; db: 'up' | 'down'; version: string; database: 'embedded' | 'server' }> {
    let up: boolean;
    try {
      await Promise.race([this.db.query('SELECT 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref())]);
      up = true;
    } catch {
      up = false;
    }
    return { status: up ? 'ok' : 'degraded', db: up ? 'up' : 'down', version: this.config.version, database: this.config.databaseUrl ? 'server' : 'embedded' };
  }
}
