import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@slotwise/contracts';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType };
export const TEST_EVENT_TYPE = 'webhook.test';

/** The lifecycle event of a transition's target state. */
export const LIFECYCLE_EVENT: Record<'running' | 'paused' | 'stopped', WebhookEventType> = {
  running: 'experiment.started',
  paused: 'experiment.paused',
  stopped: 'experiment.stopped',
};
