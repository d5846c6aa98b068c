import { cpus, loadavg } from 'node:os';
import { citusTopology } from '../test/support/citus';
import { benchEvents } from './events.bench';
import { benchReport } from './report.bench';

/**
 * One PostgreSQL server against Citus (a coordinator and its workers), the same benchmarks on each, one after the
 * other: events ingestion through HTTP (and psql COPY of the same rows) and the experiment report against the bare
 * SQL aggregate. `single` is a plain server (DATABASE_URL), `citus` a coordinator (BENCH_CITUS_URL) on which
 * databases are created on every node (test/support/citus.ts). Sizes come from the benchmarks' own options
 * (BENCH_EVENTS, BENCH_REPORT_UNITS, BENCH_REPORT_EVENTS). The load average before each run is recorded: on a
 * shared machine the figures are only as good as the machine was idle.
 */
export async function benchScaleOut(servers: { single: string; citus: string }): Promise<Record<string, unknown>> {
  const topology = await citusTopology(servers.citus);
  if (!topology)
    throw new Error(
      `BENCH_CITUS_URL (${new URL(servers.citus).host}) is not a Citus coordinator: no citus extension with registered nodes in its database`,
    );
  if (await citusTopology(servers.single))
    throw new Error('DATABASE_URL is a Citus coordinator; the baseline must be a plain PostgreSQL server');
  const out: Record<string, unknown> = { cpus: cpus().length, citusWorkers: topology.workers.length };
  for (const [name, serverUrl] of Object.entries(servers)) {
    const loadBefore = loadavg()[0];
    console.log(`-- ${name}: events ingestion (load average ${loadBefore.toFixed(2)})`);
    const events = await benchEvents({ serverUrl });
    console.log(JSON.stringify(events));
    console.log(`-- ${name}: report (load average ${loadavg()[0].toFixed(2)})`);
    const report = await benchReport({ serverUrl });
    console.log(JSON.stringify(report));
    out[name] = { loadAverageBefore: Math.round(loadBefore * 100) / 100, events, report };
  }
  const single = out.single as { events: Record<string, number>; report: Record<string, number> };
  const citus = out.citus as { events: Record<string, number>; report: Record<string, number> };
  out.citusToSingle = {
    httpEventsPerSecond:
      Math.round((citus.events.httpEventsPerSecond / single.events.httpEventsPerSecond) * 1000) / 1000,
    reportMs: Math.round((citus.report.reportMs / single.report.reportMs) * 1000) / 1000,
    bareAggregateMs: Math.round((citus.report.bareAggregateMs / single.report.bareAggregateMs) * 1000) / 1000,
  };
  return out;
}
