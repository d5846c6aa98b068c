import { z } from 'zod';

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

const url = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials');

/** Bytes a base64 text decodes to, decoded as Node's Buffer does (other characters skipped, `=` ends it). */
function base64Length(text: string): number {
  let digits = 0;
  for (const ch of text) {
    if (ch === '=') break;
    if (/[A-Za-z0-9+/_-]/.test(ch)) digits++;
  }
  return Math.floor((digits * 3) / 4);
}

/** The secret's form (the API's `secretKey` in webhooks/signing.ts decodes it): `whsec_` + base64 of 24–64 bytes. */
const secret = z.string().refine((s) => {
  if (!s.startsWith('whsec_')) return false;
  const bytes = base64Length(s.slice('whsec_'.length));
  return bytes >= 24 && bytes <= 64;
}, 'must be whsec_ followed by the base64 of 24–64 bytes (omit it to have one generated)');

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, 'subscribe to at least one event type')
  .transform((list) => [...new Set(list)]);

export const createWebhookSchema = z.strictObject({
  url,
  eventTypes,
  description: z.string().max(500).default(''),
  secret: secret.optional(),
  enabled: z.boolean().default(true),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

export const patchWebhookSchema = z
  .strictObject({
    url: url.optional(),
    eventTypes: eventTypes.optional(),
    description: z.string().max(500).optional(),
    secret: secret.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');
export type PatchWebhookInput = z.infer<typeof patchWebhookSchema>;

export const webhookIdParam = z.uuid('must be a webhook id (UUID)');
export const deliveryIdParam = z.string().regex(/^msg_[0-9a-f]{32}$/, 'must be a delivery id (msg_ + 32 hex digits)');

export const listDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;
