import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuditRepository } from '../audit/audit.repository';
import { DestinationPolicy, DestinationRefused } from './destination-policy';
import { TEST_EVENT_TYPE } from './event-types';
import { generateSecret } from './signing';
import { WebhookDispatcher } from './webhook-dispatcher';
import { CreateWebhookInput, ListDeliveriesQuery, PatchWebhookInput } from './webhooks.schema';
import { DeliveryRow, WebhookRow, WebhooksRepository } from './webhooks.repository';

/** A webhook as the API shows it: the secret only as a hint (it is returned in full once, on create). */
export interface WebhookView {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  secretHint: string;
  createdAt: string;
  updatedAt: string;
}

const viewOf = (w: WebhookRow): WebhookView => ({
  id: w.id,
  url: w.url,
  description: w.description,
  eventTypes: w.eventTypes,
  enabled: w.enabled,
  secretHint: `${w.secret.slice(0, 10)}…`,
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

const deliveryView = (d: DeliveryRow) => ({
  id: d.id,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  expiresAt: d.expiresAt.toISOString(),
  lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  deliveredAt: d.deliveredAt?.toISOString() ?? null,
  createdAt: d.createdAt.toISOString(),
  payload: JSON.parse(d.body) as unknown,
});

@Injectable()
export class WebhooksService {
  private readonly policy: DestinationPolicy;

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly audit: AuditRepository,
    private readonly dispatcher: WebhookDispatcher,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.policy = new DestinationPolicy(config.webhookAllowPrivate);
  }

  /** Refuses (400) a URL whose host does not resolve or resolves to a refused address. */
  private async checkDestination(url: string): Promise<void> {
    try {
      await this.policy.resolve(new URL(url).hostname);
    } catch (err) {
      const message =
        err instanceof DestinationRefused ? err.message : `the host does not resolve (${(err as Error).message})`;
      throw Problem.validation([{ path: 'url', message }]);
    }
  }

  /** Creates a webhook; the answer carries `secret` (generated when not given) — the only time it is shown. */
  async create(input: CreateWebhookInput, actor: Principal): Promise<WebhookView & { secret: string }> {
    await this.checkDestination(input.url);
    const secret = input.secret ?? generateSecret();
    const row = await this.repo.transaction(async (m) => {
      const row = await this.repo.insert(m, {
        id: randomUUID(),
        url: input.url,
        description: input.description,
        eventTypes: input.eventTypes,
        secret,
        enabled: input.enabled,
      });
      await this.audit.append(m, actor, {
        action: 'webhook.create',
        entityType: 'webhook',
        entityId: row.id,
        before: null,
        after: { url: row.url, eventTypes: row.eventTypes, enabled: row.enabled },
      });
      return row;
    });
    return { ...viewOf(row), secret };
  }

  async list(): Promise<WebhookView[]> {
    return (await this.repo.list()).map(viewOf);
  }

  async get(id: string): Promise<WebhookView> {
    return viewOf(await this.require(id));
  }

  async patch(id: string, patch: PatchWebhookInput, actor: Principal): Promise<WebhookView> {
    const current = await this.require(id);
    if (patch.url !== undefined) await this.checkDestination(patch.url);
    const next = {
      url: patch.url ?? current.url,
      description: patch.description ?? current.description,
      eventTypes: patch.eventTypes ?? current.eventTypes,
      secret: patch.secret ?? current.secret,
      enabled: patch.enabled ?? current.enabled,
    };
    return this.repo.transaction(async (m) => {
      const row = await this.repo.update(m, id, next);
      if (!row) throw Problem.notFound(`No webhook ${id}.`);
      await this.audit.append(m, actor, {
        action: 'webhook.update',
        entityType: 'webhook',
        entityId: id,
        before: { url: current.url, eventTypes: current.eventTypes, enabled: current.enabled },
        after: {
          url: row.url,
          eventTypes: row.eventTypes,
          enabled: row.enabled,
          ...(patch.secret ? { secretRotated: true } : {}),
        },
      });
      return viewOf(row);
    });
  }

  async delete(id: string, actor: Principal): Promise<void> {
    const current = await this.require(id);
    await this.repo.transaction(async (m) => {
      if (!(await this.repo.delete(m, id))) throw Problem.notFound(`No webhook ${id}.`);
      await this.audit.append(m, actor, {
        action: 'webhook.delete',
        entityType: 'webhook',
        entityId: id,
        before: { url: current.url, eventTypes: current.eventTypes },
        after: null,
      });
    });
  }

  async deliveries(id: string, query: ListDeliveriesQuery) {
    await this.require(id);
    return { deliveries: (await this.repo.deliveries(id, query.limit, query.status)).map(deliveryView) };
  }

  async delivery(id: string, deliveryId: string) {
    const d = await this.repo.delivery(id, deliveryId);
    if (!d) throw Problem.notFound(`No delivery ${deliveryId} of webhook ${id}.`);
    return deliveryView(d);
  }

  /** "Send test": a `webhook.test` delivery to this webhook only, attempted right away. */
  async sendTest(id: string, actor: Principal) {
    const w = await this.require(id);
    const d = await this.repo.enqueueTo(w.id, TEST_EVENT_TYPE, {
      webhook: w.id,
      message: 'Test delivery from Slotwise',
      actor: actor.name,
    });
    this.dispatcher.wake();
    return deliveryView(d);
  }

  /** Manual redelivery: the same delivery id, due now, with a fresh 24 h retry window. */
  async redeliver(id: string, deliveryId: string, actor: Principal) {
    const d = await this.repo.transaction(async (m) => {
      const d = await this.repo.redeliver(m, id, deliveryId);
      if (!d) throw Problem.notFound(`No delivery ${deliveryId} of webhook ${id}.`);
      await this.audit.append(m, actor, {
        action: 'webhook.redeliver',
        entityType: 'webhook',
        entityId: id,
        before: null,
        after: { delivery: deliveryId },
      });
      return d;
    });
    this.dispatcher.wake();
    return deliveryView(d);
  }

  private async require(id: string): Promise<WebhookRow> {
    const w = await this.repo.find(id);
    if (!w) throw Problem.notFound(`No webhook ${id}.`);
    return w;
  }
}
