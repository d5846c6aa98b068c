import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { waitForListening } from '../apps/simulator/src/server';
import { freshDatabase } from '../test/support/test-app';
import { runLoad, LoadResult } from './load';
import { rankWorkload } from './rank.bench';

const ADMIN = 'sw_bench_admin_key_0123456789abcdefghijklmnopqrstuv';

export interface WorkersBenchResult {
  skipped?: string;
  /**
   * per WORKERS value: `slotwise` the rank benchmark request (catalog shape, thompson hybrid, 1,000 draws inline);
   * `rewards` one reward per request (distinct eventIds) on the decisions ranked during the rank load
   */
  runs?: Array<{ workers: number; slotwise: LoadResult; rewards: LoadResult }>;
  /** rank req/s with two workers over one */
  ratio?: number;
  /** rewards req/s with two workers over one */
  rewardsRatio?: number;
  /** 1-minute load average before and after each run: the ratios mean little on a machine others are loading */
  loadAverage?: Array<{ workers: number; before: number; after: number }>;
}

/** Decisions collected for the rewards load (ranked after the rank load), and reward bodies built on them. */
const REWARD_DECISIONS = 500;
const REWARD_BODIES = 40_000;

/**
 * Multi-process serving (issues 13, 19): the built API (`npm start`'s entry) with WORKERS = 1, then 2 (two API
 * processes, each its own replica with its own lease, pool and model flushes, on one database), each on a fresh
 * database of the PostgreSQL server in DATABASE_URL, under the same closed-loop loads: `rank` (catalog-shape
 * benchmark request), then `rewards` (one reward per request, each with a new eventId, on 500 decisions ranked just
 * before; a body repeats only after 40,000 requests, when it is answered as a duplicate).
 */
export async function benchWorkers(options: { durationMs: number; connections: number }): Promise<WorkersBenchResult> {
  // bench options come from the command's environment, as in run.ts
  if (!process.env.DATABASE_URL) return { skipped: 'needs DATABASE_URL (the embedded database serves one process)' };
  const entry = [
    join(__dirname, '..', 'apps', 'api', 'src', 'main.js'),
    join(__dirname, '..', 'dist', 'apps', 'api', 'src', 'main.js'),
  ].find((f) => existsSync(f));
  if (!entry) return { skipped: 'the built API is missing (npm run build)' };
  const runs: Array<{ workers: number; slotwise: LoadResult; rewards: LoadResult }> = [];
  const loadAverage: Array<{ workers: number; before: number; after: number }> = [];
  for (const workers of [1, 2]) {
    const db = await freshDatabase();
    const child = spawn(process.execPath, [entry], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        HOST: '127.0.0.1',
        SLOTWISE_ADMIN_KEY: ADMIN,
        SLOTWISE_DEMO: 'off',
        LOG_LEVEL: 'error',
        DATABASE_URL: db.url,
        WORKERS: String(workers),
      },
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
      const before = loadavg()[0];
      const slotwise = await runLoad({
        method: 'POST',
        bodies: bodies('catalog'),
        connections: options.connections,
        warmupMs: 2000,
        durationMs: options.durationMs,
        url: `${base}/v1/rank`,
        headers,
      });
      const rankBodies = bodies('catalog');
      const decisions: Array<{ decisionId: string; slots: Array<{ itemId: string }> }> = [];
      for (let i = 0; i < REWARD_DECISIONS; i += 10) {
        const batch = await Promise.all(
          rankBodies.slice(0, 10).map(async (body) => {
            const res = await fetch(`${base}/v1/rank`, { method: 'POST', headers, body });
            if (res.status >= 300) throw new Error(`rank: ${res.status} ${await res.text()}`);
            return (await res.json()) as { decisionId: string; slots: Array<{ itemId: string }> };
          }),
        );
        decisions.push(...batch);
      }
      const rewardBodies = Array.from({ length: REWARD_BODIES }, (_, i) => {
        const d = decisions[i % decisions.length];
        const slot = d.slots[Math.floor(i / decisions.length) % d.slots.length];
        return JSON.stringify({
          rewards: [
            {
              decisionId: d.decisionId,
              itemId: slot.itemId,
              value: i % 3 === 0 ? 1 : 0,
              eventId: `bench-w${workers}-r${i}`,
            },
          ],
        });
      });
      const rewards = await runLoad({
        method: 'POST',
        bodies: rewardBodies,
        connections: options.connections,
        warmupMs: 1000,
        durationMs: options.durationMs,
        url: `${base}/v1/rewards`,
        headers,
      });
      runs.push({ workers, slotwise, rewards });
      loadAverage.push({ workers, before, after: loadavg()[0] });
    } finally {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await db.drop();
    }
  }
  return {
    runs,
    ratio: runs[1].slotwise.requestsPerSecond / runs[0].slotwise.requestsPerSecond,
    rewardsRatio: runs[1].rewards.requestsPerSecond / runs[0].rewards.requestsPerSecond,
    loadAverage,
  };
}
