import { z } from 'zod';
import type { RankedSlot } from './rank';

export const MAX_DECISIONS_PAGE = 100;

const limitMessage = `must be an integer from 1 to ${MAX_DECISIONS_PAGE}`;

/** `GET /v1/experiments/{key}/decisions`: newest first, `before` (exclusive) pages back in time. */
export const decisionsQuerySchema = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,6}$/, limitMessage)
    .transform(Number)
    .pipe(z.int().min(1, limitMessage).max(MAX_DECISIONS_PAGE, limitMessage))
    .optional(),
  /** Only decisions made strictly before this instant (pass the previous page's `nextBefore`). */
  before: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  variant: z.string().min(1).max(64).optional(),
});
export type DecisionsQuery = z.infer<typeof decisionsQuerySchema>;

/** What the decision log stored about one shown slot; nothing here is recomputed. */
export interface LoggedSlot extends Omit<RankedSlot, 'explanation'> {
  /** Σ of the rewards received for this slot so far (0 when none) */
  reward: number;
  rewardCount: number;
  explanation: {
    /** index of the item in the decision's shortlist (the ranker's top-N order) */
    shortlistIndex: number;
    /** the ranker's score of the item, from the stored shortlist */
    rankerScore: number | null;
    /** the item's features as the ranker and the bandit saw them, in the experiment's feature-schema order */
    itemFeatures: number[] | null;
    shortlistSize: number;
    candidateCount: number;
  };
}

export interface LoggedDecision {
  decisionId: string;
  /** ISO 8601 with microseconds (the stored precision), usable as `before` */
  at: string;
  unitId: string | null;
  variant: string;
  modelVersion: string;
  policy: string | null;
  slots: LoggedSlot[];
}
