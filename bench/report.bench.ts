import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createApp } from '../apps/api/src/app.factory';
import { loadConfig } from '../apps/api/src/config/app-config';
import { citusTopology, dropCitusDatabase, prepareCitusDatabase } from '../test/support/citus';
import { MetricValuesRepository, UnitRollupsRepository } from '../apps/api/src/modules/ab';
import { defaultMetricSpec } from '../apps/api/src/modules/ab/metric-values.repository';

const ADMIN = 'sw_bench_admin_key_0123456789abcdefghijklmnopqrstuv';
const KEY = 'bench-report';

/** Median of a few timed runs (after one warm-up), in ms. */
async function timed(runs: number, work: () => Promise<unknown>): Promise<{ medianMs: number; runsMs: number[] }> {
  await work();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    runsMs.push(Math.round((performance.now() - t0) * 10) / 10);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)], runsMs };
}

/**
 * Report time against the bare SQL aggregate on the same database.
 *
 * With DATABASE_URL (a PostgreSQL server): a fresh database gets 1,000,000 units (exposures of an externally
 * assigned two-variant experiment, phase 1) and 10,000,000 events of its primary metric, generated in SQL with
 * generate_series; the embedded database (PGlite) gets 20,000 units / 200,000 events (BENCH_REPORT_UNITS /
 * BENCH_REPORT_EVENTS override both). Then it times, each as the median of BENCH_REPORT_RUNS (3) runs after a
 * warm-up:
 *   - report: `POST /v1/experiments/{key}/report/refresh` over HTTP (computes the full report: SRM, health,
 *     Welch / relative lift / mSPRT / Bayesian / Holm, recommendation; bypasses the cache), and a cached
 *     `GET …/report` for reference;
 *   - bare: `GROUP BY variant` of per-unit sums (exposures LEFT JOIN events from first exposure on), the least
 *     SQL a report of this metric computed from the raw events must run;
 *   - the primary metric's aggregate alone: the report's path (the per-variant statistics, a `sum` metric), from the
 *     per-unit rollups (`variantStats: false`) and from the raw events;
 * and prints report / bare. The generated rows are queued for the report rollups and the catch-up (the background
 * worker's job as events arrive) is timed before, on its own (`rollupCatchUpSeconds`); the report target is ≤ 3 s
 * at 1M units / 10M events on a server (issue 19). The database is dropped afterwards unless BENCH_REPORT_KEEP=1.
 */
