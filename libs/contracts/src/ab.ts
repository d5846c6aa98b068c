import { z } from 'zod';
import { unitIdSchema } from './unit-id';
import { EXPERIMENT_KEY } from './experiments';
import { METRIC_KEY } from './metric-key';

/** Metric keys, the same rule as an experiment's `metrics.primary` / `guardrails` / `secondary`. */
export { METRIC_KEY };
export const metricKeySchema = z
  .string()
  .regex(METRIC_KEY, 'must be 1–64 characters of a–z, 0–9, _ . - starting with a letter or digit');
export const experimentKeySchema = z.string().regex(EXPERIMENT_KEY, 'must match ^[a-z0-9][a-z0-9_-]{1,63}$');
export const LAYER_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const layerKeySchema = z
  .string()
  .regex(LAYER_KEY, 'must be 1–64 characters of a–z, 0–9, _ or - starting with a letter or digit');

/** Unit ids: the one rule shared with /v1/rank (common/validation/unit-id). */
export { unitIdSchema };

/** Unit attributes for targeting: top-level scalars (the targeting rules compare scalars). */
export const attributesSchema = z
  .record(
    z.string().min(1).max(64),
    z.union(
      [z.string().max(1024), z.number().refine(Number.isFinite, 'must be a finite number'), z.boolean(), z.null()],
      {
        message: 'must be a string, a finite number, a boolean or null',
      },
    ),
  )
  .refine((a) => Object.keys(a).length <= 100, 'at most 100 attributes');
export type UnitAttributes = z.infer<typeof attributesSchema>;

const timestampSchema = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time with a time zone (e.g. 2026-01-31T12:00:00Z)',
});

// ---- /v1/assign -----------------------------------------------------------------------------------------------

export const assignSchema = z.strictObject({
  experiment: experimentKeySchema,
  unitId: unitIdSchema,
  attributes: attributesSchema.default({}),
});
export type AssignInput = z.infer<typeof assignSchema>;

// ---- /v1/events -----------------------------------------------------------------------------------------------

export const MAX_BATCH = 10_000;
/** Events stamped further than this in the future are rejected (clock skew allowance). */
export const MAX_FUTURE_MS = 5 * 60 * 1000;

/**
 * Largest |value| of an event. Reports sum values per unit and square those sums (variances, CUPED covariances) in
 * float8, where PostgreSQL raises "value out of range: overflow" instead of answering; at 1e12 a unit would need
 * more than 1e140 events before a square could overflow (float8 ends at ~1.8e308), and money in cents up to ten
 * billion still fits.
 */
export const MAX_EVENT_VALUE = 1e12;
const EVENT_VALUE_MESSAGE = `must be a finite number with |value| ≤ ${MAX_EVENT_VALUE}`;

export const eventSchema = z.strictObject({
  unitId: unitIdSchema,
  metric: metricKeySchema,
  value: z
    .number({ message: EVENT_VALUE_MESSAGE })
    .refine((v) => Number.isFinite(v) && Math.abs(v) <= MAX_EVENT_VALUE, EVENT_VALUE_MESSAGE)
    .default(1),
  timestamp: timestampSchema.optional(),
  eventId: z.string().min(1).max(128).optional(),
});
export const eventsBatchSchema = z.strictObject({
  events: z.array(eventSchema).min(1, 'send at least one event').max(MAX_BATCH, `at most ${MAX_BATCH} events per call`),
});
export type EventsBatchInput = z.infer<typeof eventsBatchSchema>;

// ---- /v1/exposures --------------------------------------------------------------------------------------------

export const exposureSchema = z.strictObject({
  experiment: experimentKeySchema,
  unitId: unitIdSchema,
  variant: z.string().min(1).max(64),
  timestamp: timestampSchema.optional(),
  /** Optional unit attributes at exposure time, for segmenting the report. */
  attributes: attributesSchema.optional(),
});
export const exposuresBatchSchema = z.strictObject({
  exposures: z
    .array(exposureSchema)
    .min(1, 'send at least one exposure')
    .max(MAX_BATCH, `at most ${MAX_BATCH} exposures per call`),
});
export type ExposuresBatchInput = z.infer<typeof exposuresBatchSchema>;

/** Answer of the batch write routes. */
export interface BatchResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; reason: string }[];
}

// ---- /v1/metrics ----------------------------------------------------------------------------------------------

export const METRIC_TYPES = ['sum', 'mean', 'binary', 'ratio'] as const;
export type MetricType = (typeof METRIC_TYPES)[number];

