import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredShortlist } from '../rank/model-state.repository';
import type { OpeResult, OpeRunView } from './ope.schema';

/** One logged decision as evaluation reads it: its inputs and its shown slots with propensities and rewards. */
export interface LoggedDecisionRow {
  seq: string;
  id: string;
  variantKey: string;
  context: number[];
  shortlist: StoredShortlist;
  /** ordered by position */
  slots: Array<{ position: number; itemId: string; shortlistIndex: number; propensity: number | null; reward: number }>;
  /** when the decision was made (ISO; shadow reads) */
  createdAt?: string;
  /** a shadow's π(item i at position j) over the shortlist, k × n row-major, logged at decision time (shadow reads) */
  targetProbs?: number[];
}

/** A shadow decision as `GET …/ope/shadows/{variant}/decisions` shows it. */
export interface ShadowDecisionView {
  decisionId: string;
  at: string;
  seed: number;
  modelVersion: string;
  servedVariant: string;
  servedSlots: Array<{ position: number; itemId: string; propensity: number | null; reward: number }>;
  shadowSlots: Array<{
    position: number;
    itemId: string;
    shortlistIndex: number;
    score: number | null;
    propensity: number | null;
  }>;
}

/** One shadow decision logged beside a served one. */
export interface NewShadowDecision {
  decisionId: string;
  variantKey: string;
  experimentId: string;
  seed: number;
  modelVersion: string;
  slots: Array<{
    position: number;
    itemId: string;
    shortlistIndex: number;
    score: number | null;
    propensity: number | null;
  }>;
  probs: number[];
}

export interface LogFilter {
  experimentId: string;
  /** only these variants' decisions (null = every variant) */
  variantKeys: string[] | null;
  from: string | null;
  to: string | null;
}

export interface NewImportedDecision {
  id: string;
  externalId: string;
  experimentId: string;
  variantKey: string;
  unitId: string | null;
  createdAt: string;
  context: number[];
  shortlist: StoredShortlist;
  slots: Array<{ position: number; itemId: string; shortlistIndex: number; propensity: number; reward: number }>;
}

