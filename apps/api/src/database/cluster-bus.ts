import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/** The one PostgreSQL notification channel every replica listens on. */
export const CLUSTER_CHANNEL = 'slotwise_cluster';

/**
 * What replicas tell each other:
 * - `model`: a flush committed posterior version `version` of (experiment id, variant) — reload when behind;
 * - `experiment`: an experiment's definition changed (key) — drop compiled assignments, take the new definition;
 * - `items`: catalog items changed (ids) — drop their cached features;
 * - `api-key`: a key was revoked (id) — stop trusting its cached verification.
 */
export interface ClusterMessages {
  model: { experimentId: string; variant: string; version: number };
  experiment: { key: string };
  items: { ids: string[] };
  'api-key': { id: string };
}
export type ClusterTopic = keyof ClusterMessages;

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; id lists are split below this. */
const MAX_PAYLOAD_BYTES = 7_000;
/** Reconnect delays after the listening connection is lost: doubling from the first, capped at the second. */
const RECONNECT_MS: [number, number] = [100, 5_000];
/** How often the listening connection is probed (a half-open TCP connection would otherwise look alive). */
const PING_MS = 5_000;

/**
 * Replicas that hear each other: LISTEN/NOTIFY on one channel of the shared PostgreSQL server (transport only;
 * what to do with a message is each subscriber's business, and every subscriber keeps its own periodic fallback —
 * TTLs, the before-decision version check — for messages lost while the listening connection was down).
 *
 * A message is published after the change committed, over the pool (`SELECT pg_notify(…)`); PostgreSQL delivers it
 * to every listening session, this process's too, which drops its own messages by their origin. The listener is
 * one dedicated connection outside the pool; when it fails it reconnects with backoff and then calls the `resync`
 * hooks, because notifications sent while it was away are lost.
 *
 * The embedded database (PGlite) is a single process (its data folder is locked to one), so there is no other
 * replica to hear: `publish` does nothing and `listening` is true (in-process events already reach every cache).
 */
@Injectable()
export class ClusterBus implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ClusterBus');
  private readonly origin = randomUUID();
  private readonly handlers = new Map<ClusterTopic, Set<(data: never) => void>>();
  private readonly resyncHooks = new Set<() => void>();
  private client: Client | null = null;
  private readonly dead = new WeakSet<Client>();
  private connected = false;
  private stopped = false;
  private retryMs = RECONNECT_MS[0];
  private reconnectTimer?: NodeJS.Timeout;
  private pingTimer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DataSource,
  ) {}

  /** Whether messages from other replicas reach this process now (always on the embedded database). */
  get listening(): boolean {
    return !this.config.databaseUrl || this.connected;
  }

  async onModuleInit(): Promise<void> {
    if (!this.config.databaseUrl) return;
    // The first connection is awaited so a replica serves with its bus up; failing that, it keeps retrying.
    await this.connect();
    this.pingTimer = setInterval(() => void this.ping(), PING_MS);
    this.pingTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const c = this.client;
    this.client = null;
    this.connected = false;
    await c?.end().catch(() => undefined);
  }

  /** Calls `handler` with each message of `topic` from OTHER processes. Returns the unsubscribe function. */
  on<T extends ClusterTopic>(topic: T, handler: (data: ClusterMessages[T]) => void): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler as (data: never) => void);
    return () => set.delete(handler as (data: never) => void);
  }

  /** Calls `hook` after the listening connection came back: messages may have been lost meanwhile. */
  onResync(hook: () => void): () => void {
    this.resyncHooks.add(hook);
    return () => this.resyncHooks.delete(hook);
  }

  /**
   * Tells every other replica (after the change committed). Never throws: a message that cannot be sent is
   * logged and left to the receivers' fallbacks (TTLs, version checks).
   */
  async publish<T extends ClusterTopic>(topic: T, data: ClusterMessages[T]): Promise<void> {
    if (!this.config.databaseUrl) return;
    const payloads =
      topic === 'items'
        ? chunkIds((data as ClusterMessages['items']).ids).map((ids) => this.encode(topic, { ids }))
        : [this.encode(topic, data)];
    try {
      for (const p of payloads) await this.db.query(`SELECT pg_notify($1, $2)`, [CLUSTER_CHANNEL, p]);
    } catch (err) {
      this.logger.warn(
        `could not notify other replicas (${topic}): ${(err as Error).message}; they catch up by their fallback`,
      );
    }
  }

  private encode(topic: ClusterTopic, data: unknown): string {
    return JSON.stringify({ o: this.origin, t: topic, d: data });
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const c = new Client({
      connectionString: this.config.databaseUrl,
      keepAlive: true,
      application_name: 'slotwise-cluster-bus',
    });
    c.on('notification', (msg) => this.dispatch(msg.payload));
    c.on('error', (err) => this.lost(c, err));
    c.on('end', () => this.lost(c, new Error('connection ended')));
    try {
      await c.connect();
      await c.query(`LISTEN ${CLUSTER_CHANNEL}`);
    } catch (err) {
      this.lost(c, err as Error);
      return;
    }
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    const wasDown = this.client === null && this.retryMs !== RECONNECT_MS[0];
    this.client = c;
    this.connected = true;
    this.retryMs = RECONNECT_MS[0];
    if (wasDown) {
      this.logger.log('listening to other replicas again; resynchronising');
      for (const hook of this.resyncHooks) hook();
    }
  }

  private lost(c: Client, err: Error): void {
    // One connection fails once ('error' is usually followed by 'end'); a stale connection's events are ignored.
    if (this.stopped || this.dead.has(c) || (this.client !== null && this.client !== c)) return;
    this.dead.add(c);
    if (this.client === c || this.connected)
      this.logger.warn(`lost the connection that listens to other replicas: ${err.message}; reconnecting`);
    this.client = null;
    this.connected = false;
    void c.end().catch(() => undefined);
    clearTimeout(this.reconnectTimer);
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MS[1]);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private async ping(): Promise<void> {
    const c = this.client;
    if (!c) return;
    try {
      await c.query('SELECT 1');
    } catch (err) {
      this.lost(c, err as Error);
    }
  }

  private dispatch(payload: string | undefined): void {
    let msg: { o: string; t: ClusterTopic; d: unknown };
    try {
      msg = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (msg.o === this.origin) return;
    for (const handler of this.handlers.get(msg.t) ?? []) {
      try {
        handler(msg.d as never);
      } catch (err) {
        this.logger.warn(`a ${msg.t} message handler failed: ${(err as Error).message}`);
      }
    }
  }
}

/** Splits ids into lists whose JSON stays under the NOTIFY payload limit. */
function chunkIds(ids: string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (current.length && bytes + size > MAX_PAYLOAD_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(id);
    bytes += size;
  }
  if (current.length) out.push(current);
  return out;
}
