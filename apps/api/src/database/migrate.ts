import { createDataSource } from './data-source';
import { EmbeddedPostgres } from './embedded-postgres';
import { ConfigError, loadConfig, readProcessEnv } from '../config/app-config';

/** `npm run migration:run` / `migration:revert` against DATABASE_URL or the embedded data folder. */
async function main(): Promise<void> {
  const action = process.argv[2];
  if (action !== 'run' && action !== 'revert') throw new ConfigError('usage: migrate run|revert');
  const config = loadConfig(readProcessEnv());
  const embedded = config.databaseUrl ? null : new EmbeddedPostgres(config.dataDir, 3);
  const url = config.databaseUrl ?? (await embedded!.start());
  const ds = createDataSource(url, 2);
  try {
    await ds.initialize();
    if (action === 'run') {
      const applied = await ds.runMigrations({ transaction: 'each' });
      process.stdout.write(
        applied.length
          ? `Applied: ${applied.map((m) => m.name).join(', ')}\n`
          : 'Nothing to apply: the schema is up to date.\n',
      );
    } else {
      await ds.undoLastMigration({ transaction: 'each' });
      process.stdout.write('Reverted the most recent migration.\n');
    }
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await embedded?.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
