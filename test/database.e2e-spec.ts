import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { EmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { createDataSource } from '../apps/api/src/database/data-source';
import { MIGRATIONS } from '../apps/api/src/database/migrations';
import { abExperiment, freshDatabase, rankingExperiment, SERVER_URL, startTestApp } from './support/test-app';

async function withDatabase<T>(work: (ds: DataSource) => Promise<T>): Promise<T> {
  const db = await freshDatabase();
  const embedded = db.url ? null : new EmbeddedPostgres('memory://', 5);
  const url = db.url ?? (await embedded!.start());
  const ds = createDataSource(url, 2);
  await ds.initialize();
  try {
    return await work(ds);
  } finally {
    await ds.destroy();
    await embedded?.stop();
    await db.drop();
  }
}

// Tables only: the citus extension puts two views (citus_tables, citus_schemas) in public.
const tablesOf = async (ds: DataSource) =>
  (
    await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  ).map((r: { table_name: string }) => r.table_name);

describe('database', () => {
  it('applies every migration up on an empty database, then all the way down', async () => {
    await withDatabase(async (ds) => {
      expect(await tablesOf(ds)).toEqual([]);
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      const tables = await tablesOf(ds);
      expect(tables).toEqual(
        expect.arrayContaining(['api_keys', 'audit_log', 'experiments', 'items', 'migrations', 'settings', 'variants']),
      );
      // Migration names are timestamped classes, strictly increasing.
      const stamps = MIGRATIONS.map((m) => Number(/(\d{13})$/.exec(m.name)![1]));
      expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tablesOf(ds)).toEqual(['migrations']);
      expect(await ds.query('SELECT * FROM migrations')).toEqual([]);
      // …and up again: down migrations leave nothing behind that blocks a re-run.
      await ds.runMigrations({ transaction: 'each' });
      expect((await tablesOf(ds)).length).toBe(tables.length);
    });
  });

  // Regression: tables created by migrations merged beside the Citus one (shadow_decisions, triggers, unit_history)
  // were left out of it, and its create_distributed_table('decisions') then failed (a local table's foreign key to a
  // distributed one); later tables (the rollups) were never distributed. Every table must have its place on Citus.
  it('on Citus, every table but api_keys and migrations is distributed or a reference table', async () => {
    await withDatabase(async (ds) => {
      const citus: unknown[] = await ds.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
      if (!citus.length) {
        console.log('skipped: DATABASE_URL is not a Citus coordinator (runs in the Citus pass of .ci/run)');
        return;
      }
      await ds.runMigrations({ transaction: 'each' });
      const placed: Array<{ table: string; kind: string | null }> = await ds.query(
        `SELECT c.relname AS table, CASE p.partmethod WHEN 'h' THEN 'distributed' WHEN 'n' THEN 'reference' END AS kind
         FROM pg_class c LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid
         WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') ORDER BY 1`,
      );
      expect(placed.filter((t) => !t.kind).map((t) => t.table)).toEqual(['api_keys', 'migrations']);
      const kind = Object.fromEntries(placed.map((t) => [t.table, t.kind]));
      for (const table of [
        'events',
        'exposures',
        'decisions',
        'decision_slots',
        'rewards',
        'feature_state',
        'shadow_decisions',
        'trigger_states',
        'unit_history',
        'unit_metric_rollups',
        'unit_exposure_rollups',
        'rollup_queue',
      ]) {
        expect([table, kind[table]]).toEqual([table, 'distributed']);
      }
      // co-located with events: the rollup batch and the report join them on the unit within a shard
      const groups: Array<{ table: string; colocationid: number }> = await ds.query(
        `SELECT logicalrelid::text AS table, colocationid FROM pg_dist_partition WHERE logicalrelid = ANY($1::regclass[])`,
        [
          [
            'events',
            'exposures',
            'unit_metric_rollups',
            'unit_exposure_rollups',
            'rollup_queue',
            'unit_history',
            'trigger_states',
          ],
        ],
      );
      expect(new Set(groups.map((g) => g.colocationid)).size).toBe(1);
    });
  }, 300_000);

  it('keeps every row across a restart', async () => {
    const db = await freshDatabase();
    const first = await startTestApp({ db });
    expect((await first.call('POST', '/v1/experiments', { body: abExperiment('survivor') })).status).toBe(201);
    expect((await first.call('PUT', '/v1/items/kept', { body: { features: { price: 2 } } })).status).toBe(201);
    const key = (await first.call('POST', '/v1/api-keys', { body: { name: 'kept', role: 'viewer' } })).body.key;
    await first.close();

    const second = await startTestApp({ db });
    try {
      expect((await second.call('GET', '/v1/experiments/survivor', { key })).body.name).toBe('A/B survivor');
      expect((await second.call('GET', '/v1/items/kept', { key })).body.features).toEqual({ price: 2 });
      expect((await second.call('GET', '/v1/audit?entityId=survivor')).body.entries).toHaveLength(1);
    } finally {
      await second.close(true);
    }
  });

  // Regression: the Citus check (database/citus.ts) asked the pool for a second connection inside the rewards
  // transaction; on the embedded database's single connection the first reward after a restart hung until timeout.
  it('stores a reward that is the first write after a restart', async () => {
    const db = await freshDatabase();
    const first = await startTestApp({ db });
    expect((await first.call('POST', '/v1/experiments', { body: rankingExperiment('restarted') })).status).toBe(201);
    expect((await first.call('POST', '/v1/experiments/restarted/start')).status).toBe(200);
    const rank = await first.call('POST', '/v1/rank', {
      body: {
        experiment: 'restarted',
        unitId: 'u1',
        context: { age: 3 },
        candidates: [
          { id: 'a', features: { price: 1 } },
          { id: 'b', features: { price: 2 } },
          { id: 'c', features: { price: 3 } },
        ],
      },
    });
    expect(rank.status).toBe(200);
    await first.close();

    const second = await startTestApp({ db });
    try {
      const reward = await second.call('POST', '/v1/rewards', {
        body: {
          rewards: [
            {
              decisionId: rank.body.decisionId,
              itemId: rank.body.slots[0].itemId,
              value: 1,
              eventId: 'first-after-restart',
            },
          ],
        },
      });
      expect(reward.status).toBe(200);
      expect(reward.body).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] });
    } finally {
      await second.close(true);
    }
  }, 120_000);

  (SERVER_URL ? it.skip : it)(
    'refuses a second process on the same embedded data folder, and recovers from a stale lock',
    async () => {
      const db = await freshDatabase();
      const dir = join(db.dataDir, 'data');
      const first = new EmbeddedPostgres(dir, 2);
      await first.start();
      try {
        await expect(new EmbeddedPostgres(dir, 2).start()).rejects.toThrow(/is in use by process \d+/);
        // The lock names a live process: a real second process holding it is refused the same way.
        const holder = spawn('sleep', ['30']);
        await first.stop();
        writeFileSync(join(db.dataDir, 'data.lock'), String(holder.pid));
        await expect(new EmbeddedPostgres(dir, 2).start()).rejects.toThrow(
          new RegExp(`in use by process ${holder.pid}`),
        );
        holder.kill('SIGKILL');
        await new Promise((r) => holder.once('exit', r));
        // The holder died without cleaning up: its stale lock is taken over.
        const again = new EmbeddedPostgres(dir, 2);
        await again.start();
        await again.stop();
        expect(existsSync(join(db.dataDir, 'data.lock'))).toBe(false);
      } finally {
        await first.stop();
        await db.drop();
      }
    },
  );
});
