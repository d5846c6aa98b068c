import { DataSource, MigrationInterface } from 'typeorm';
import { dataSourceOptions } from '../../apps/api/src/database/data-source';
import { EmbeddedPostgres } from '../../apps/api/src/database/embedded-postgres';
import { MIGRATIONS } from '../../apps/api/src/database/migrations';
import { freshDatabase } from './test-app';

export interface RepositoryTestDatabase {
  /** A migrated DataSource on the database (several may be open at once, like replicas). */
  open(options?: { migrations?: Array<new () => MigrationInterface>; poolSize?: number }): Promise<DataSource>;
  close(): Promise<void>;
}

/** A fresh database for repository tests without the app: in memory (embedded), or on DATABASE_URL's server. */
export async function repositoryTestDatabase(): Promise<RepositoryTestDatabase> {
  const db = await freshDatabase();
  const embedded = db.url ? null : new EmbeddedPostgres('memory://', 8);
  const url = db.url ?? (await embedded!.start());
  const opened: DataSource[] = [];
  return {
    async open({ migrations = MIGRATIONS, poolSize = embedded ? 1 : 4 } = {}) {
      const ds = new DataSource({ ...dataSourceOptions(url, poolSize), migrations });
      await ds.initialize();
      opened.push(ds);
      await ds.runMigrations({ transaction: 'each' });
      return ds;
    },
    async close() {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
      await embedded?.stop();
      await db.drop();
    },
  };
}

/** An experiment row to hang decisions and model state on. */
export async function insertRankingExperiment(ds: DataSource, key: string): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO experiments (key, name, kind, assignment, status, traffic_percent, salt) VALUES ($1, $1, 'ranking', 'hash', 'running', 100, 'salt') RETURNING id`,
    [key],
  );
  return id;
}

/** For the enclosing `describe`: a fresh migrated database with one ranking experiment (fields set in beforeAll). */
export function useRankingDatabase(key: string): { db: RepositoryTestDatabase; ds: DataSource; experimentId: string } {
  const ctx = {} as { db: RepositoryTestDatabase; ds: DataSource; experimentId: string };
  beforeAll(async () => {
    ctx.db = await repositoryTestDatabase();
    ctx.ds = await ctx.db.open();
    ctx.experimentId = await insertRankingExperiment(ctx.ds, key);
  });
  afterAll(() => ctx.db?.close());
  return ctx;
}
