import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitForListening } from '../apps/simulator/src/server';
import { freshDatabase } from '../test/support/test-app';
import { runLoad, LoadResult } from './load';
import { rankWorkload } from './rank.bench';

const ADMIN = 'sw_bench_admin_key_0123456789abcdefghijklmnopqrstuv';

export interface WorkersBenchResult {
  skipped?: string;
  /** per WORKERS value: the benchmark request (catalog shape, thompson hybrid, 1,000 draws inline) */
  runs?: Array<{ workers: number; slotwise: LoadResult }>;
  /** req/s with two workers over one */
  ratio?: number;
}

/**
 * Multi-process serving (issue 13): the built API (`npm start`'s entry) with WORKERS = 1, then 2, each on a fresh
 * database of the PostgreSQL server in DATABASE_URL, under the same load (catalog-shape benchmark request).
 */
export async function benchWorkers(options: { durationMs: number; connections: number }): Promise<WorkersBenchResult> {
  // bench options come from the command's environment, as in run.ts
  if (!process.env.DATABASE_URL) return { skipped: 'needs DATABASE_URL (the embedded database serves one process)' };
  const entry = [join(__dirname, '..', 'apps', 'api', 'src', 'main.js'), join(__dirname, '..', 'dist', 'apps', 'api', 'src', 'main.js')].find((f) => existsSync(f));
  if (!entry) return { skipped: 'the built API is missing (npm run build)' };
  const runs: Array<{ workers: number; slotwise: LoadResult }> = [];
  for (const workers of [1, 2]) {
    const db = await freshDatabase();
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', SLOTWISE_ADMIN_KEY: ADMIN, SLOTWISE_DEMO: 'off', LOG_LEVEL: 'error', DATABASE_URL: db.url, WORKERS: String(workers) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-5000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let stdout = '';
    const allListening = new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout = (stdout + d.toString()).slice(-5000);
        if (workers === 1 || /all \d+ workers listening/.test(stdout)) resolve();
      });
    });
    try {
      const base = await waitForListening(child, () => stderr, 120_000);
      await allListening; // worker 2 starts after worker 1 listens
      const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
      const { bodies, setup } = rankWorkload();
      await setup(async (method, path, body) => {
        const res = await fetch(base + path, { method, headers, body: JSON.stringify(body) });
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return res.json();
      });
      const slotwise = await runLoad({ method: 'POST', bodies: bodies('catalog'), connections: options.connections, warmupMs: 2000, durationMs: options.durationMs, url: `${base}/v1/rank`, headers });
      runs.push({ workers, slotwise });
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  }
  return { runs, ratio: runs[1].slotwise.requestsPerSecond / runs[0].slotwise.requestsPerSecond };
}
