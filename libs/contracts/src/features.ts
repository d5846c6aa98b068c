import { AGGREGATIONS, type Aggregation } from '@slotwise/features';
import { z } from 'zod';
import { METRIC_KEY } from './metric-key';

const MAX_WINDOW_SECONDS = 366 * 24 * 3600;

/** `unit.clicks_20m`, `item.purchases_1h`: the entity, a dot, then a–z 0–9 _ (the name an experiment's schema uses). */
export const featureNameSchema = z
  .string()
  .regex(
    /^(unit|item)\.[a-z0-9][a-z0-9_]{0,58}$/,
    'must be "unit." or "item." followed by 1–59 characters of a–z, 0–9, _ (e.g. unit.clicks_20m)',
  );

const seconds = (what: string) =>
  z
    .number()
    .gt(0, `${what} must be greater than 0`)
    .max(MAX_WINDOW_SECONDS, `${what} must be at most 366 days (${MAX_WINDOW_SECONDS} s)`);

export const windowSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sliding'), seconds: seconds('the window') }),
  z.strictObject({ type: z.literal('decay'), halfLifeSeconds: seconds('the half-life') }),
]);

export const sourceSchema = z.discriminatedUnion('type', [
  /** events posted to /v1/events with this `metric` (their `value`) */
  z.strictObject({ type: z.literal('event'), metric: z.string().regex(METRIC_KEY, 'must be an event metric key') }),
  /** rewards posted to /v1/rewards (their `value`), credited to the decision's unit or to the item */
  z.strictObject({ type: z.literal('reward') }),
  /** slots shown by /v1/rank (value 1 each), credited to the unit or to the item */
  z.strictObject({ type: z.literal('impression') }),
]);

export const createFeatureSchema = z
  .strictObject({
    name: featureNameSchema,
    entity: z.enum(['unit', 'item']),
    source: sourceSchema,
    aggregation: z.enum(AGGREGATIONS as [Aggregation, ...Aggregation[]]),
    window: windowSchema,
    /** the value served while the window holds no event (and for `mean` with a zero count) */
    defaultValue: z.number().min(-1e12).max(1e12).default(0),
    description: z.string().max(2000).default(''),
  })
  .superRefine((d, ctx) => {
    if (!d.name.startsWith(`${d.entity}.`))
      ctx.addIssue({ code: 'custom', path: ['name'], message: `must start with "${d.entity}." (the entity)` });
    if (d.entity === 'item' && d.source.type === 'event')
      ctx.addIssue({
        code: 'custom',
        path: ['source', 'type'],
        message: 'events carry a unit, not an item: item features come from rewards or impressions',
      });
  });
export type FeatureDefinitionInput = z.output<typeof createFeatureSchema>;

/** Only what does not change the stored state may change; a new window or source is a new feature. */
export const patchFeatureSchema = z.strictObject({
  defaultValue: z.number().min(-1e12).max(1e12).optional(),
  description: z.string().max(2000).optional(),
});
export type FeaturePatch = z.output<typeof patchFeatureSchema>;

export interface FeatureDefinitionView extends FeatureDefinitionInput {
  version: number;
  createdAt: string;
  updatedAt: string;
}
