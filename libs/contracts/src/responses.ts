/**
 * Response bodies of every JSON operation of the API (`z.object`: unknown extra fields are tolerated by readers,
 * every declared field is checked). The API's OpenAPI document takes its response schemas from here (see
 * routes.ts), the console and @slotwise/client their types, and the e2e tests parse every answer with them.
 */
import { z } from 'zod';
import { API_KEY_ROLES } from './api-keys';
import { CONSOLE_ROLES } from './console';

const iso = z.string();
const num = z.number();
const nullableNum = z.number().nullable();
const interval = z.object({ lower: num, upper: num });
const counts = z.record(z.string(), z.number());

// ---- serving ----------------------------------------------------------------------------------------------------

export const rankedSlotSchema = z.object({
  position: z.int(),
  itemId: z.string(),
  score: nullableNum,
  propensity: nullableNum,
  explored: z.boolean(),
  coldStart: z.boolean(),
  explanation: z
    .object({
      rankerScore: nullableNum,
      posteriorMean: nullableNum,
      drawnScore: nullableNum,
      standardDeviation: nullableNum,
      greedyItemId: z.string(),
      explored: z.boolean(),
      coldStart: z.boolean(),
      impressions: num,
      contributions: z.array(z.object({ feature: z.string(), value: num, coefficient: num, contribution: num })),
    })
    .optional(),
});

/** `POST /v1/rank`. Not running / not in the experiment: `variant` and `decisionId` null, `reason` says why. */
export const rankResponseSchema = z.object({
  decisionId: z.string().nullable(),
  experiment: z.string(),
  variant: z.string().nullable(),
  modelVersion: z.string().nullable(),
  reason: z.string().optional(),
  slots: z.array(rankedSlotSchema),
  storedFeatures: z.object({ context: counts, items: z.record(z.string(), counts) }).optional(),
});

/** `POST /v1/rewards`, `/v1/events`, `/v1/exposures`: per-batch counts; `rejected` by index in the request. */
export const batchResultSchema = z.object({
  accepted: z.int(),
  duplicates: z.int(),
  rejected: z.array(z.object({ index: z.int(), reason: z.string() })),
});

/** `POST /v1/assign`. */
export const assignResponseSchema = z.object({
  experiment: z.string(),
  variant: z.string().nullable(),
  config: z.record(z.string(), z.unknown()).nullable(),
  inExperiment: z.boolean(),
  reason: z.string().optional(),
});

// ---- experiments ------------------------------------------------------------------------------------------------

export const EXPERIMENT_STATUSES = ['draft', 'running', 'paused', 'stopped'] as const;

export const policyViewSchema = z.object({ type: z.string() }).catchall(z.unknown());

/** An experiment as stored: its definition with defaults filled in, and its lifecycle fields. */
export const experimentViewSchema = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  hypothesis: z.string(),
  kind: z.enum(['ab', 'ranking']),
  assignment: z.enum(['hash', 'external']),
  trafficPercent: num,
  layer: z.string().nullable(),
  slots: z.int().optional(),
  features: z.object({ context: z.array(z.string()), item: z.array(z.string()) }),
  ranker: z.object({ model: z.string(), shortlist: z.int() }),
  variants: z.array(
    z.object({
      key: z.string(),
      weight: num,
      policy: policyViewSchema.optional(),
      config: z.record(z.string(), z.unknown()).optional(),
      shadow: z.boolean().optional(),
    }),
  ),
  metrics: z.object({
    primary: z.string().optional(),
    guardrails: z.array(z.string()),
    secondary: z.array(z.string()),
  }),
  coldStartThreshold: z.int(),
  rewardWindowSeconds: num,
  exploration: z.record(z.string(), z.unknown()).optional(),
  targeting: z.unknown().optional(),
  tags: z.array(z.string()),
  autoStop: z.object({ action: z.enum(['pause', 'stop']), on: z.array(z.string()) }).optional(),
  status: z.enum(EXPERIMENT_STATUSES),
  version: z.int(),
  createdAt: iso,
  updatedAt: iso,
  startedAt: iso.nullable(),
  stoppedAt: iso.nullable(),
  phase: z.int().optional(),
  shippedVariant: z.string().nullable().optional(),
});
export type ExperimentViewBody = z.infer<typeof experimentViewSchema>;

