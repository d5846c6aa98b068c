import { z } from 'zod';
import { API_KEY_ROLES } from '../../database/entities/api-key.entity';

export const createApiKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: z.enum(API_KEY_ROLES),
});
export type CreateApiKeyInput = z.infer<typeof createApiKeySchema>;

export const uuidParam = z.uuid({ message: 'must be a UUID' });
