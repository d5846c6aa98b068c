import { z } from 'zod';
import { attributesSchema, unitIdSchema } from './ab';
import { EXPERIMENT_KEY } from './experiments';
import { FEATURE_RANGE_MESSAGE, featureValues, itemIdSchema, MAX_FEATURE_VALUE } from './items';

export const MAX_CANDIDATES = 2000;

const MAX_POSITIONAL_FEATURES = 4096;
const MAX_FEATURE_NAME = 64;
/** More problems than this in one feature set are not listed one by one. */
const MAX_FEATURE_ISSUES = 20;

/**
 * Features by name, or positionally in the order of the experiment's feature schema. Checked by hand rather than as a
 * union of a record and an array schema: with 500 candidates × 16 features per request the schema walk and the copies
 * it made were a sixth of a rank's CPU. Each problem is reported at its own path (`candidates[3].features.price`).
 */
const featureInput = z
  .custom<Record<string, number> | number[]>(() => true)
  .superRefine((value, ctx) => {
    let issues = 0;
    const problem = (path: Array<string | number>, message: string): boolean => {
      ctx.addIssue({ code: 'custom', path, message });
      return ++issues < MAX_FEATURE_ISSUES;
    };
    if (Array.isArray(value)) {
      if (value.length > MAX_POSITIONAL_FEATURES) problem([], `at most ${MAX_POSITIONAL_FEATURES} numbers`);
      for (let i = 0; i < value.length; i++) {
        const x: unknown = value[i];
        if ((typeof x !== 'number' || !Number.isFinite(x)) && !problem([i], 'must be a finite number')) return;
        if (
          typeof x === 'number' &&
          Number.isFinite(x) &&
          Math.abs(x) > MAX_FEATURE_VALUE &&
          !problem([i], FEATURE_RANGE_MESSAGE)
        )
          return;
      }
      return;
    }
    if (value === null || typeof value !== 'object') {
      problem([], 'expected features by name ({"price": 0.2}) or an array of numbers in the schema order');
      return;
    }
    for (const [name, x] of Object.entries(value)) {
      if (
        (name.length < 1 || name.length > MAX_FEATURE_NAME) &&
        !problem([name], `feature names have 1 to ${MAX_FEATURE_NAME} characters`)
      )
        return;
      if ((typeof x !== 'number' || !Number.isFinite(x)) && !problem([name], 'must be a finite number')) return;
      if (
        typeof x === 'number' &&
        Number.isFinite(x) &&
        Math.abs(x) > MAX_FEATURE_VALUE &&
        !problem([name], FEATURE_RANGE_MESSAGE)
      )
        return;
    }
  });

/** The documented form of `featureInput` (OpenAPI cannot describe a hand-written check). */
const documentedFeatureInput = z.union([featureValues, z.array(z.number()).max(MAX_POSITIONAL_FEATURES)]);

const rankRequestOf = (features: typeof featureInput | typeof documentedFeatureInput) =>
  z.strictObject({
    experiment: z.string().regex(EXPERIMENT_KEY, 'must match ^[a-z0-9][a-z0-9_-]{1,63}$'),
    unitId: unitIdSchema,
    // The same rule as /v1/assign: top-level scalars, which is all targeting compares.
    attributes: attributesSchema.optional(),
    context: features.default({}),
    candidates: z
      .array(z.strictObject({ id: itemIdSchema, features: features.optional() }))
      .min(1, 'send at least one candidate')
      .max(MAX_CANDIDATES, `at most ${MAX_CANDIDATES} candidates per request`)
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((c, i) => {
          if (seen.has(c.id))
            ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate candidate id "${c.id}"` });
          seen.add(c.id);
        });
      }),
    slots: z.int().min(1).max(50).optional(),
    explain: z.boolean().default(false),
  });

export const rankRequestSchema = rankRequestOf(featureInput);
/** The same request for the OpenAPI document. */
export const rankRequestDocumentation = rankRequestOf(documentedFeatureInput);
export type RankRequest = z.infer<typeof rankRequestSchema>;

export const MAX_REWARDS = 10_000;

/**
 * Largest |value| of a reward, and of a slot's reward total, for any model (the beta model takes [0, 1]). The
 * linear, hybrid and neural-linear posteriors keep Σ r², Σ x·r and the noise scale bn = b0 + ½(Σ r² − μᵀΛμ) in
 * float64: with |r| ≤ 1e6 a square is ≤ 1e12, so Σ r² stays finite for any realistic count (overflow needs ~1e296
 * slot totals), and the rounding a correction leaves in Σ r² (ε·r² ≈ 1e-4) stays far below the prior b0 (6 by
 * default), so the difference Σ r² − μᵀΛμ keeps its meaning; a reward of 1e155 made Σ r² infinite and every score null.
 */
export const MAX_REWARD_VALUE = 1e6;
const REWARD_VALUE_MESSAGE = `must be a finite number with |value| ≤ ${MAX_REWARD_VALUE}`;

export const rewardsRequestSchema = z.strictObject({
  rewards: z
    .array(
      z.strictObject({
        decisionId: z.uuid({ message: 'must be the decisionId returned by /v1/rank' }),
        itemId: itemIdSchema,
        value: z
          .number({ message: REWARD_VALUE_MESSAGE })
          .refine((v) => Number.isFinite(v) && Math.abs(v) <= MAX_REWARD_VALUE, REWARD_VALUE_MESSAGE),
        eventId: z.string().min(1).max(256).optional(),
        timestamp: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
      }),
    )
    .min(1)
    .max(MAX_REWARDS, `at most ${MAX_REWARDS} rewards per call`),
});
export type RewardsRequest = z.infer<typeof rewardsRequestSchema>;

export interface RankedSlot {
  position: number;
  itemId: string;
  score: number | null;
  propensity: number | null;
  explored: boolean;
  coldStart: boolean;
  explanation?: {
    rankerScore: number | null;
    posteriorMean: number | null;
    drawnScore: number | null;
    standardDeviation: number | null;
    greedyItemId: string;
    explored: boolean;
    coldStart: boolean;
    impressions: number;
    contributions: Array<{ feature: string; value: number; coefficient: number; contribution: number }>;
  };
}

export interface RankResponse {
  decisionId: string | null;
  experiment: string;
  variant: string | null;
  modelVersion: string | null;
  reason?: string;
  slots: RankedSlot[];
  /** with `explain: true`: the stored (feature store) values used, by name — context, and per shown item */
  storedFeatures?: { context: Record<string, number>; items: Record<string, Record<string, number>> };
  /** with `explain: true` and a sequence ranker: the unit's last interacted items it saw, newest first, and their features */
  history?: { itemIds: string[]; features: number[][] };
}

/**
 * The key of one (decision, item) pair: a reward's slot. Clients send it as the `eventId` of a one-per-slot reward
 * (a retry then counts once); the API keys its per-slot sums by it.
 */
export function decisionItemKey(decisionId: string, itemId: string): string {
  return `${decisionId}:${itemId}`;
}