export const cappingSchema = z.discriminatedUnion(
  'type',
  [
    /** Winsorise: unit values above this percentile of all units' values (pooled over variants) are set to it. */
    z.strictObject({
      type: z.literal('percentile'),
      percentile: z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'),
    }),
    /** Unit values above `value` are set to `value`. */
    z.strictObject({ type: z.literal('fixed'), value: z.number().refine(Number.isFinite, 'must be a finite number') }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? 'must be {type: "percentile", percentile} or {type: "fixed", value}' : undefined,
  },
);
export type Capping = z.infer<typeof cappingSchema>;

const metricFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  type: z.enum(METRIC_TYPES, { message: `must be one of ${METRIC_TYPES.join(', ')}` }),
  /** Event metric key the value is read from (sum, mean, binary); defaults to the metric's own key. */
  event: metricKeySchema.nullable().default(null),
  /** Ratio metrics: event metric keys of the numerator and denominator. */
  numerator: metricKeySchema.nullable().default(null),
  denominator: metricKeySchema.nullable().default(null),
  /** Seconds after a unit's first exposure during which its events count; null: until the experiment ends. */
  conversionWindowSeconds: z
    .int()
    .min(1)
    .max(365 * 86_400)
    .nullable()
    .default(null),
  capping: cappingSchema.nullable().default(null),
  direction: z.enum(['increase', 'decrease'], { message: 'must be "increase" or "decrease"' }).default('increase'),
  /** As a guardrail: the largest tolerated relative change in the bad direction (0.02 = 2 %), non-inferiority margin. */
  guardrailMargin: z.number().min(0).max(10).nullable().default(null),
  /** CUPED look-back: days before first exposure whose events form the covariate. */
  cupedLookbackDays: z.int().min(1).max(365).default(14),
};

function checkMetric(
  m: {
    type: MetricType;
    numerator: string | null;
    denominator: string | null;
    event: string | null;
    capping: Capping | null;
  },
  ctx: z.RefinementCtx,
) {
  if (m.type === 'ratio') {
    if (!m.numerator)
      ctx.addIssue({
        code: 'custom',
        path: ['numerator'],
        message: 'a ratio metric needs a numerator event metric key',
      });
    if (!m.denominator)
      ctx.addIssue({
        code: 'custom',
        path: ['denominator'],
        message: 'a ratio metric needs a denominator event metric key',
      });
    if (m.event)
      ctx.addIssue({
        code: 'custom',
        path: ['event'],
        message: 'ratio metrics read numerator and denominator, not event',
      });
  } else {
    if (m.numerator)
      ctx.addIssue({ code: 'custom', path: ['numerator'], message: 'only ratio metrics have a numerator' });
    if (m.denominator)
      ctx.addIssue({ code: 'custom', path: ['denominator'], message: 'only ratio metrics have a denominator' });
  }
  if (m.type === 'binary' && m.capping)
    ctx.addIssue({ code: 'custom', path: ['capping'], message: 'binary metrics are 0 or 1 and take no capping' });
}

export const createMetricSchema = z
  .strictObject({
    key: metricKeySchema.refine(
      (k) => k !== 'reward',
      '"reward" is the built-in metric of ranking experiments and cannot be defined',
    ),
    ...metricFields,
  })
  .superRefine(checkMetric);
export type MetricDefinitionInput = z.infer<typeof createMetricSchema>;

/** PATCH: any subset except the key; the merged definition is validated as a whole (same paths as create). */
export const patchMetricSchema = z
  .strictObject(
    Object.fromEntries(Object.keys(metricFields).map((k) => [k, z.unknown()])) as Record<
      keyof typeof metricFields,
      z.ZodUnknown
    >,
  )
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change');
export type MetricPatch = z.infer<typeof patchMetricSchema>;

export interface MetricDefinitionView extends MetricDefinitionInput {
  version: number;
  createdAt: string;
  updatedAt: string;
}

// ---- /v1/layers -----------------------------------------------------------------------------------------------

export const putLayerSchema = z.strictObject({
  /** Percent of the layer's units kept out of all its experiments (0–100, steps of 0.01). */
  holdoutPercent: z.number().min(0).max(100).default(0),
  /** Salt of the layer hash (defaults to the layer key); can change only while no experiment holds buckets. */
  salt: z.string().min(1).max(128).optional(),
});
export type PutLayerInput = z.infer<typeof putLayerSchema>;

// ---- /v1/experiments/{key}/ship -------------------------------------------------------------------------------

export const shipSchema = z.strictObject({ variant: z.string().min(1).max(64) });
export type ShipInput = z.infer<typeof shipSchema>;
