import { z } from 'zod';

export const CONSOLE_ROLES = ['admin', 'editor', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

const email = z
  .email('must be an e-mail address')
  .max(254)
  .transform((s) => s.trim());
const password = z.string().min(10, 'must be at least 10 characters').max(256, 'must be at most 256 characters');

export const signInSchema = z.strictObject({
  email: z.string().trim().min(1, 'is required').max(254),
  password: z.string().min(1, 'is required').max(256),
});
export type SignInInput = z.infer<typeof signInSchema>;

/** First-run setup: proves control of the installation with an admin API key (printed at first start). */
export const setupSchema = z.strictObject({
  email,
  name: z.string().trim().max(200).default(''),
  password,
  apiKey: z.string().min(1, 'is required: the admin API key printed at first start (or SLOTWISE_ADMIN_KEY)').max(256),
});
export type SetupInput = z.infer<typeof setupSchema>;

export const createUserSchema = z.strictObject({
  email,
  name: z.string().trim().max(200).default(''),
  role: z.enum(CONSOLE_ROLES, { message: 'must be admin, editor or viewer' }),
  password,
});
export type CreateUserInput = z.infer<typeof createUserSchema>;

export const updateUserSchema = z
  .strictObject({
    name: z.string().trim().max(200).optional(),
    role: z.enum(CONSOLE_ROLES, { message: 'must be admin, editor or viewer' }).optional(),
    password: password.optional(),
    disabled: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change');
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

export const userIdParam = z.uuid({ message: 'must be a UUID' });
