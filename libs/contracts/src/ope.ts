import { z } from 'zod';
import { MODEL_REF, policySchema } from './experiments';

export const OPE_ESTIMATORS = ['ips', 'snips', 'dm', 'dr', 'sndr', 'switch-dr'] as const;
export type OpeEstimator = (typeof OPE_ESTIMATORS)[number];

/** Most decisions one import request carries. */
export const MAX_IMPORT_BATCH = 1000;
/** Most candidates of one imported decision (sent, or the catalog at its time). */
export const MAX_IMPORT_CANDIDATES = 2000;

const featureInput = z.union([z.record(z.string(), z.number().finite()), z.array(z.number().finite()).max(512)]);
const itemId = z.string().min(1).max(256);

/**
 * The policy to evaluate: a policy spec as a variant takes (`{type: …}`, evaluated from its model's prior), a
 * variant of the experiment (`{variant}`, its current posterior), or an uploaded ranker version (`{ranker}`,
 * greedy by that ranker's scores on the logged inputs).
 */
export const targetPolicySchema = z.union([
  z.strictObject({ variant: z.string().min(1).max(64) }),
  z.strictObject({ ranker: z.string().regex(MODEL_REF, 'must be an uploaded model "name@version"') }),
  policySchema,
]);
export type TargetPolicy = z.infer<typeof targetPolicySchema>;

/** `POST /v1/experiments/{key}/ope` */
export const opeRequestSchema = z.strictObject({
  policy: targetPolicySchema,
  logs: z
    .strictObject({
      /** only decisions served by (or imported for) this variant; omitted = every variant */
      variant: z.string().min(1).max(64).optional(),
      from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
      to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    })
    .refine((l) => !l.from || !l.to || Date.parse(l.from) < Date.parse(l.to), {
      message: 'from must be before to',
      path: ['to'],
    })
    .default({}),
  estimators: z
    .array(z.enum(OPE_ESTIMATORS, { message: `must be one of ${OPE_ESTIMATORS.join(', ')}` }))
    .min(1)
    .max(6)
    .optional(),
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** λ: clip importance weights at λ in IPS and DR */
  clip: z.number().gt(0).max(1e9).optional(),
  /** Monte-Carlo draws per decision for a Thompson target (its action distribution has no closed form) */
  draws: z.int().min(10).max(10_000).default(200),
  /** seed of the Thompson re-draws (the estimate replays exactly from it) */
  seed: z
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(1),
});
export type OpeRequest = z.infer<typeof opeRequestSchema>;

/** `GET /v1/experiments/{key}/ope/shadows` query */
export const shadowQuerySchema = z.strictObject({
  alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  from: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  to: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  clip: z.coerce.number().gt(0).max(1e9).optional(),
});
export type ShadowQuery = z.infer<typeof shadowQuerySchema>;

/** `GET /v1/experiments/{key}/ope/shadows/{variant}/decisions` query */
export const shadowDecisionsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** exclusive: decisions logged before this time (page with the last `at`) */
  before: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
});
export type ShadowDecisionsQuery = z.infer<typeof shadowDecisionsQuerySchema>;

export const opeRunIdParam = z.uuid({ message: 'must be a UUID' });

const importedSlotSchema = z.strictObject({
  /** 1-based slot */
  position: z.int().min(1, 'must be between 1 and 50').max(50, 'must be between 1 and 50'),
  itemId,
  /** π_b(item at position | inputs): the logging policy's probability, in (0, 1] */
  propensity: z
    .number({ message: 'required: a number in (0, 1]' })
    .gt(0, 'must be in (0, 1]')
    .max(1, 'must be in (0, 1]'),
  reward: z.number().finite().default(0),
});

export const importedDecisionSchema = z.strictObject({
  /** the other system's decision id: importing it again changes nothing */
  decisionId: z.string().min(1).max(200),
  variant: z.string().min(1).max(64),
  timestamp: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
  unitId: z.string().min(1).max(256).optional(),
  context: featureInput.optional(),
  /**
   * the items the logging policy chose from (its shortlist), in its order; omitted = the catalog at `timestamp` (the
   * items created no later, at most 2,000, oldest first, with their current catalog features)
   */
  candidates: z
    .array(
      z.strictObject({ id: itemId, features: featureInput.optional(), rankerScore: z.number().finite().optional() }),
    )
    .min(1)
    .max(MAX_IMPORT_CANDIDATES)
    .optional(),
  slots: z.array(importedSlotSchema).min(1).max(50),
});
export type ImportedDecision = z.infer<typeof importedDecisionSchema>;

/** `POST /v1/experiments/{key}/decisions/import` */
export const importDecisionsSchema = z.strictObject({
  decisions: z.array(importedDecisionSchema).min(1).max(MAX_IMPORT_BATCH),
});
export type ImportDecisionsInput = z.infer<typeof importDecisionsSchema>;

export interface EstimateView {
  estimator: OpeEstimator;
  value: number;
  ci: { lower: number; upper: number; level: number };
  stdErr: number;
}

/** The stored result of one evaluation. */
export interface OpeResult {
  /** rounds: logged slots (one per shown item with a propensity) */
  n: number;
  decisions: number;
  effectiveSampleSize: number;
  maxWeight: number;
  meanWeight: number;
  clip: number | null;
  /** mean reward per logged slot: the logging policy's own (on-policy) value */
  loggedValue: number;
  estimates: EstimateView[];
  /** which posterior the target policy was evaluated with */
  posterior: string;
  /** how the target's action distribution was computed: exact or Monte-Carlo draws */
  actionDistribution: { method: 'exact' | 'monte-carlo'; draws: number };
  warnings: string[];
}

export interface OpeRunView {
  id: string;
  experiment: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: number;
  request: unknown;
  result: OpeResult | null;
  error: { detail: string; errors?: Array<{ path: string; message: string }> } | null;
  createdAt: string;
  finishedAt: string | null;
}
