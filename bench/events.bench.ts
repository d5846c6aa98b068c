import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { citusTopology } from '../test/support/citus';
import { freshDatabase, startTestApp } from '../test/support/test-app';

/**
 * Event ingestion throughput: `POST /v1/events` in batches of 1,000 (a test app on a fresh database of the server
 * named by DATABASE_URL, else the embedded one) against `COPY` of the same rows by `psql` into a table with the
 * same columns and indexes (`CREATE TABLE … (LIKE events INCLUDING ALL)`) on the same server. The ratio is
 * printed only when a server and psql are available; otherwise the reason is printed and the ratio left out.
 *
 * On a Citus coordinator (`serverUrl`, default DATABASE_URL) the app's database is distributed by its migrations and
 * the COPY table is distributed the same way (by unit_id), so both sides write to the worker's shards.
 *
 * Figures: httpEventsPerSecond, copyEventsPerSecond, httpToCopyRatio (target ≥ 0.5), events, batchSize, concurrency.
 */
export async function benchEvents(options: { serverUrl?: string } = {}): Promise<Record<string, number>> {
  const t = await startTestApp({
    db: await freshDatabase(options.serverUrl ?? (process.env.DATABASE_URL || undefined)),
  });
  const server = t.db.url ?? null;
  const events = Number(process.env.BENCH_EVENTS ?? (server ? 100_000 : 20_000));
  const batchSize = 1_000;
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 4);
  const base = Date.now() - 3_600_000;
  const row = (i: number) => ({
    eventId: `bench-${i}`,
    unitId: `u-${i % 50_000}`,
    metric: i % 3 === 0 ? 'purchase' : 'click',
    value: (i % 97) / 7,
    timestamp: new Date(base + i).toISOString(),
  });
  try {
    const key = (await t.call('POST', '/v1/api-keys', { body: { name: 'bench', role: 'serving' } })).body.key as string;
    // Bodies are serialized before the clock starts: the client's JSON work is not the server's throughput.
    const body = (from: number, n: number) =>
      JSON.stringify({ events: Array.from({ length: n }, (_, j) => row(from + j)) });
    const post = async (rawBody: string, n: number) => {
      const res = await t.call('POST', '/v1/events', { key, rawBody });
      if (res.status !== 200 || res.body.accepted !== n)
        throw new Error(`bench batch failed: ${res.status} ${res.text.slice(0, 200)}`);
    };
    // Warm up (JIT, pool, plan cache) on ids outside the measured range.
    for (let w = 0; w < 3; w++) await post(body(-(w + 1) * batchSize - 1_000_000, batchSize), batchSize);

    const bodies = Array.from({ length: Math.ceil(events / batchSize) }, (_, b) => {
      const n = Math.min(batchSize, events - b * batchSize);
      return { raw: body(b * batchSize, n), n };
    });
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let b = next++; b < bodies.length; b = next++) await post(bodies[b].raw, bodies[b].n);
      }),
    );
    const httpSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const out: Record<string, number> = {
      events,
      batchSize,
      concurrency,
      httpEventsPerSecond: Math.round(events / httpSeconds),
    };

    const psql = spawnSync('psql', ['--version'], { encoding: 'utf8' });
    if (!server) {
      console.log('events bench: COPY ratio skipped: no DATABASE_URL (the embedded database is not reachable by psql)');
      return out;
    }
    if (psql.status !== 0) {
      console.log('events bench: COPY ratio skipped: psql is not installed');
      return out;
    }
    const dir = mkdtempSync(join(tmpdir(), 'slotwise-bench-'));
    const csv = join(dir, 'events.csv');
    const lines: string[] = [];
    for (let i = 0; i < events; i++) {
      const r = row(i);
      lines.push(`${r.eventId},${r.unitId},${r.metric},${r.value},${r.timestamp}`);
    }
    writeFileSync(csv, lines.join('\n') + '\n');
    const c = new Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(`DROP TABLE IF EXISTS events_copy_bench`);
      await c.query(`CREATE TABLE events_copy_bench (LIKE events INCLUDING ALL)`);
      if (await citusTopology(server)) await c.query(`SELECT create_distributed_table('events_copy_bench', 'unit_id')`);
      const copyStarted = process.hrtime.bigint();
      execFileSync('psql', [
        server,
        '-v',
        'ON_ERROR_STOP=1',
        '-q',
        '-c',
        `\\copy events_copy_bench (event_id, unit_id, metric, value, ts) FROM '${csv}' WITH (FORMAT csv)`,
      ]);
      const copySeconds = Number(process.hrtime.bigint() - copyStarted) / 1e9;
      const [{ n }] = (await c.query(`SELECT count(*)::int AS n FROM events_copy_bench`)).rows;
      if (n !== events) throw new Error(`COPY stored ${n} rows, expected ${events}`);
      out.copyEventsPerSecond = Math.round(events / copySeconds);
      out.httpToCopyRatio = Math.round((out.httpEventsPerSecond / out.copyEventsPerSecond) * 1000) / 1000;
      await c.query(`DROP TABLE events_copy_bench`);
    } finally {
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  } finally {
    await t.close(true);
  }
}
