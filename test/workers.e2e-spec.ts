import { ChildProcess, spawn } from 'node:child_process';
import { Client } from 'pg';
import { BUILT_API, HAVE_BUILT_API } from './support/child-api';
import { ADMIN_KEY, callApi, freshDatabase, rankingExperiment, SERVER_URL, TestDatabase } from './support/test-app';

/**
 * `WORKERS` (issue 13): node:cluster worker processes, each its own replica, on a PostgreSQL server; the embedded
 * database keeps one process and says so. Runs the built API (`npm run build`) as a child process.
 */
interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>, until: RegExp): Promise<Started> {
  const child = spawn(process.execPath, [BUILT_API], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      SLOTWISE_ADMIN_KEY: ADMIN_KEY,
      SLOTWISE_DEMO: 'off',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not started within 120 s:\n${out.slice(-3000)}`)), 120_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (until.test(out)) {
        clearTimeout(timer);
        resolve({ child, out: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code} before starting:\n${out.slice(-3000)}`)));
  });
}

async function stop(s: Started): Promise<number | null> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 60_000));
  const code = await Promise.race([s.exited, timeout]);
  if (code === 'timeout') {
    s.child.kill('SIGKILL');
    throw new Error(`did not stop within 60 s:\n${s.out().slice(-3000)}`);
  }
  return code;
}

(HAVE_BUILT_API ? describe : describe.skip)('WORKERS', () => {
  if (!HAVE_BUILT_API) it.skip('needs the built API (npm run build)', () => undefined);

  (SERVER_URL ? it : it.skip)(
    'on a PostgreSQL server: two worker processes, each its own replica, serve the same port and stop gracefully',
    async () => {
      const db: TestDatabase = await freshDatabase();
      let s: Started | undefined;
      try {
        s = await start(
          { DATABASE_URL: db.url as string, WORKERS: '2', SLOTWISE_REPLICA_ID: 'wk' },
          /all 2 workers listening/,
        );
        const out = s.out();
        expect(out).toMatch(/worker 1 of 2, replica wk\)/);
        expect(out).toMatch(/worker 2 of 2, replica wk-w2\)/);
        const url = /listening on (http:\/\/[^\s]+)/.exec(out)![1];
        const ports = [...out.matchAll(/listening on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]);
        expect(ports).toHaveLength(2);
        expect(new Set(ports).size).toBe(1); // one port, shared by both workers

        const c = new Client({ connectionString: db.url });
        await c.connect();
        try {
          const leases = await c.query(`SELECT replica_id FROM replica_leases ORDER BY replica_id`);
          expect(leases.rows.map((r) => r.replica_id)).toEqual(['wk', 'wk-w2']);

          expect((await callApi(url, 'POST', '/v1/experiments', { body: rankingExperiment('workers') })).status).toBe(
            201,
          );
          expect((await callApi(url, 'POST', '/v1/experiments/workers/start')).status).toBe(200);
          // concurrent requests open several connections, which the primary hands to both workers
          const answers = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              callApi(url, 'POST', '/v1/rank', {
                body: {
                  experiment: 'workers',
                  unitId: `u${i}`,
                  context: { age: i % 7 },
                  candidates: [
                    { id: 'a', features: { price: 1 } },
                    { id: 'b', features: { price: 2 } },
                    { id: 'c', features: { price: 3 } },
                  ],
                },
              }),
            ),
          );
          expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
          const logged = await c.query(
            `SELECT replica, count(*)::int AS n FROM decisions GROUP BY replica ORDER BY replica`,
          );
          expect(logged.rows.reduce((t, r) => t + r.n, 0)).toBe(
            answers.filter((a) => (a.body as { decisionId: string | null }).decisionId).length,
          );
          expect(logged.rows.map((r) => r.replica)).toEqual(['wk', 'wk-w2']); // both workers served and logged as themselves
        } finally {
          await c.end();
        }
        expect(await stop(s)).toBe(0);
        s = undefined;
      } finally {
        if (s) await stop(s).catch(() => undefined);
        await db.drop();
      }
    },
    240_000,
  );

  (SERVER_URL ? it.skip : it)(
    'on the embedded database: WORKERS=2 starts one process and prints why',
    async () => {
      const db = await freshDatabase();
      let s: Started | undefined;
      try {
        s = await start({ WORKERS: '2', SLOTWISE_DATA_DIR: db.dataDir }, /listening on http/);
        expect(s.out()).toContain(
          'WORKERS=2 ignored: the embedded database serves one process (set DATABASE_URL to run several); starting 1',
        );
        expect(s.out()).not.toMatch(/cluster primary|worker \d of/);
        expect(await stop(s)).toBe(0);
        s = undefined;
      } finally {
        if (s) await stop(s).catch(() => undefined);
        await db.drop();
      }
    },
    240_000,
  );
});
