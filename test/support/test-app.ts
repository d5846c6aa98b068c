import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routeOf } from '@slotwise/contracts';
import { Client } from 'pg';
import { createApp, RunningApp } from '../../apps/api/src/app.factory';
import { loadConfig } from '../../apps/api/src/config/app-config';
import { citusTopology, dropCitusDatabase, prepareCitusDatabase } from './citus';

/** Tests run on the embedded database by default; CI's second pass sets DATABASE_URL to a real server. */
export const SERVER_URL = process.env.DATABASE_URL || undefined;
export const ADMIN_KEY = 'sw_test_admin_key_0123456789abcdefghijklmnopqrstuv';

export interface TestDatabase {
  /** DATABASE_URL for the app, or undefined for the embedded database in `dataDir`. */
  url?: string;
  dataDir: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database: a new database on the server, or a new embedded data folder. On a Citus coordinator
 * (detected: see citus.ts) the database also exists on every worker, with `citus` loaded and the nodes registered.
 */
export async function freshDatabase(serverUrl: string | undefined = SERVER_URL): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slotwise-test-'));
  if (!serverUrl) return { dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  const name = `slotwise_t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const citus = await citusTopology(serverUrl);
  if (citus) await prepareCitusDatabase(serverUrl, citus, name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
      if (citus) await dropCitusDatabase(serverUrl, citus, name);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestApp {
  running: RunningApp;
  baseUrl: string;
  db: TestDatabase;
  /** Call the API over real HTTP. */
  call(method: string, path: string, options?: CallOptions): Promise<TestResponse>;
  /** Close the app; keeps the database unless `dropDatabase` is set. */
  close(dropDatabase?: boolean): Promise<void>;
}

export interface CallOptions {
  key?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export async function startTestApp(
  options: { db?: TestDatabase; env?: Record<string, string> } = {},
): Promise<TestApp> {
  const db = options.db ?? (await freshDatabase());
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', // e.g. TEST_LOG_LEVEL=error to see a 5xx's cause
    SLOTWISE_ADMIN_KEY: ADMIN_KEY,
    SLOTWISE_DEMO: 'off',
    DATABASE_URL: db.url,
    SLOTWISE_DATA_DIR: join(db.dataDir, 'data'),
    ...options.env,
  });
  const running = await createApp(config);
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const address = running.app.getHttpServer().address() as { port: number };
  const baseUrl = `http://127.0.0.1:${address.port}`;
  return {
    running,
    baseUrl,
    db,
    call: (method, path, opts = {}) => callApi(baseUrl, method, path, opts),
    async close(dropDatabase = false) {
      await running.close();
      if (dropDatabase) await db.drop();
    },
  };
}

/** One HTTP call to the API at `baseUrl`: the admin key unless `key` says otherwise (null: none); JSON body parsed when it is JSON. */
export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? ADMIN_KEY : opts.key;
  if (key) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  checkContract(method, path, res, parsed);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/**
 * The contract test: every successful JSON answer of the API must parse with its operation's response schema in
 * libs/contracts (`ROUTES`); a mismatch, or an API operation without a contract, fails the calling test.
 */
export function checkContract(method: string, path: string, res: Response, body: unknown): void {
  // CORS preflights (OPTIONS) and HEAD carry no operation body
  if (
    res.status < 200 ||
    res.status >= 300 ||
    !/^\/(v1\/|health)/.test(path) ||
    !/^(GET|POST|PUT|PATCH|DELETE)$/i.test(method)
  )
    return;
  const route = routeOf(method, path);
  if (!route) throw new Error(`contract: no response schema for ${method} ${path} in libs/contracts ROUTES`);
  if (!route.contract.response || !(res.headers.get('content-type') ?? '').startsWith('application/json')) return;
  const result = route.contract.response.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new Error(
      `contract: the answer of ${method} ${path} (${route.key}) does not match its response schema:\n  ${issues.join('\n  ')}`,
    );
  }
}

/** Minimal valid experiment bodies for tests. */
export function rankingExperiment(key: string, overrides: Record<string, unknown> = {}) {
  return {
    key,
    name: `Ranking ${key}`,
    hypothesis: 'Thompson sampling beats the ranker order',
    kind: 'ranking',
    slots: 3,
    features: { context: ['age'], item: ['price'] },
    variants: [
      { key: 'control', weight: 50, policy: { type: 'ranker' } },
      { key: 'ts', weight: 50, policy: { type: 'thompson', model: 'hybrid' } },
    ],
    metrics: { primary: 'reward', guardrails: [], secondary: [] },
    ...overrides,
  };
}

export function abExperiment(key: string, overrides: Record<string, unknown> = {}) {
  return {
    key,
    name: `A/B ${key}`,
    kind: 'ab',
    variants: [
      { key: 'control', weight: 1, config: { color: 'blue' } },
      { key: 'treatment', weight: 1, config: { color: 'green' } },
    ],
    metrics: { primary: 'purchase' },
    ...overrides,
  };
}
