/**
 * Event types a webhook may subscribe to. The body of every delivery is `{ type, timestamp, data }`
 * (Standard Webhooks payload structure); `data` per type:
 * - experiment.started / experiment.paused / experiment.stopped: `{ experiment, from, to, actor }` (lifecycle change)
 * - experiment.shipped: `{ experiment, variant, actor }` (ship decision)
 * - experiment.srm_flagged: `{ experiment, phase, pValue, observed, expected }`
 * - experiment.guardrail_breached: `{ experiment, phase, variant, metric, ci, nonInferiorityMargin, direction }`
 *   (always-valid interval entirely beyond the margin)
 * - experiment.primary_significant: `{ experiment, phase, variant, metric, estimate, ci }` (always-valid interval
 *   excludes 0)
 * - experiment.auto_stopped: `{ experiment, action, reason, evidence }` (the autoStop option acted)
 * - trigger.fired: `{ firingId, trigger: { id, name, condition, cooldownSeconds }, unitId, firedAt, values }` (a unit
 *   entered a behavioural trigger's condition; `values`: the condition's unit features as evaluated)
 * `webhook.test` is sent by the "send test" action to one webhook only; nobody subscribes to it.
 */
export const WEBHOOK_EVENT_TYPES = [
  'experiment.started',
  'experiment.paused',
  'experiment.stopped',
  'experiment.shipped',
  'experiment.srm_flagged',
  'experiment.guardrail_breached',
  'experiment.primary_significant',
  'experiment.auto_stopped',
  'trigger.fired',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const TEST_EVENT_TYPE = 'webhook.test';

/** The lifecycle event of a transition's target state. */
export const LIFECYCLE_EVENT: Record<'running' | 'paused' | 'stopped', WebhookEventType> = {
  running: 'experiment.started',
  paused: 'experiment.paused',
  stopped: 'experiment.stopped',
};
