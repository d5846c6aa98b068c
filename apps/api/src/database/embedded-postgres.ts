import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Runs in a worker thread: PGlite executes SQL synchronously in WebAssembly, so keeping it off the
 * API's event loop lets HTTP work and SQL use both cores. Module paths are resolved by the parent so
 * the same code works from the TypeScript sources (tests) and the build.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglite);
const { pgcrypto } = require(workerData.pgcrypto);
const { PGLiteSocketServer } = require(workerData.socket);
let db, server;
(async () => {
  db = await PGlite.create({ dataDir: workerData.dataDir, extensions: { pgcrypto } });
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: workerData.maxConnections });
  await server.start();
  parentPort.postMessage({ type: 'ready', conn: server.getServerConn() });
})().catch((err) => parentPort.postMessage({ type: 'error', message: String((err && err.stack) || err) }));
parentPort.on('message', async (m) => {
  if (m.type !== 'stop') return;
  try { if (server) await server.stop(); if (db) await db.close(); } finally { parentPort.postMessage({ type: 'stopped' }); }
});
`;

export class DataDirLockedError extends Error {}

/**
 * PostgreSQL compiled to WebAssembly (PGlite), persisted in a data folder and served on
 * 127.0.0.1 through pglite-socket, so the app talks to it with the same `pg` driver and SQL
 * as to a real server. `dataDir: 'memory://'` keeps everything in memory (tests).
 */
export class EmbeddedPostgres {
  private worker?: Worker;
  private lockPath?: string;
  url = '';

  constructor(
    private readonly dataDir: string,
    /** pglite-socket's default of one connection fails most pooled queries: allow at least the pool size. */
    private readonly maxConnections: number,
  ) {}

  async start(): Promise<string> {
    const inMemory = this.dataDir.startsWith('memory://');
    if (!inMemory) {
      const dir = resolve(this.dataDir);
      mkdirSync(dir, { recursive: true });
      this.lockPath = join(dir, '..', `${dir.split('/').pop()}.lock`);
      this.acquireLock(this.lockPath, dir);
    }
    try {
      const conn = await this.startWorker(inMemory ? undefined : resolve(this.dataDir));
      const [host, port] = conn.split(':');
      this.url = `postgresql://postgres:postgres@${host}:${port}/postgres`;
      return this.url;
    } catch (err) {
      this.releaseLock();
      throw err;
    }
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      // Let PGlite flush and close its files; give up after 10 s rather than hang shutdown.
      await new Promise<void>((done) => {
        const timer = setTimeout(done, 10_000);
        worker.once('message', () => {
          clearTimeout(timer);
          done();
        });
        worker.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        worker.postMessage({ type: 'stop' });
      });
      await worker.terminate();
    }
    this.releaseLock();
  }

  private startWorker(dataDir: string | undefined): Promise<string> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        dataDir,
        maxConnections: this.maxConnections,
        pglite: require.resolve('@electric-sql/pglite'),
        pgcrypto: require.resolve('@electric-sql/pglite/contrib/pgcrypto'),
        socket: require.resolve('@electric-sql/pglite-socket'),
      },
    });
    this.worker = worker;
    return new Promise((resolveConn, reject) => {
      worker.once('message', (m: { type: string; conn?: string; message?: string }) => {
        if (m.type === 'ready' && m.conn) resolveConn(m.conn);
        else reject(new Error(`The embedded database failed to start: ${m.message ?? m.type}`));
      });
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`The embedded database stopped during start-up (exit code ${code}).`)),
      );
    });
  }

  /** A second process on the same folder would corrupt it: refuse unless the holder is gone. */
  private acquireLock(lockPath: string, dir: string): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(readFileSync(lockPath, 'utf8').trim());
        if (holder && isAlive(holder)) {
          throw new DataDirLockedError(
            `The embedded database folder ${dir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}. Stop that process, set SLOTWISE_DATA_DIR to another folder, or set DATABASE_URL.`,
          );
        }
        rmSync(lockPath, { force: true }); // stale lock from a crashed process
      }
    }
    throw new DataDirLockedError(`Could not lock the embedded database folder ${dir}.`);
  }

  private releaseLock(): void {
    if (!this.lockPath) return;
    try {
      if (Number(readFileSync(this.lockPath, 'utf8').trim()) === process.pid) rmSync(this.lockPath, { force: true });
    } catch {
      /* already gone */
    }
    this.lockPath = undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
