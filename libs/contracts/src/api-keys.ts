import { z } from 'zod';
/** What an API key may do (see the README's roles). */
export const API_KEY_ROLES = ['admin', 'editor', 'viewer', 'serving'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(API_KEY_ROLES),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;

export const uuidParam = z.uuid({ message: 'must be a UUID' });
