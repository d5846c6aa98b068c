import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from './app.factory';
import { announceWorkerReady, runClusterPrimary } from './cluster';
import { ConfigError, loadConfig, readProcessEnv } from './config/app-config';
import { DataDirLockedError } from './database/embedded-postgres';
import { DemoService } from './modules/demo/demo.service';
import { ReplicaIdInUseError } from './modules/rank/replica-lease';

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readProcessEnv(), packageVersion());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (cluster.isPrimary) for (const note of config.notes) process.stdout.write(`${note}\n`);
  if (cluster.isPrimary && config.workers > 1) {
    await runClusterPrimary(config);
    return;
  }
  let running;
  try {
    running = await createApp(config);
  } catch (err) {
    if (err instanceof DataDirLockedError || err instanceof ReplicaIdInUseError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  await running.app.listen({ port: config.port, host: config.host });
  const base = `http://${config.host}:${(running.app.getHttpServer().address() as { port?: number } | null)?.port ?? config.port}`;
  if (running.generatedAdminKey) {
    process.stdout.write(
      `\nSlotwise generated the first admin API key. It is shown only this once; keep it:\n\n    ${running.generatedAdminKey}\n\n` +
        `Use it as "Authorization: Bearer <key>", or set SLOTWISE_ADMIN_KEY to choose your own.\n\n`,
    );
  }
  // Handlers before the "listening" line: a supervisor (or a test) that stops the process as soon as it reads that line
  // must get the graceful shutdown, not the default SIGTERM action.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal} received: finishing in-flight requests and closing the database\n`);
    running
      .close()
      .then(() => process.exit(0))
      .catch((err) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.stdout.write(
    `Slotwise ${config.version} listening on ${base} (database: ${config.databaseUrl ? 'PostgreSQL server' : `embedded, ${config.dataDir}`}` +
      `${config.workerIndex !== undefined ? `; worker ${config.workerIndex} of ${config.workers}, replica ${config.replicaId}` : ''}); API docs at ${base}/docs\n`,
  );
  announceWorkerReady();

  // The demo workspace (SLOTWISE_DEMO): seeded through the HTTP API on a first start with an empty database.
  running.app
    .get(DemoService)
    .start(base)
    .then((outcome) => {
      if (outcome === 'seeded')
        process.stdout.write(
          `Demo workspace seeded (experiments demo-home-feed and demo-checkout-button) with background traffic; SLOTWISE_DEMO=off disables it\n`,
        );
      if (outcome === 'resumed') process.stdout.write(`Demo traffic resumed; SLOTWISE_DEMO=off disables it\n`);
    })
    .catch((err) =>
      process.stderr.write(
        `demo workspace failed (the API keeps running): ${err instanceof Error ? err.message : String(err)}\n`,
      ),
    );
}

void main().catch((err) => {
  process.stderr.write(
    `Slotwise failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