export const experimentListSchema = z.object({ experiments: z.array(experimentViewSchema), total: z.int() });

export const auditListSchema = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      at: iso,
      actor: z.object({ keyId: z.string().nullable(), name: z.string() }),
      action: z.string(),
      entityType: z.string(),
      entityId: z.string(),
      before: z.unknown(),
      after: z.unknown(),
    }),
  ),
  nextBefore: z.string().nullable().optional(),
});

// ---- metrics, layers, units -------------------------------------------------------------------------------------

export const metricDefinitionViewSchema = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string(),
  type: z.enum(['sum', 'mean', 'binary', 'ratio']),
  event: z.string().nullable().optional(),
  numerator: z.string().nullable().optional(),
  denominator: z.string().nullable().optional(),
  conversionWindowSeconds: nullableNum.optional(),
  capping: z.unknown().optional(),
  direction: z.enum(['increase', 'decrease']),
  guardrailMargin: nullableNum.optional(),
  cupedLookbackDays: num.optional(),
  version: z.int(),
  createdAt: iso,
  updatedAt: iso,
});
export const metricDefinitionListSchema = z.object({ metrics: z.array(metricDefinitionViewSchema) });

const bucketRange = z.object({ start: z.int(), end: z.int() });
export const layerViewSchema = z.object({
  key: z.string(),
  salt: z.string(),
  hashVersion: z.int(),
  holdoutPercent: num,
  holdout: z.array(bucketRange),
  experiments: z.record(z.string(), z.object({ percent: num, ranges: z.array(bucketRange) })),
  freePercent: num,
  version: z.int(),
  updatedAt: iso,
});
export const layerListSchema = z.object({ layers: z.array(layerViewSchema) });

/** `DELETE /v1/units/{unitId}`: rows removed or unlinked per kind. */
export const unitErasureSchema = z.object({ erasureId: z.string(), erased: counts });

// ---- items, models, features ------------------------------------------------------------------------------------

export const itemViewSchema = z.object({
  id: z.string(),
  features: counts,
  attributes: z.record(z.string(), z.unknown()),
  createdAt: iso,
  updatedAt: iso,
});
export const itemBatchResultSchema = z.object({ upserted: z.int(), created: z.int(), updated: z.int() });

export const modelViewSchema = z.object({
  ref: z.string(),
  name: z.string(),
  version: z.int(),
  signature: z.record(z.string(), z.unknown()),
  contextDim: z.int().nullable(),
  itemDim: z.int().nullable(),
  embeddingDim: z.int().nullable(),
  sha256: z.string(),
  sizeBytes: z.int(),
  createdAt: iso,
});
export const modelListSchema = z.object({ models: z.array(modelViewSchema) });

export const featureDefinitionViewSchema = z
  .object({
    name: z.string(),
    entity: z.enum(['unit', 'item']),
    source: z.object({ type: z.string() }).catchall(z.unknown()),
    aggregation: z.string(),
    version: z.int(),
    createdAt: iso,
    updatedAt: iso,
  })
  .catchall(z.unknown());
export const featureDefinitionListSchema = z.object({ features: z.array(featureDefinitionViewSchema) });
/** `GET /v1/units/{unitId}/features`, `GET /v1/items/{itemId}/features`: current values by feature name. */
export const unitFeatureValuesSchema = z.object({ unitId: z.string(), at: iso, features: counts });
export const itemFeatureValuesSchema = z.object({ itemId: z.string(), at: iso, features: counts });

// ---- decision log, OPE ------------------------------------------------------------------------------------------

export const loggedDecisionSchema = z.object({
  decisionId: z.string(),
  at: iso,
  unitId: z.string().nullable(),
  variant: z.string(),
  modelVersion: z.string(),
  policy: z.string().nullable(),
  slots: z.array(
    rankedSlotSchema.omit({ explanation: true }).extend({
      reward: num,
      rewardCount: z.int(),
      explanation: z.object({
        shortlistIndex: z.int(),
        rankerScore: nullableNum,
        itemFeatures: z.array(num).nullable(),
        shortlistSize: z.int(),
        candidateCount: z.int(),
      }),
    }),
  ),
});
export const decisionLogSchema = z.object({
  decisions: z.array(loggedDecisionSchema),
  nextBefore: z.string().nullable(),
});
export const decisionImportResultSchema = z.object({ received: z.int(), imported: z.int(), duplicates: z.int() });

