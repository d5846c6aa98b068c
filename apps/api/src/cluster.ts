import cluster, { type Worker } from 'node:cluster';
import type { AppConfig } from './config/app-config';

/** What a worker sends its primary once it has written its "listening on" line (see `announceWorkerReady`). */
const WORKER_READY = 'slotwise:worker-ready';

/** In a cluster worker, tells the primary that this worker listens and has said so on stdout; elsewhere, nothing. */
export function announceWorkerReady(): void {
  if (cluster.isWorker && process.send) process.send(WORKER_READY);
}

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
      // Not the 'listening' event: it fires when the worker's socket is bound, before the worker has written its own
      // "listening on" line, so "all N workers listening" could reach stdout before a worker's line (a supervisor or
      // test reading the primary's line would miss it).
      const onMessage = (message: unknown) => {
        if (message !== WORKER_READY) return;
        worker.off('message', onMessage);
        resolve();
      };
      worker.on('message', onMessage);
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
