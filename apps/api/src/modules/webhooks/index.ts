import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

export { WebhooksRepository } from './webhooks.repository';
export { WEBHOOK_EVENT_TYPES, LIFECYCLE_EVENT } from './event-types';
export type { WebhookEventType } from './event-types';

/** Signed webhooks with a durable outbox; wired into AppModule. */
export const WEBHOOK_CONTROLLERS = [WebhooksController];
export const WEBHOOK_PROVIDERS = [WebhooksRepository, WebhooksService, WebhookDispatcher];
