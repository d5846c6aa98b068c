import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from './event-types';
import { secretKey } from './signing';

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

const secret = z.string().refine((s) => {
  try {
    secretKey(s);
    return true;
  } catch {
    return false;
  }
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
  .strictObject({ url: url.optional(), eventTypes: eventTypes.optional(), description: z.string().max(500).optional(), secret: secret.optional(), enabled: z.boolean().optional() })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');
export type PatchWebhookInput = z.infer<typeof patchWebhookSchema>;

export const webhookIdParam = z.uuid('must be a webhook id (UUID)');
export const deliveryIdParam = z.string().regex(/^msg_[0-9a-f]{32}$/, 'must be a delivery id (msg_ + 32 hex digits)');

export const listDeliveriesQuery = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;