/** Estimates from few logged slots can be NaN or infinite, which JSON writes as null. */
const estimate = z.number().nullable();
const levelInterval = z.object({ lower: estimate, upper: estimate, level: num });
export const opeEstimateSchema = z.object({
  estimator: z.string(),
  value: estimate,
  ci: levelInterval,
  stdErr: estimate,
});
export const opeResultSchema = z.object({
  n: z.int(),
  decisions: z.int(),
  effectiveSampleSize: estimate,
  maxWeight: estimate,
  meanWeight: estimate,
  clip: nullableNum,
  loggedValue: estimate,
  estimates: z.array(opeEstimateSchema),
  posterior: z.string(),
  actionDistribution: z.object({ method: z.enum(['exact', 'monte-carlo']), draws: z.int() }),
  warnings: z.array(z.string()),
});
export const opeRunSchema = z.object({
  id: z.string(),
  experiment: z.string(),
  status: z.enum(['running', 'succeeded', 'failed']),
  progress: num,
  request: z.unknown(),
  result: opeResultSchema.nullable(),
  error: z
    .object({ detail: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })).optional() })
    .nullable(),
  createdAt: iso,
  finishedAt: iso.nullable(),
});
export const opeRunListSchema = z.object({ runs: z.array(opeRunSchema) });

/** A shadow variant's value: every estimator over the window, IPS and DR per UTC day and cumulative. */
const seriesEstimate = z.object({ value: estimate, ci: levelInterval, stdErr: estimate }).nullable();
export const shadowValueSchema = z.object({
  variant: z.string(),
  policy: z.unknown(),
  servedDecisions: z.int(),
  shadowDecisions: z.int(),
  estimate: opeResultSchema.omit({ posterior: true, actionDistribution: true }).nullable(),
  series: z.array(
    z.object({
      day: z.string(),
      n: z.int(),
      daily: z.object({ ips: seriesEstimate, dr: seriesEstimate }),
      cumulative: z.object({ ips: seriesEstimate, dr: seriesEstimate }),
    }),
  ),
  warnings: z.array(z.string()),
});
export const shadowValuesSchema = z.object({ experiment: z.string(), alpha: num, shadows: z.array(shadowValueSchema) });
/** A shadow's logged decisions, newest first, beside the served slates. */
export const shadowDecisionListSchema = z.object({
  decisions: z.array(
    z.object({
      decisionId: z.string(),
      at: z.string(),
      seed: num,
      modelVersion: z.string(),
      servedVariant: z.string(),
      servedSlots: z.array(z.object({ position: z.int(), itemId: z.string(), propensity: nullableNum, reward: num })),
      shadowSlots: z.array(
        z.object({
          position: z.int(),
          itemId: z.string(),
          shortlistIndex: z.int(),
          score: nullableNum,
          propensity: nullableNum,
        }),
      ),
    }),
  ),
  nextBefore: z.string().nullable(),
});

/** The report's `offPolicy` section: each variant evaluated (DR) on the other variants' logs. */
export const offPolicySectionSchema = z.object({
  estimator: z.literal('dr'),
  alpha: num,
  posterior: z.string(),
  variants: z.array(
    z.object({ variant: z.string(), value: estimate, ci: levelInterval, stdErr: estimate, n: z.int() }),
  ),
  pairs: z.array(
    z.object({
      target: z.string(),
      logs: z.string(),
      estimator: z.string(),
      value: estimate,
      ci: levelInterval,
      stdErr: estimate,
      n: z.int(),
      effectiveSampleSize: estimate,
      warnings: z.array(z.string()),
      onPolicy: z.object({ value: estimate, ci: levelInterval }).nullable(),
      covers: z.boolean().nullable(),
      statement: z.string(),
    }),
  ),
  /** shadow variants (no traffic) evaluated on the served logs they decided beside */
  shadows: z.array(shadowValueSchema),
  warnings: z.array(z.string()),
  /** when the section was computed (ISO 8601) and from which data (decisions|rewards|shadow rows): cached until it changes */
  computedAt: z.string(),
  dataVersion: z.string(),
});

