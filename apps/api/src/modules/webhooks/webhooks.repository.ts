import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { MAX_DELIVERY_AGE_MS } from './retry-schedule';

export interface WebhookRow {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  secret: string;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  expiresAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A delivery claimed for one attempt, with what is needed to send it. */
export interface ClaimedDelivery {
  id: string;
  body: string;
  attempts: number;
  url: string;
  secret: string;
}

const WEBHOOK_COLUMNS = `id, url, description, event_types AS "eventTypes", secret, enabled, created_at AS "createdAt", updated_at AS "updatedAt"`;
const DELIVERY_COLUMNS = `id, webhook_id AS "webhookId", event_id AS "eventId", event_type AS "eventType", body, status, attempts, next_attempt_at AS "nextAttemptAt",
  expires_at AS "expiresAt", last_attempt_at AS "lastAttemptAt", last_status_code AS "lastStatusCode", last_error AS "lastError", delivered_at AS "deliveredAt", created_at AS "createdAt"`;

/** A Standard Webhooks message id: `msg_` + 32 hex digits. */
export const newDeliveryId = () => `msg_${randomUUID().replace(/-/g, '')}`;

/** The event body: `{ type, timestamp, data }` (Standard Webhooks payload structure). */
export function eventBody(type: string, data: unknown, at = new Date()): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

@Injectable()
export class WebhooksRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async insert(manager: EntityManager, w: Omit<WebhookRow, 'createdAt' | 'updatedAt'>): Promise<WebhookRow> {
    const rows: WebhookRow[] = await manager.query(
      `INSERT INTO webhooks (id, url, description, event_types, secret, enabled) VALUES ($1,$2,$3,$4,$5,$6) RETURNING ${WEBHOOK_COLUMNS}`,
      [w.id, w.url, w.description, w.eventTypes, w.secret, w.enabled],
    );
    return rows[0];
  }