export async function benchReport(options: { serverUrl?: string } = {}): Promise<Record<string, unknown>> {
  // Bench options come from the command's environment, like bench/run.ts.
  const env = process.env;
  const server = options.serverUrl ?? (env.DATABASE_URL || undefined);
  const citus = server ? await citusTopology(server) : null;
  const units = Number(env.BENCH_REPORT_UNITS ?? (server ? 1_000_000 : 20_000));
  const events = Number(env.BENCH_REPORT_EVENTS ?? (server ? 10_000_000 : 200_000));
  const runs = Number(env.BENCH_REPORT_RUNS ?? 3);
  const keep = env.BENCH_REPORT_KEEP === '1';

  let url: string | undefined;
  let dbName: string | null = null;
  // BENCH_REPORT_DATABASE: a database this benchmark loaded before (BENCH_REPORT_KEEP=1), timed again without reloading.
  const reuse = server ? env.BENCH_REPORT_DATABASE : undefined;
  if (server && reuse) {
    const u = new URL(server);
    u.pathname = `/${reuse}`;
    url = u.toString();
  } else if (server) {
    dbName = `slotwise_bench_report_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    if (citus) await prepareCitusDatabase(server, citus, dbName);
    const u = new URL(server);
    u.pathname = `/${dbName}`;
    url = u.toString();
  }
  const dataDir = `/tmp/slotwise-bench-report-${process.pid}`;
  const running = await createApp(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'error',
      SLOTWISE_ADMIN_KEY: ADMIN,
      SLOTWISE_DEMO: 'off',
      DATABASE_URL: url,
      SLOTWISE_DATA_DIR: dataDir,
    }),
  );
  try {
    await running.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(running.app.getHttpServer().address() as { port: number }).port}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    if (!reuse)
      await call('POST', '/v1/experiments', {
        key: KEY,
        name: 'Report bench',
        kind: 'ab',
        assignment: 'external',
        variants: [
          { key: 'control', weight: 1, config: {} },
          { key: 'treatment', weight: 1, config: {} },
        ],
        metrics: { primary: 'purchase' },
      });
    if (!reuse) await call('POST', `/v1/experiments/${KEY}/start`);
    const db = running.app.get(DataSource);
    const [{ id }] = (await db.query(`SELECT id FROM experiments WHERE key = $1`, [KEY])) as Array<{ id: string }>;

    const load0 = performance.now();
    if (!reuse)
      await db.query(
        `INSERT INTO exposures (experiment_id, phase, unit_id, variant, first_at, attributes)
       SELECT $1::uuid, 1, 'u' || g, CASE WHEN g % 2 = 0 THEN 'control' ELSE 'treatment' END,
              timestamptz '2025-03-01T00:00:00Z' + make_interval(secs => (g % 604800)::float8), NULL
       FROM generate_series(1, $2::int) g`,
        [id, units],
      );
    // events: 10 per unit (unit = 1 + g·2654435761 mod units, a bijection), 10 % of them an hour before the unit's
    // exposure (not counted), values 0–12; treatment units (odd numbers) get +1 on one event in seven
    for (let from = 1; !reuse && from <= events; from += 2_000_000) {
      const to = Math.min(events, from + 2_000_000 - 1);
      await db.query(
        `INSERT INTO events (unit_id, metric, value, ts)
         SELECT 'u' || u, 'purchase', ((g % 13) + CASE WHEN u % 2 = 1 AND g % 7 = 0 THEN 1 ELSE 0 END)::float8,
                timestamptz '2025-03-01T00:00:00Z' + make_interval(secs => (u % 604800)::float8) + make_interval(secs => (((g / 2) % 10) - 1) * 3600.0)
         FROM (SELECT g, 1 + ((g::bigint * 2654435761) % $1::bigint) AS u FROM generate_series($2::int, $3::int) g) s`,
        [units, from, to],
      );
    }
    // Rows written by the API queue their units for the report rollups in the same statement; these were written in
    // bulk by SQL, so their units are queued here, and the catch-up (what the background worker does as events
    // arrive) is timed on its own.
    if (!reuse)
      await db.query(`INSERT INTO rollup_queue (unit_id) SELECT 'u' || g FROM generate_series(1, $1::int) g`, [units]);
    await db.query(`ANALYZE exposures`);
    await db.query(`ANALYZE events`);
    const loadSeconds = (performance.now() - load0) / 1000;
    const catchUp0 = performance.now();
    await running.app.get(UnitRollupsRepository).drain();
    await db.query(`ANALYZE unit_metric_rollups`);
    const rollupCatchUpSeconds = (performance.now() - catchUp0) / 1000;

    const bareSql = `
      SELECT variant, count(*)::int AS units, sum(y) AS sum, sum(y * y) AS sum_squares FROM (
        SELECT x.variant, x.unit_id, COALESCE(sum(ev.value), 0)::float8 AS y
        FROM exposures x LEFT JOIN events ev ON ev.metric = 'purchase' AND ev.unit_id = x.unit_id AND ev.ts >= x.first_at
        WHERE x.experiment_id = $1 AND x.phase = 1
        GROUP BY x.variant, x.unit_id
      ) u GROUP BY variant ORDER BY variant`;
    let bareRows: Array<{ variant: string; units: number; sum: number }> = [];
    const bare = await timed(runs, async () => {
      bareRows = await db.query(bareSql, [id]);
    });
    let report: Record<string, unknown> = {};
    const computed = await timed(runs, async () => {
      report = await call('POST', `/v1/experiments/${KEY}/report/refresh`);
    });
    const cached = await timed(runs, () => call('GET', `/v1/experiments/${KEY}/report`));
    // The primary metric's aggregate alone, from the rollups and from the raw events (the report's only path before
    // the rollups), in this run: the before / after of the part the rollups replace.
    const metricValues = running.app.get(MetricValuesRepository);
    const query = { experimentId: id, phase: 1, metric: defaultMetricSpec('purchase'), moments: true };
    const aggregateRollups = await timed(runs, () => metricValues.aggregate(query));
    const aggregateUnitRollups = await timed(runs, () => metricValues.aggregate({ ...query, variantStats: false }));
    const aggregateRaw = await timed(runs, () => metricValues.aggregate({ ...query, rollups: false }));

    // the report and the bare aggregate agree
    const variants = (report.metrics as Array<{ variants: Array<{ variant: string; units: number; sum: number }> }>)[0]
      .variants;
    for (const b of bareRows) {
      const v = variants.find((x) => x.variant === b.variant);
      if (!v || v.units !== Number(b.units) || Math.abs(v.sum - Number(b.sum)) > 1e-9 * Math.abs(Number(b.sum))) {
        throw new Error(
          `report and bare aggregate disagree for ${b.variant}: ${JSON.stringify(v)} vs ${JSON.stringify(b)}`,
        );
      }
    }
    const [{ counted }] = (await db.query(
      `SELECT count(*)::int AS counted FROM exposures x JOIN events ev ON ev.metric = 'purchase' AND ev.unit_id = x.unit_id AND ev.ts >= x.first_at WHERE x.experiment_id = $1`,
      [id],
    )) as Array<{ counted: number }>;
    return {
      database: citus
        ? `Citus (coordinator + ${citus.workers.length} worker(s))`
        : server
          ? 'server'
          : 'embedded (PGlite): reduced size',
      units,
      events,
      eventsCounted: counted,
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      rollupCatchUpSeconds: Math.round(rollupCatchUpSeconds * 10) / 10,
      bareAggregateMs: bare.medianMs,
      reportMs: computed.medianMs,
      reportTarget: server ? '≤ 3000 ms at 1M units / 10M events' : undefined,
      cachedReportMs: cached.medianMs,
      metricAggregateFromRollupsMs: aggregateRollups.medianMs,
      metricAggregateFromUnitRollupsMs: aggregateUnitRollups.medianMs,
      metricAggregateFromRawEventsMs: aggregateRaw.medianMs,
      runs: {
        bare: bare.runsMs,
        report: computed.runsMs,
        cached: cached.runsMs,
        aggregateRollups: aggregateRollups.runsMs,
        aggregateUnitRollups: aggregateUnitRollups.runsMs,
        aggregateRaw: aggregateRaw.runsMs,
      },
      ratio: Math.round((computed.medianMs / bare.medianMs) * 1000) / 1000,
      target: '≤ 2',
      recommendation: (report.recommendation as { decision: string }).decision,
    };
  } finally {
    await running.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (server && dbName && !keep && !reuse) {
      const admin = new Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      if (citus) await dropCitusDatabase(server, citus, dbName);
    }
  }
}

/** `node dist/bench/report.bench.js` (or ts-node) runs it alone and prints the figures. */
if (require.main === module) {
  benchReport().then(
    (r) => {
      console.log(JSON.stringify(r, null, 2));
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
