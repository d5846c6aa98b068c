import { z } from 'zod';

/** The longest cooldown (366 days, as the longest feature window). */
export const MAX_COOLDOWN_SECONDS = 366 * 24 * 3600;

const cooldown = z
  .number({ message: 'must be a number of seconds' })
  .min(0, 'must be at least 0 seconds')
  .max(MAX_COOLDOWN_SECONDS, `must be at most 366 days (${MAX_COOLDOWN_SECONDS} s)`);

/**
 * `condition` is a targeting rule (libs/assignment) whose attributes are unit feature names; it is checked by the
 * service (rule validation, then the features), which reports paths under `condition`.
 */
export const createTriggerSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9_.-]{0,99}$/,
      'must be 1–100 characters of a–z, 0–9, _ . - (starting with a letter or digit)',
    ),
  description: z.string().max(2000).default(''),
  condition: z.unknown().refine((v) => v !== undefined, 'is required'),
  /** per unit: an entry less than this long after the unit's last firing does not fire */
  cooldownSeconds: cooldown.default(0),
  enabled: z.boolean().default(true),
});
export type CreateTriggerInput = z.output<typeof createTriggerSchema>;

export const patchTriggerSchema = z
  .strictObject({
    description: z.string().max(2000).optional(),
    condition: z.unknown().optional(),
    cooldownSeconds: cooldown.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');
export type PatchTriggerInput = z.output<typeof patchTriggerSchema>;

export const triggerIdParam = z.uuid('must be a trigger id (UUID)');

export const listFiringsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });
export type ListFiringsQuery = z.output<typeof listFiringsQuery>;
