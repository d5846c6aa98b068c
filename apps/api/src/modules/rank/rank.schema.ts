import { z } from 'zod';
import { EXPERIMENT_KEY } from '../experiments/experiment.schema';
import { featureValues, itemIdSchema } from '../items/item.schema';

export const MAX_CANDIDATES = 2000;

/** Features by name, or positionally in the order of the experiment's feature schema. */
const featureInput = z.union([featureValues, z.array(z.number().refine(Number.isFinite, 'must be a finite number')).max(4096)]);

export const rankRequestSchema = z.strictObject({
  experiment: z.string().regex(EXPERIMENT_KEY, 'must match ^[a-z0-9][a-z0-9_-]{1,63}$'),
  unitId: z.string().min(1).max(256),
  attributes: z.record(z.string(), z.unknown()).optional(),
  context: featureInput.default({}),
  candidates: z
    .array(z.strictObject({ id: itemIdSchema, features: featureInput.optional() }))
    .min(1, 'send at least one candidate')
    .max(MAX_CANDIDATES, `at most ${MAX_CANDIDATES} candidates per request`)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, i) => {
        if (seen.has(c.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate candidate id "${c.id}"` });
        seen.add(c.id);
      });
    }),
  slots: z.int().min(1).max(50).optional(),
  explain: z.boolean().default(false),
});
export type RankRequest = z.infer<typeof rankRequestSchema>;

export const MAX_REWARDS = 10_000;

export const rewardsRequestSchema = z.strictObject({
  rewards: z
    .array(
      z.strictObject({
        decisionId: z.uuid({ message: 'must be the decisionId returned by /v1/rank' }),
        itemId: itemIdSchema,
        value: z.number({ message: 'must be a finite number' }).refine(Number.isFinite, 'must be a finite number'),
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
}
