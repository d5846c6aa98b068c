import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { LoggedDecision } from './decision-log.schema';

/** Reads of the decision log (decisions + decision_slots) for the console's decisions explorer. */
@Injectable()
export class DecisionLogRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The newest `limit` decisions of an experiment made strictly before `before` (all when null), optionally of one
   * variant, each with its shown slots in position order. `at` keeps the stored microseconds so that passing it back
   * as `before` skips nothing; decisions with the very same timestamp as a page's last one are the only ones a page
   * boundary can drop.
   */
  async recent(
    experimentId: string,
    limit: number,
    before: string | null,
    variant: string | null,
  ): Promise<LoggedDecision[]> {
    return this.db.query(
      // One SELECT over decisions, no CTE: Citus refuses a correlated subquery when the FROM clause holds a CTE or
      // subquery. Without one it runs the slot subquery beside each decision on its shard (slots are co-located with
      // their decision), and PostgreSQL evaluates it only for the rows the LIMIT keeps.
      `SELECT d.id AS "decisionId",
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
              d.unit_id AS "unitId", d.variant_key AS variant, d.model_version AS "modelVersion", d.policy->>'type' AS policy,
              COALESCE((
                SELECT jsonb_agg(jsonb_build_object(
                         'position', s.position, 'itemId', s.item_id, 'score', s.score, 'propensity', s.propensity,
                         'explored', s.explored, 'coldStart', s.cold_start, 'reward', s.reward, 'rewardCount', s.reward_count,
                         'explanation', jsonb_build_object(
                           'shortlistIndex', s.shortlist_index,
                           'rankerScore', d.shortlist->'rankerScores'->s.shortlist_index,
                           'itemFeatures', d.shortlist->'features'->s.shortlist_index,
                           'shortlistSize', jsonb_array_length(d.shortlist->'ids'),
                           'candidateCount', d.candidate_count))
                       ORDER BY s.position)
                FROM decision_slots s WHERE s.decision_id = d.id), '[]'::jsonb) AS slots
       FROM decisions d
       WHERE d.experiment_id = $1 AND ($2::timestamptz IS NULL OR d.created_at < $2::timestamptz) AND ($3::text IS NULL OR d.variant_key = $3::text)
       ORDER BY d.created_at DESC, d.seq DESC
       LIMIT $4`,
      [experimentId, before, variant, limit],
    );
  }
}