// ---- reports ----------------------------------------------------------------------------------------------------

export const variantStatsSchema = z.object({
  variant: z.string(),
  units: z.int(),
  sum: num,
  mean: nullableNum,
  stdDev: nullableNum,
  denominatorSum: num.optional(),
});
export const BASES = ['always-valid', 'fixed-horizon'] as const;
export type Basis = (typeof BASES)[number];

export const comparisonSchema = z.object({
  variant: z.string(),
  baseline: z.string(),
  absoluteLift: nullableNum,
  relativeLift: nullableNum,
  relativeLiftReason: z.string().nullable(),
  ci: interval.nullable(),
  relativeCi: interval.nullable(),
  pValue: nullableNum,
  adjustedPValue: nullableNum,
  relativePValue: nullableNum,
  relativeAdjustedPValue: nullableNum,
  significant: z.boolean(),
  significance: z.object({
    basis: z.enum(BASES),
    absolute: z.boolean(),
    relative: z.boolean().nullable(),
    alwaysValid: z.boolean(),
    agree: z.boolean().nullable(),
  }),
  standardError: nullableNum,
  relativeStandardError: nullableNum,
  test: z.enum(['welch', 'delta-method']),
  degreesOfFreedom: nullableNum,
  sequential: z.object({ pValue: nullableNum, ci: interval.nullable(), adjustedPValue: nullableNum, tuningN: num }),
  bayesian: z.object({
    chanceToBeatBaseline: nullableNum,
    expectedLoss: nullableNum,
    expectedLossControl: nullableNum,
    scale: z.literal('absolute'),
  }),
  cuped: z
    .object({ applied: z.boolean(), theta: nullableNum, varianceReduction: nullableNum, note: z.string().nullable() })
    .optional(),
  reason: z.string().nullable(),
});
export type ComparisonBody = z.infer<typeof comparisonSchema>;

export const metricReportSchema = z.object({
  metric: z.string(),
  role: z.enum(['primary', 'guardrail', 'secondary', 'requested']),
  type: z.string(),
  direction: z.string(),
  guardrailMargin: num.optional(),
  variants: z.array(variantStatsSchema),
  comparisons: z.array(comparisonSchema),
});
export type MetricReportBody = z.infer<typeof metricReportSchema>;

export const DECISIONS = ['ship', 'rollback', 'keep-running', 'unhealthy'] as const;
export type Decision = (typeof DECISIONS)[number];
const decisionDetail = {
  decision: z.enum(DECISIONS),
  reason: z.string(),
  details: z.array(z.string()),
  requiredUnits: nullableNum,
  extraUnits: nullableNum,
  estimatedDays: nullableNum,
};
/** The report's ship / roll back / keep running / unhealthy decision: the one the console shows. */
export const recommendationSchema = z.object({
  metric: z.string().nullable(),
  alpha: num,
  power: num,
  mde: num,
  unitsPerDay: nullableNum,
  basis: z.enum(BASES),
  basisReason: z.string(),
  plannedUnits: nullableNum,
  ...decisionDetail,
  variant: z.string().nullable(),
  variants: z.array(z.object({ variant: z.string(), ...decisionDetail })),
});
export type RecommendationBody = z.infer<typeof recommendationSchema>;

export const srmSchema = z.object({
  observed: counts,
  expected: counts.nullable(),
  chiSquare: nullableNum,
  degreesOfFreedom: nullableNum,
  pValue: nullableNum,
  flagged: z.boolean(),
  threshold: num,
  reason: z.string().nullable(),
});

export const reportHealthSchema = z.object({
  healthy: z.boolean(),
  srm: z.object({ flagged: z.boolean(), pValue: nullableNum }),
  multipleExposures: z.object({
    units: z.int(),
    totalUnits: z.int(),
    fraction: nullableNum,
    flagged: z.boolean(),
    maxFraction: num,
  }),
  unitsSource: z.string(),
  firstExposureAt: iso.nullable(),
  lastExposureAt: iso.nullable(),
  unitsPerDay: nullableNum,
});

