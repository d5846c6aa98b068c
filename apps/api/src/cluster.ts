import cluster, { type Worker } from 'node:cluster';
import type { AppConfig } from './config/app-config';

/**
 * The primary of `WORKERS` > 1 (node:cluster): it serves no requests; it forks worker 1, waits until it listens
 * (start-up applies migrations and creates the first admin key — one process at a time), then forks the others on the
 * same port (the primary hands out connections round-robin). Worker i runs with SLOTWISE_WORKER_INDEX = i, so it is
 * replica `workerReplicaId(SLOTWISE_REPLICA_ID, i)` with its own lease, flushes and crash replay. A worker that dies
 * is forked again with the same index (it replays its own unflushed rows once its lease lapses). SIGTERM / SIGINT
 * stop every worker gracefully (last flush), then the primary exits.
 */
export async function runClusterPrimary(
  config: AppConfig,
  log: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<void> {
  const byIndex = new Map<number, Worker>();
  let stopping = false;

  let started = false;
  const fork = (index: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ SLOTWISE_WORKER_INDEX: String(index) });
      byIndex.set(index, worker);
      worker.once('listening', () => resolve());
      worker.once('exit', (code, signal) => {
        if (byIndex.get(index) === worker) byIndex.delete(index);
        if (stopping) return;
        if (!started) {
          // a start-up failure (bad database, replica id held, …) is not retried: the primary fails with it
          reject(new Error(`worker ${index} exited (${signal ?? code}) during start-up`));
          return;
        }
        log(`worker ${index} (pid ${worker.process.pid}) exited (${signal ?? code}); starting it again`);
        setTimeout(() => {
          if (!stopping)
            fork(index).catch((err: unknown) =>
              log(`worker ${index} failed to restart: ${err instanceof Error ? err.message : String(err)}`),
            );
        }, 1000).unref();
      });
    });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: stopping ${byIndex.size} worker(s)`);
    const exits = [...byIndex.values()].map(
      (w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))),
    );
    for (const w of byIndex.values()) w.process.kill('SIGTERM');
    void Promise.all(exits).then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  log(`Slotwise cluster primary (pid ${process.pid}): starting ${config.workers} workers`);
  try {
    await fork(1);
    await Promise.all(Array.from({ length: config.workers - 1 }, (_, i) => fork(i + 2)));
  } catch (err) {
    stopping = true;
    for (const w of byIndex.values()) w.process.kill('SIGTERM');
    throw err;
  }
  started = true;
  log(`all ${config.workers} workers listening`);
}
