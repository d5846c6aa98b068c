import { Client } from 'pg';

/**
 * Citus mode for test (and benchmark) databases. When the server DATABASE_URL points at is a Citus coordinator —
 * its admin database has the `citus` extension with nodes registered in `pg_dist_node` — every fresh database must
 * exist on every worker too, with the extension loaded on each node and the nodes registered in the new database
 * (Citus metadata is per database). Detected, not configured: the same tests run on plain PostgreSQL unchanged.
 */
export interface CitusTopology {
  coordinator: { host: string; port: number };
  workers: Array<{ host: string; port: number }>;
}

const topologies = new Map<string, Promise<CitusTopology | null>>();

/** The coordinator and primary workers registered in `adminUrl`'s database, or null when that server is not Citus. */
export function citusTopology(adminUrl: string): Promise<CitusTopology | null> {
  let t = topologies.get(adminUrl);
  if (!t) {
    t = readTopology(adminUrl);
    topologies.set(adminUrl, t);
  }
  return t;
}

async function readTopology(adminUrl: string): Promise<CitusTopology | null> {
  const c = new Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const ext: unknown[] = (await c.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`)).rows;
    if (!ext.length) return null;
    const nodes: Array<{ groupid: number; nodename: string; nodeport: number }> = (
      await c.query(
        `SELECT groupid, nodename, nodeport FROM pg_dist_node WHERE noderole = 'primary' AND isactive ORDER BY groupid`,
      )
    ).rows;
    const coord = nodes.find((n) => n.groupid === 0);
    const url = new URL(adminUrl);
    return {
      coordinator: coord
        ? { host: coord.nodename, port: coord.nodeport }
        : { host: url.hostname, port: Number(url.port || 5432) },
      workers: nodes.filter((n) => n.groupid !== 0).map((n) => ({ host: n.nodename, port: n.nodeport })),
    };
  } finally {
    await c.end();
  }
}

/** `adminUrl` with another host, port and database (same user and password: the nodes share credentials). */
function nodeUrl(adminUrl: string, node: { host: string; port: number }, database: string): string {
  const url = new URL(adminUrl);
  url.hostname = node.host === 'localhost' ? '127.0.0.1' : node.host;
  url.port = String(node.port);
  url.pathname = `/${database}`;
  return url.toString();
}

async function run(url: string, statements: string[]): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    for (const sql of statements) await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * After `CREATE DATABASE name` on the coordinator: creates it on each worker, loads `citus` in every copy and
 * registers the coordinator and workers in the coordinator's copy. Citus takes about 1–2 s per `CREATE EXTENSION`.
 */
export async function prepareCitusDatabase(adminUrl: string, topology: CitusTopology, name: string): Promise<void> {
  for (const w of topology.workers) {
    await run(nodeUrl(adminUrl, w, 'postgres'), [`CREATE DATABASE ${name}`]);
    await run(nodeUrl(adminUrl, w, name), [`CREATE EXTENSION citus`]);
  }
  const coordUrl = new URL(adminUrl);
  coordUrl.pathname = `/${name}`;
  await run(coordUrl.toString(), [
    `CREATE EXTENSION citus`,
    `SELECT citus_set_coordinator_host('${topology.coordinator.host}', ${topology.coordinator.port})`,
    ...topology.workers.map((w) => `SELECT citus_add_node('${w.host}', ${w.port})`),
  ]);
}

/** Drops the workers' copies of `name` (the coordinator's copy is dropped by the caller first). */
export async function dropCitusDatabase(adminUrl: string, topology: CitusTopology, name: string): Promise<void> {
  for (const w of topology.workers)
    await run(nodeUrl(adminUrl, w, 'postgres'), [`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}