const explorationRates = { decisions: z.int(), slots: z.int(), exploreRate: nullableNum, coldStartRate: nullableNum };
export const explorationSectionSchema = z.object({
  ...explorationRates,
  coldStartThreshold: z.int(),
  variants: z.array(z.object({ variant: z.string(), ...explorationRates })),
  coldItems: z.int(),
  coldItemsShown: z.int(),
  graduatedItems: z.int(),
  medianDecisionsToGraduate: nullableNum,
  /** the most shown items in the window; `topItemsMethod` says what their mean and interval are */
  topItems: z.array(
    z.object({
      itemId: z.string(),
      impressions: z.int(),
      rewards: num,
      rewardRate: num,
      posteriorMean: num,
      lower: nullableNum,
      upper: nullableNum,
      interval: z.enum(['beta-normal', 'wilson', 'normal']),
      cold: z.boolean(),
    }),
  ),
  topItemsMethod: z.enum(['beta-normal', 'empirical']),
  coldItemList: z.array(z.object({ itemId: z.string(), impressions: z.int(), remaining: z.int() })),
});

/** `GET /v1/experiments/{key}/report` (format json) and `POST …/report/refresh`. */
export const reportSchema = z.object({
  experiment: z.string(),
  status: z.enum(EXPERIMENT_STATUSES),
  kind: z.enum(['ab', 'ranking']),
  generatedAt: iso,
  alpha: num,
  phase: z.int(),
  baseline: z.string(),
  window: z.object({ from: iso.nullable(), to: iso.nullable(), end: iso }),
  options: z.object({
    correction: z.enum(['holm', 'bh', 'none']),
    cuped: z.boolean(),
    sequential: z.boolean(),
    sequentialRequested: z.boolean().nullable(),
    plannedUnits: nullableNum,
    plannedEnd: iso.nullable(),
    tuningN: num,
    segment: z.object({ attribute: z.string(), value: z.union([z.string(), z.number(), z.boolean()]) }).nullable(),
    mde: num,
    power: num,
  }),
  srm: srmSchema,
  health: reportHealthSchema,
  recommendation: recommendationSchema,
  metrics: z.array(metricReportSchema),
  exploration: explorationSectionSchema.nullable(),
  offPolicy: z
    .union([offPolicySectionSchema, z.object({ error: z.string() })])
    .nullable()
    .optional(),
  cache: z.object({ cachedAt: iso, refreshSeconds: num, computeMs: num }).optional(),
});
export type ReportBody = z.infer<typeof reportSchema>;

export const TIME_BUCKETS = ['minute', 'hour', 'day'] as const;
export type TimeBucket = (typeof TIME_BUCKETS)[number];

export const seriesComparisonSchema = comparisonSchema
  .pick({
    variant: true,
    baseline: true,
    absoluteLift: true,
    ci: true,
    relativeLift: true,
    relativeLiftReason: true,
    relativeCi: true,
    pValue: true,
    reason: true,
  })
  .extend({
    sequential: z.object({ pValue: nullableNum, ci: interval.nullable() }),
    chanceToBeatBaseline: nullableNum,
  });

export const seriesStepSchema = z.object({
  date: z.string(),
  start: iso,
  end: iso,
  units: counts,
  metrics: z.array(
    z.object({
      metric: z.string(),
      variants: z.array(variantStatsSchema.pick({ variant: true, units: true, mean: true, stdDev: true })),
      comparisons: z.array(seriesComparisonSchema),
    }),
  ),
  exploration: z
    .object({
      ...explorationRates,
      day: z.object(explorationRates),
      variants: z.array(z.object({ variant: z.string(), ...explorationRates })),
    })
    .optional(),
  selectionShare: counts.optional(),
});
export type SeriesStepBody = z.infer<typeof seriesStepSchema>;