  list(): Promise<WebhookRow[]> {
    return this.db.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at DESC, id`);
  }

  async find(id: string): Promise<WebhookRow | null> {
    const rows: WebhookRow[] = await this.db.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  async update(
    manager: EntityManager,
    id: string,
    w: Pick<WebhookRow, 'url' | 'description' | 'eventTypes' | 'secret' | 'enabled'>,
  ): Promise<WebhookRow | null> {
    const [rows]: [WebhookRow[], number] = await manager.query(
      `UPDATE webhooks SET url=$2, description=$3, event_types=$4, secret=$5, enabled=$6, updated_at=now() WHERE id=$1 RETURNING ${WEBHOOK_COLUMNS}`,
      [id, w.url, w.description, w.eventTypes, w.secret, w.enabled],
    );
    return rows[0] ?? null;
  }

  /** Deletes the webhook and its deliveries (cascade). */
  async delete(manager: EntityManager, id: string): Promise<boolean> {
    const [, affected]: [unknown[], number] = await manager.query(`DELETE FROM webhooks WHERE id = $1`, [id]);
    return affected === 1;
  }

  /**
   * The outbox write: one pending delivery per enabled webhook subscribed to `type`, in the caller's transaction
   * (`manager`) so the deliveries commit or roll back with the change. Returns how many were enqueued.
   */
  async enqueue(manager: EntityManager, type: string, data: unknown, at = new Date()): Promise<number> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, expires_at)
       SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), w.id, $1, $2, $3, now() + $4::double precision * interval '1 millisecond'
       FROM webhooks w WHERE w.enabled AND $2 = ANY (w.event_types) RETURNING 1`,
      [randomUUID(), type, eventBody(type, data, at), MAX_DELIVERY_AGE_MS],
    );
    return rows.length;
  }

  /** Whether any enabled webhook subscribes to one of `types` (work nobody listens to can be skipped). */
  async anySubscribed(types: readonly string[]): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `SELECT 1 FROM webhooks WHERE enabled AND event_types && $1::text[] LIMIT 1`,
      [types],
    );
    return rows.length > 0;
  }

  /** One delivery to one webhook, whatever it subscribes to (the "send test" action). */
  async enqueueTo(webhookId: string, type: string, data: unknown): Promise<DeliveryRow> {
    const rows: DeliveryRow[] = await this.db.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, body, expires_at) VALUES ($1,$2,$3,$4,$5, now() + $6::double precision * interval '1 millisecond') RETURNING ${DELIVERY_COLUMNS}`,
      [newDeliveryId(), webhookId, randomUUID(), type, eventBody(type, data), MAX_DELIVERY_AGE_MS],
    );
    return rows[0];
  }

  /**
   * Claims up to `limit` due deliveries of enabled webhooks (a disabled webhook's deliveries wait, and still expire
   * 24 h after their event) for one attempt each, in one short statement: each claimed row's attempt
   * count goes up and its next attempt moves `leaseMs` ahead, so concurrent workers (SKIP LOCKED) and later polls
   * leave it alone while it is in flight, and a worker that dies mid-attempt leaves it due again after the lease.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const [rows]: [ClaimedDelivery[], number] = await this.db.query(
      `UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + $2::double precision * interval '1 millisecond'
       FROM webhooks w
       WHERE w.id = d.webhook_id AND d.id IN (
         SELECT q.id FROM webhook_deliveries q JOIN webhooks qw ON qw.id = q.webhook_id AND qw.enabled
         WHERE q.status = 'pending' AND q.next_attempt_at <= now() ORDER BY q.next_attempt_at LIMIT $1 FOR UPDATE OF q SKIP LOCKED)
       RETURNING d.id, d.body, d.attempts, w.url, w.secret`,
      [limit, leaseMs],
    );
    return rows;
  }

  /** Records a successful attempt (only while the row is still pending: a redelivered or failed row keeps its state). */
  async markDelivered(id: string, statusCode: number): Promise<void> {
    await this.db.query(
      `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), last_status_code = $2, last_error = NULL WHERE id = $1 AND status = 'pending'`,
      [id, statusCode],
    );
  }

  /**
   * Records a failed attempt `attempt`: due again after `retryMs`, or failed when that is past its expiry. Only the
   * latest claim writes (a stale worker whose lease was taken over does not).
   */
  async markFailed(
    id: string,
    attempt: number,
    statusCode: number | null,
    error: string,
    retryMs: number,
  ): Promise<void> {
    // Two statements in one transaction, not `status = CASE WHEN now() + … > expires_at`: Citus refuses a
    // non-immutable function inside CASE in an UPDATE (webhook_deliveries is a reference table there).
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE webhook_deliveries SET last_status_code = $3, last_error = $4, next_attempt_at = now() + $5::double precision * interval '1 millisecond'
         WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
        [id, attempt, statusCode, error, retryMs],
      );
      await m.query(
        `UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1 AND attempts = $2 AND status = 'pending' AND next_attempt_at > expires_at`,
        [id, attempt],
      );
    });
  }

  deliveries(webhookId: string, limit: number, status?: DeliveryStatus): Promise<DeliveryRow[]> {
    return this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND ($3::text IS NULL OR status = $3) ORDER BY created_at DESC, id LIMIT $2`,
      [webhookId, limit, status ?? null],
    );
  }

  async delivery(webhookId: string, id: string): Promise<DeliveryRow | null> {
    const rows: DeliveryRow[] = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2`,
      [webhookId, id],
    );
    return rows[0] ?? null;
  }

  /** Manual redelivery: the same delivery (same webhook-id) becomes due now with a fresh 24 h window. */
  async redeliver(manager: EntityManager, webhookId: string, id: string): Promise<DeliveryRow | null> {
    const [rows]: [DeliveryRow[], number] = await manager.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), expires_at = now() + $3::double precision * interval '1 millisecond', delivered_at = NULL
       WHERE webhook_id = $1 AND id = $2 RETURNING ${DELIVERY_COLUMNS}`,
      [webhookId, id, MAX_DELIVERY_AGE_MS],
    );
    return rows[0] ?? null;
  }
}