/** Reads of the decision log for off-policy evaluation, imported decisions, and OPE runs. */
@Injectable()
export class OpeRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * One page of logged decisions after `afterSeq` (log order), with their slots. Pages keep memory bounded however
   * long the log is.
   */
  async page(filter: LogFilter, afterSeq: string, limit: number): Promise<LoggedDecisionRow[]> {
    return this.db.query(
      `SELECT d.seq::text AS seq, d.id, d.variant_key AS "variantKey", d.context, d.shortlist,
              (SELECT json_agg(json_build_object('position', s.position, 'itemId', s.item_id, 'shortlistIndex', s.shortlist_index,
                                                 'propensity', s.propensity, 'reward', s.reward) ORDER BY s.position)
                 FROM decision_slots s WHERE s.decision_id = d.id) AS slots
       FROM decisions d
       WHERE d.experiment_id = $1 AND ($2::text[] IS NULL OR d.variant_key = ANY($2::text[]))
         AND ($3::timestamptz IS NULL OR d.created_at >= $3) AND ($4::timestamptz IS NULL OR d.created_at < $4)
         AND d.seq > $5::bigint
       ORDER BY d.seq LIMIT $6`,
      [filter.experimentId, filter.variantKeys, filter.from, filter.to, afterSeq, limit],
    );
  }

  /** Decisions in the window (to size the job and to reject an empty window before starting). */
  async count(filter: LogFilter): Promise<number> {
    const [{ n }] = await this.db.query(
      `SELECT count(*)::int AS n FROM decisions d
       WHERE d.experiment_id = $1 AND ($2::text[] IS NULL OR d.variant_key = ANY($2::text[]))
         AND ($3::timestamptz IS NULL OR d.created_at >= $3) AND ($4::timestamptz IS NULL OR d.created_at < $4)`,
      [filter.experimentId, filter.variantKeys, filter.from, filter.to],
    );
    return n;
  }

  /**
   * Imported decisions and their slots in one statement; a decision whose id is already stored is skipped with its
   * slots (idempotent by decision id). Imported rows are `in_model`: no replica replays them into a posterior.
   * Returns the ids inserted now.
   */
  async insertImported(batch: NewImportedDecision[]): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `WITH input AS (
         SELECT e.ord, i.* FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, ord),
           jsonb_to_record(e.doc) AS i(id uuid, "externalId" text, "experimentId" uuid, "variantKey" text, "unitId" text, "createdAt" timestamptz,
             context jsonb, shortlist jsonb, slots jsonb)),
       d AS (
         INSERT INTO decisions (id, experiment_id, variant_key, unit_id, created_at, seed, model_version, policy, context, shortlist, candidate_count,
                                replica, in_model, imported, external_id)
         SELECT id, "experimentId", "variantKey", "unitId", "createdAt", 0, 'imported', '{"type":"external"}'::jsonb, context, shortlist,
                jsonb_array_length(shortlist->'ids'), 'import', true, true, "externalId"
         FROM input ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING id, created_at),
       s AS (
         INSERT INTO decision_slots (decision_id, experiment_id, variant_key, created_at, position, item_id, shortlist_index, score, propensity,
                                     explored, cold_start, reward, reward_count)
         SELECT d.id, i."experimentId", i."variantKey", d.created_at, s.position, s."itemId", s."shortlistIndex", NULL, s.propensity, false, false,
                s.reward, 1
         FROM d JOIN input i ON i.id = d.id,
              jsonb_to_recordset(i.slots) AS s(position int, "itemId" text, "shortlistIndex" int, propensity float8, reward float8))
       SELECT id::text FROM d`,
      [JSON.stringify(batch)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Shadow decisions, batched. The row takes its served decision's time; a row whose served decision is gone (erased
   * experiment) or that is already stored is skipped. Returns the rows inserted.
   */
  async insertShadow(batch: NewShadowDecision[]): Promise<number> {
    const rows: Array<{ n: number }> = await this.db.query(
      `WITH input AS (
         SELECT i.* FROM jsonb_to_recordset($1::jsonb) AS i("decisionId" uuid, "variantKey" text, "experimentId" uuid, seed bigint, "modelVersion" text, slots jsonb, probs jsonb)),
       ins AS (
         INSERT INTO shadow_decisions (decision_id, variant_key, experiment_id, created_at, seed, model_version, slots, probs)
         SELECT i."decisionId", i."variantKey", i."experimentId", d.created_at, i.seed, i."modelVersion", i.slots, i.probs
         FROM input i JOIN decisions d ON d.id = i."decisionId"
         ON CONFLICT DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS n FROM ins`,
      [JSON.stringify(batch)],
    );
    return rows[0].n;
  }

  /** Served decisions that a shadow variant decided beside, with its logged distribution, in log order (paged). */
  async shadowPage(
    filter: LogFilter & { shadow: string },
    afterSeq: string,
    limit: number,
  ): Promise<LoggedDecisionRow[]> {
    return this.db.query(
      `SELECT d.seq::text AS seq, d.id, d.variant_key AS "variantKey", d.context, d.shortlist,
              to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt", sd.probs AS "targetProbs",
              (SELECT json_agg(json_build_object('position', s.position, 'itemId', s.item_id, 'shortlistIndex', s.shortlist_index,
                                                 'propensity', s.propensity, 'reward', s.reward) ORDER BY s.position)
                 FROM decision_slots s WHERE s.decision_id = d.id) AS slots
       FROM shadow_decisions sd JOIN decisions d ON d.id = sd.decision_id
       WHERE sd.experiment_id = $1 AND sd.variant_key = $2 AND ($3::text[] IS NULL OR d.variant_key = ANY($3::text[]))
         AND ($4::timestamptz IS NULL OR sd.created_at >= $4) AND ($5::timestamptz IS NULL OR sd.created_at < $5)
         AND d.seq > $6::bigint
       ORDER BY d.seq LIMIT $7`,
      [filter.experimentId, filter.shadow, filter.variantKeys, filter.from, filter.to, afterSeq, limit],
    );
  }

  /** A shadow's logged decisions beside the served ones, newest first: both slates with their propensities. */
  async shadowDecisions(
    experimentId: string,
    shadow: string,
    before: string | null,
    limit: number,
  ): Promise<ShadowDecisionView[]> {
    return this.db.query(
      `SELECT sd.decision_id AS "decisionId", to_char(sd.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, sd.seed::float8 AS seed,
              sd.model_version AS "modelVersion", sd.slots AS "shadowSlots", d.variant_key AS "servedVariant",
              (SELECT json_agg(json_build_object('position', s.position, 'itemId', s.item_id, 'propensity', s.propensity, 'reward', s.reward) ORDER BY s.position)
                 FROM decision_slots s WHERE s.decision_id = d.id) AS "servedSlots"
       FROM shadow_decisions sd JOIN decisions d ON d.id = sd.decision_id
       WHERE sd.experiment_id = $1 AND sd.variant_key = $2 AND ($3::timestamptz IS NULL OR sd.created_at < $3)
       ORDER BY sd.created_at DESC, sd.decision_id LIMIT $4`,
      [experimentId, shadow, before, limit],
    );
  }

  /** Shadow decisions logged per shadow variant in the window (and the served decisions in it, to tell what was missed). */
  async shadowCounts(
    experimentId: string,
    from: string | null,
    to: string | null,
  ): Promise<{ served: number; shadows: Record<string, number> }> {
    const rows: Array<{ variant: string; n: number }> = await this.db.query(
      `SELECT variant_key AS variant, count(*)::int AS n FROM shadow_decisions
       WHERE experiment_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3) GROUP BY variant_key`,
      [experimentId, from, to],
    );
    const [{ n }] = await this.db.query(
      `SELECT count(*)::int AS n FROM decisions
       WHERE experiment_id = $1 AND NOT imported AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)`,
      [experimentId, from, to],
    );
    return { served: n, shadows: Object.fromEntries(rows.map((r) => [r.variant, r.n])) };
  }

  /**
   * What the cross-check reads, summarised: decisions (count, last seq), rewards (slot reward counts and sums) and
   * shadow rows. Any new decision, reward or shadow row changes it; an unchanged log keeps it.
   */
  async dataVersion(experimentId: string): Promise<string> {
    const [r] = await this.db.query(
      `SELECT (SELECT count(*)::text || ':' || coalesce(max(seq), 0)::text FROM decisions WHERE experiment_id = $1) AS decisions,
              (SELECT coalesce(sum(reward_count), 0)::text || ':' || coalesce(sum(reward), 0)::text FROM decision_slots WHERE experiment_id = $1) AS rewards,
              (SELECT count(*)::text FROM shadow_decisions WHERE experiment_id = $1) AS shadows`,
      [experimentId],
    );
    return `${r.decisions}|${r.rewards}|${r.shadows}`;
  }

  /** Catalog items that existed at `at` (created no later), by id, at most `limit` (the catalog at that time). */
  async catalogAt(at: string, limit: number): Promise<Array<{ id: string; createdAt: string }>> {
    return this.db.query(
      `SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt" FROM items WHERE created_at <= $1 ORDER BY created_at, id LIMIT $2`,
      [at, limit],
    );
  }

  async insertRun(run: {
    id: string;
    experimentId: string;
    request: unknown;
    createdBy: string | null;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO ope_runs (id, experiment_id, status, request, created_by) VALUES ($1, $2, 'running', $3, $4)`,
      [run.id, run.experimentId, JSON.stringify(run.request), run.createdBy],
    );
  }

  async progress(id: string, progress: number): Promise<void> {
    await this.db.query(`UPDATE ope_runs SET progress = $2 WHERE id = $1 AND status = 'running'`, [id, progress]);
  }

  async finish(id: string, outcome: { result: OpeResult } | { error: OpeRunView['error'] }): Promise<void> {
    if ('result' in outcome) {
      await this.db.query(
        `UPDATE ope_runs SET status = 'succeeded', progress = 1, result = $2, finished_at = now() WHERE id = $1`,
        [id, JSON.stringify(outcome.result)],
      );
    } else {
      await this.db.query(`UPDATE ope_runs SET status = 'failed', error = $2, finished_at = now() WHERE id = $1`, [
        id,
        JSON.stringify(outcome.error),
      ]);
    }
  }

  async run(experimentId: string, id: string): Promise<Omit<OpeRunView, 'experiment'> | null> {
    const rows = await this.db.query(`${RUN_SELECT} WHERE experiment_id = $1 AND id = $2`, [experimentId, id]);
    return rows[0] ?? null;
  }

  /** Newest first. */
  async runs(experimentId: string, limit: number): Promise<Array<Omit<OpeRunView, 'experiment'>>> {
    return this.db.query(`${RUN_SELECT} WHERE experiment_id = $1 ORDER BY created_at DESC LIMIT $2`, [
      experimentId,
      limit,
    ]);
  }
}

const RUN_SELECT = `SELECT id, status, progress, request, result, error,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "createdAt",
  to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "finishedAt"
  FROM ope_runs`;
