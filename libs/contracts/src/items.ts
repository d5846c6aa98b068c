import { MAX_FEATURE_MAGNITUDE } from '@slotwise/bandit';
import { z } from 'zod';

export const itemIdSchema = z
  .string()
  .min(1)
  .max(256)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what ids must not contain
  .regex(/^[^\s\u0000-\u001f\u007f]+$/u, 'must be 1–256 characters without spaces or control characters');

/** Largest |feature value| (catalog, context and candidate features): libs/bandit's bound, reasoned there. */
export const MAX_FEATURE_VALUE = MAX_FEATURE_MAGNITUDE;
export const FEATURE_RANGE_MESSAGE = `must be within [-${MAX_FEATURE_VALUE}, ${MAX_FEATURE_VALUE}]`;

export const featureValues = z.record(
  z.string().min(1).max(64),
  z
    .number({ message: 'must be a finite number' })
    .refine(Number.isFinite, 'must be a finite number')
    .refine((x) => !Number.isFinite(x) || Math.abs(x) <= MAX_FEATURE_VALUE, FEATURE_RANGE_MESSAGE),
);

const attributeValues = z.record(
  z.string().min(1).max(64),
  z.union([
    z.string().max(1000),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.union([z.string().max(1000), z.number()])).max(100),
  ]),
);

export const putItemSchema = z.strictObject({
  features: featureValues.default({}),
  attributes: attributeValues.default({}),
});
export type PutItemInput = z.infer<typeof putItemSchema>;

export const MAX_BATCH_ITEMS = 10_000;

export const batchItemsSchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        id: itemIdSchema,
        features: featureValues.default({}),
        attributes: attributeValues.default({}),
      }),
    )
    .min(1)
    .max(MAX_BATCH_ITEMS, `at most ${MAX_BATCH_ITEMS} items per call`)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((it, i) => {
        if (seen.has(it.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate item id "${it.id}" in this batch` });
        seen.add(it.id);
      });
    }),
});
export type BatchItemsInput = z.infer<typeof batchItemsSchema>;

export interface ItemView {
  id: string;
  features: Record<string, number>;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