/** `GET /v1/experiments/{key}/report/timeseries`: cumulative statistics per step (`bucket`). */
export const timeseriesSchema = z.object({
  experiment: z.string(),
  status: z.enum(EXPERIMENT_STATUSES),
  generatedAt: iso,
  alpha: num,
  phase: z.int(),
  baseline: z.string(),
  metrics: z.array(z.string()),
  bucket: z.enum(TIME_BUCKETS),
  start: iso.optional(),
  end: iso.optional(),
  days: z.array(seriesStepSchema),
});
export type TimeseriesBody = z.infer<typeof timeseriesSchema>;

/** `POST /v1/stats/power`: a sample size per arm for an MDE, or the MDE for a sample size. */
/** POST /v1/stats/power: libs/stats' SampleSizeResult / MdeResult (power.ts) with the method and solved quantity. */
const powerCommon = {
  method: z.string(),
  alpha: num,
  power: num,
  ratio: num,
  effectSize: nullableNum,
  absoluteMde: nullableNum,
  reason: z.string().nullable(),
};
export const sampleSizeResultSchema = z.object({
  solveFor: z.literal('sampleSize'),
  mdeType: z.enum(['relative', 'absolute']),
  ...powerCommon,
  nControl: nullableNum,
  nTreatment: nullableNum,
  nControlRounded: nullableNum,
  nTreatmentRounded: nullableNum,
  totalRounded: nullableNum,
  /** totalRounded ÷ unitsPerDay, rounded up; null without unitsPerDay */
  days: nullableNum,
});
export const mdeResultSchema = z.object({
  solveFor: z.literal('mde'),
  ...powerCommon,
  nControl: num,
  nTreatment: num,
  relativeMde: nullableNum,
});
export const powerResultSchema = z.union([sampleSizeResultSchema, mdeResultSchema]);

export type PowerResultBody = z.infer<typeof powerResultSchema>;

// ---- access: keys, console users, webhooks ----------------------------------------------------------------------

export const apiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(API_KEY_ROLES),
  prefix: z.string(),
  createdAt: iso,
});
export const createdApiKeySchema = apiKeyViewSchema.extend({ key: z.string() });
export const apiKeyListSchema = z.object({ keys: z.array(apiKeyViewSchema) });

export const consoleUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(CONSOLE_ROLES),
  createdAt: iso,
  lastSignInAt: iso.nullable(),
  disabled: z.boolean(),
});
export const consoleUserListSchema = z.object({ users: z.array(consoleUserSchema) });
export const sessionSchema = z.object({
  user: consoleUserSchema.nullable(),
  csrfToken: z.string().nullable(),
  expiresAt: iso.nullable(),
  setupRequired: z.boolean(),
});

export const webhookViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  secretHint: z.string(),
  createdAt: iso,
  updatedAt: iso,
});
export const createdWebhookSchema = webhookViewSchema.extend({ secret: z.string() });
export const webhookListSchema = z.object({ webhooks: z.array(webhookViewSchema), eventTypes: z.array(z.string()) });
export const webhookDeliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.int(),
  nextAttemptAt: iso.nullable(),
  expiresAt: iso,
  lastAttemptAt: iso.nullable(),
  lastStatusCode: z.int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: iso.nullable(),
  createdAt: iso,
  payload: z.unknown(),
});
/** A behavioural trigger (`features`: the unit features its condition reads). */
export const triggerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  condition: z.unknown(),
  features: z.array(z.string()),
  cooldownSeconds: num,
  enabled: z.boolean(),
  version: z.int(),
  createdAt: iso,
  updatedAt: iso,
});
export const triggerListSchema = z.object({ triggers: z.array(triggerViewSchema) });
export const triggerFiringListSchema = z.object({
  firings: z.array(z.object({ id: z.string(), unitId: z.string(), firedAt: iso, values: z.record(z.string(), num) })),
});
export const webhookDeliveryListSchema = z.object({ deliveries: z.array(webhookDeliverySchema) });

// ---- operations -------------------------------------------------------------------------------------------------

export const healthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  db: z.enum(['up', 'down']),
  version: z.string(),
  database: z.enum(['embedded', 'server']),
  unavailable: z.string().optional(),
  problems: z.record(z.string(), z.unknown()).optional(),
});

/** 204 and other bodiless answers. */
export const noContentSchema = z.undefined();
