import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The only place that reads the process environment. Validated once at boot;
 * everything else receives an AppConfig.
 */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);

/** Address groups proxy-addr (Fastify's trustProxy) understands by name. */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

const envSchema = z.object({
  PORT: integer('PORT', 0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  SLOTWISE_DATA_DIR: z.string().min(1).default('./.slotwise/data'),
  SLOTWISE_ADMIN_KEY: z
    .string()
    .regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be 32–128 characters of A–Z, a–z, 0–9, _ or -')
    .optional(),
  SLOTWISE_KEY_PEPPER: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    // CORS answers with credentials (the console's session cookie): a wildcard would let every web site read the
    // API as whoever is signed in, so only listed origins are allowed.
    .refine(
      (list) => !list.includes('*'),
      'may not be *: CORS is answered with credentials (the console session cookie), so list the allowed origins (https://app.example.com,https://admin.example.com)',
    )
    .refine(
      (list) => list.every((o) => /^https?:\/\/[^\s/*]+$/.test(o)),
      'must be a comma-separated list of http(s) origins (scheme://host[:port], no path or wildcard)',
    ),
  TRUST_PROXY: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (list) =>
        (list.length === 1 && /^\d+$/.test(list[0]) && Number(list[0]) >= 1 && Number(list[0]) <= 10) ||
        (list.length > 0 && list.every((e) => PROXY_NAMES.has(e) || isIP(e.split('/')[0]) !== 0)),
      'must be a hop count (1–10) or a comma-separated list of proxy addresses / CIDRs (or loopback, linklocal, uniquelocal)',
    )
    .optional(),
  BODY_LIMIT_BYTES: integer('BODY_LIMIT_BYTES', 1024, 256 * 1024 * 1024).default(10 * 1024 * 1024),
  DB_POOL_SIZE: integer('DB_POOL_SIZE', 1, 200).default(10),
  SLOTWISE_DEMO: z.enum(['on', 'off', 'auto']).default('auto'),
  SLOTWISE_ADMIN_EMAIL: z.email('must be an e-mail address').max(254).optional(),
  SLOTWISE_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').max(256).optional(),
  SLOTWISE_SESSION_TTL_SECONDS: integer('SLOTWISE_SESSION_TTL_SECONDS', 60, 30 * 86_400).default(12 * 3600),
  SLOTWISE_COOKIE_SECURE: z.enum(['auto', 'on', 'off']).default('auto'),
  SLOTWISE_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, _ . -')
    .default('replica-1'),
  SLOTWISE_REPLICA_LEASE_SECONDS: integer('SLOTWISE_REPLICA_LEASE_SECONDS', 2, 600).default(15),
  MODEL_FLUSH_MS: integer('MODEL_FLUSH_MS', 50, 60_000).default(1000),
  SLOTWISE_DECISION_SEED: integer('SLOTWISE_DECISION_SEED', 0, 2 ** 31 - 1).optional(),
  WEBHOOK_ALLOW_PRIVATE: z
    .string()
    .default('off')
    .refine(
      (s) =>
        s === 'on' ||
        s === 'off' ||
        s
          .split(',')
          .every(
            (c) =>
              /^[^/]+(\/\d{1,3})?$/.test(c.trim()) &&
              isIP(c.trim().split('/')[0]) !== 0 &&
              Number(c.trim().split('/')[1] ?? 0) <= (isIP(c.trim().split('/')[0]) === 6 ? 128 : 32),
          ),
      'must be off, on, or a comma-separated list of IP addresses / CIDRs that webhooks may reach although private (127.0.0.0/8,10.1.0.0/16)',
    ),
  WEBHOOK_TIMEOUT_MS: integer('WEBHOOK_TIMEOUT_MS', 100, 60_000).default(10_000),
  WEBHOOK_RETRY_BASE_MS: integer('WEBHOOK_RETRY_BASE_MS', 10, 3_600_000).default(5_000),
  WEBHOOK_POLL_MS: integer('WEBHOOK_POLL_MS', 20, 60_000).default(1_000),
  AUTOMATION_INTERVAL_MS: integer('AUTOMATION_INTERVAL_MS', 100, 86_400_000).default(60_000),
  WORKERS: integer('WORKERS', 1, 64).default(1),
  /** set by the cluster primary on each worker it forks (apps/api/src/cluster.ts), not by operators */
  SLOTWISE_WORKER_INDEX: integer('SLOTWISE_WORKER_INDEX', 1, 64).optional(),
  SLOTWISE_EVENT_RETENTION_DAYS: integer('SLOTWISE_EVENT_RETENTION_DAYS', 1, 36_500).optional(),
});

export interface AppConfig {
  port: number;
  host: string;
  /** A PostgreSQL server; when absent, the embedded PostgreSQL (PGlite) is started on `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  adminKey?: string;
  keyPepper?: string;
  logLevel: (typeof logLevels)[number];
  corsOrigins: string[];
  /**
   * Fastify `trustProxy`: which reverse proxies' X-Forwarded-For to believe for `request.ip` (the unit of sign-in
   * throttling). Unset: none (the socket address). A number: that many hops; a list: those addresses / CIDRs.
   */
  trustProxy: number | string[] | false;
  bodyLimitBytes: number;
  dbPoolSize: number;
  demo: 'on' | 'off' | 'auto';
  /** First console admin, created at start when no console user has this e-mail (both or neither). */
  consoleAdmin?: { email: string; password: string };
  /** Console session lifetime (absolute, from sign-in). */
  sessionTtlSeconds: number;
  /** `Secure` on the session cookie: auto = when the request came over https. */
  cookieSecure: 'auto' | 'on' | 'off';
  /** Stable id of this API process: a restarted replica replays its own decisions and rewards not yet in the stored posterior. */
  replicaId: string;
  /**
   * How long a replica id's lease lasts without a heartbeat (renewed every third of it). A second live process
   * with the same id waits this long at start, then refuses; a restart after a crash waits for the old lease to lapse.
   */
  replicaLeaseSeconds: number;
  /** How often posterior deltas are added to PostgreSQL. */
  modelFlushMs: number;
  /** Seeds decisions from one seeded sequence instead of the OS (reproducible simulations and tests only). */
  decisionSeed?: number;
  /** Webhook destinations: 'off' = public addresses only (SSRF defence), 'on' = any, or CIDRs allowed although private. */
  webhookAllowPrivate: 'off' | 'on' | string[];
  /** One delivery attempt's time limit (no 2xx within it = failed attempt). */
  webhookTimeoutMs: number;
  /** First retry delay; doubles per attempt (capped at 1 h, jittered) for 24 h. */
  webhookRetryBaseMs: number;
  /** How often the delivery worker looks for due deliveries. */
  webhookPollMs: number;
  /** How often running experiments are evaluated for auto-stop and announced findings. */
  automationIntervalMs: number;
  /**
   * Worker processes `npm start` runs (node:cluster), each a replica of the scale-out design with its own replica id
   * ({@link workerReplicaId}). Always 1 on the embedded database (one process holds its data folder): a larger
   * WORKERS is then reduced to 1 and `notes` says so.
   */
  workers: number;
  /** In a cluster worker: its index (1..workers); absent in a single process or the primary. */
  workerIndex?: number;
  /** Lines start-up prints about adjusted settings (e.g. WORKERS on the embedded database). */
  notes: string[];
  /**
   * Raw outcome events (`events`) older than this many days (by their timestamp) are deleted in bounded batches,
   * and their units' report rollups recomputed, so reports count only retained events. Unset: kept forever.
   */
  eventRetentionDays?: number;
  version: string;
}

export class ConfigError extends Error {}

/** Validate the environment; throws ConfigError with one line naming the variable and what is wrong. */
export function loadConfig(env: Record<string, string | undefined>, version = '0.0.0'): AppConfig {
  // Empty strings mean "unset" so `FOO= npm start` behaves like leaving FOO out.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(
      `Invalid configuration: ${name} ${issue.message.startsWith(name) ? issue.message.slice(name.length).trim() : issue.message}`,
    );
  }
  const e = parsed.data;
  if (!e.SLOTWISE_ADMIN_EMAIL !== !e.SLOTWISE_ADMIN_PASSWORD) {
    throw new ConfigError(
      `Invalid configuration: ${e.SLOTWISE_ADMIN_EMAIL ? 'SLOTWISE_ADMIN_PASSWORD' : 'SLOTWISE_ADMIN_EMAIL'} must be set together with ${e.SLOTWISE_ADMIN_EMAIL ? 'SLOTWISE_ADMIN_EMAIL' : 'SLOTWISE_ADMIN_PASSWORD'}`,
    );
  }
  const notes: string[] = [];
  let workers = e.WORKERS;
  if (workers > 1 && !e.DATABASE_URL) {
    notes.push(
      `WORKERS=${workers} ignored: the embedded database serves one process (set DATABASE_URL to run several); starting 1`,
    );
    workers = 1;
  }
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.SLOTWISE_DATA_DIR,
    adminKey: e.SLOTWISE_ADMIN_KEY,
    keyPepper: e.SLOTWISE_KEY_PEPPER,
    logLevel: e.LOG_LEVEL,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: !e.TRUST_PROXY ? false : /^\d+$/.test(e.TRUST_PROXY[0]) ? Number(e.TRUST_PROXY[0]) : e.TRUST_PROXY,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    dbPoolSize: e.DB_POOL_SIZE,
    demo: e.SLOTWISE_DEMO,
    consoleAdmin:
      e.SLOTWISE_ADMIN_EMAIL && e.SLOTWISE_ADMIN_PASSWORD
        ? { email: e.SLOTWISE_ADMIN_EMAIL, password: e.SLOTWISE_ADMIN_PASSWORD }
        : undefined,
    sessionTtlSeconds: e.SLOTWISE_SESSION_TTL_SECONDS,
    cookieSecure: e.SLOTWISE_COOKIE_SECURE,
    replicaId: workerReplicaId(e.SLOTWISE_REPLICA_ID, e.SLOTWISE_WORKER_INDEX),
    replicaLeaseSeconds: e.SLOTWISE_REPLICA_LEASE_SECONDS,
    modelFlushMs: e.MODEL_FLUSH_MS,
    decisionSeed: e.SLOTWISE_DECISION_SEED,
    webhookAllowPrivate:
      e.WEBHOOK_ALLOW_PRIVATE === 'on' || e.WEBHOOK_ALLOW_PRIVATE === 'off'
        ? e.WEBHOOK_ALLOW_PRIVATE
        : e.WEBHOOK_ALLOW_PRIVATE.split(',').map((c) => c.trim()),
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_MS,
    webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
    webhookPollMs: e.WEBHOOK_POLL_MS,
    automationIntervalMs: e.AUTOMATION_INTERVAL_MS,
    workers,
    workerIndex: e.SLOTWISE_WORKER_INDEX,
    notes,
    // the demo traffic is seeded and driven by one process: the first worker
    ...(e.SLOTWISE_WORKER_INDEX !== undefined && e.SLOTWISE_WORKER_INDEX > 1 ? { demo: 'off' as const } : {}),
    eventRetentionDays: e.SLOTWISE_EVENT_RETENTION_DAYS,
    version,
  };
}

/**
 * The replica id of cluster worker `index`: worker 1 keeps SLOTWISE_REPLICA_ID (so going from one process to N keeps
 * its crash replay), worker i > 1 is `<id>-w<i>`. Ids are stable per index: a worker restarted after a crash replays
 * its own unflushed decisions and rewards.
 */
export function workerReplicaId(base: string, index: number | undefined): string {
  return index === undefined || index === 1 ? base : `${base}-w${index}`;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/** Read the raw environment once (entry points only). */
export function readProcessEnv(): Record<string, string | undefined> {
  return { ...process.env };
}
