import { Injectable } from '@nestjs/common';
import type { ModelSnapshot } from '@slotwise/bandit';
import { DataSource } from 'typeorm';
import { addStats, PackedStats, packedColumns, packStats, unpackStats } from './stats-codec';

export interface UnappliedDecision {
  id: string;
  context: number[];
  shortlist: StoredShortlist;
  /** ordered by position (1-based) */
  slots: Array<{ itemId: string; shortlistIndex: number; position: number }>;
}

export interface UnappliedReward {
  seq: string;
  decisionId: string;
  variantKey: string;
  itemId: string;
  value: number;
  /** The slot's reward total including every reward (applied or not). */
  slotReward: number;
  /** the slot's 1-based position */
  position: number;
}

/** What a decision stores to be replayed or evaluated offline. */
export interface StoredShortlist {
  ids: string[];
  rankerScores: number[];
  /** item features of each shortlisted candidate, in schema order */
  features: number[][];
  /** ranker embeddings of the shown candidates, by shortlist index (neural-linear) */
  embeddings?: Record<string, number[]>;
  /** a sequence ranker's history input as scored (feature store); removed when the unit is erased */
  history?: DecisionHistory;
}

/** The unit's last interacted items the ranker saw, newest first, and their item feature rows (schema order). */
export interface DecisionHistory {
  itemIds: string[];
  features: number[][];
}

/** This process no longer holds its replica id (another process with the same SLOTWISE_REPLICA_ID took it over). */
export class ReplicaLeaseLostError extends Error {
  constructor(readonly replicaId: string) {
    super(
      `this process no longer holds replica id "${replicaId}": another process with the same SLOTWISE_REPLICA_ID took it over`,
    );
  }
}

@Injectable()
export class ModelStateRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The stored posterior of one variant (shared statistics + every item row), or null when none was flushed yet.
   * Both tables are read in one REPEATABLE READ transaction, i.e. from one snapshot: read separately, a flush
   * committed between the two reads gave item rows that the shared row does not contain (an inconsistent
   * posterior whose precision need not be positive definite).
   */
  async load(experimentId: string, variantKey: string): Promise<{ snapshot: ModelSnapshot; version: number } | null> {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const rows: Array<
        PackedStats & { model_type: ModelSnapshot['type']; config: ModelSnapshot['config']; version: string }
      > = await m.query(
        `SELECT model_type, config, stats_layout AS layout, stats_values AS "values", version FROM model_state WHERE experiment_id = $1 AND variant_key = $2`,
        [experimentId, variantKey],
      );
      if (!rows.length) return null;
      const items: Array<PackedStats & { item_id: string }> = await m.query(
        `SELECT item_id, stats_layout AS layout, stats_values AS "values" FROM model_item_state WHERE experiment_id = $1 AND variant_key = $2`,
        [experimentId, variantKey],
      );
      const stats = unpackStats(rows[0]) as ModelSnapshot['stats'];
      if (items.length || 'items' in stats)
        Object.assign(stats, { items: Object.fromEntries(items.map((r) => [r.item_id, unpackStats(r)])) });
      // The row holds what a flush of this model type wrote: the bandit library's snapshot of that type.
      const snapshot = { type: rows[0].model_type, version: 1, config: rows[0].config, stats } as ModelSnapshot;
      return { snapshot, version: Number(rows[0].version) };
    });
  }

  /** The stored version of a variant's posterior (0 when none was flushed): a cheap staleness check. */
  async storedVersion(experimentId: string, variantKey: string): Promise<number> {
    const rows: Array<{ version: string }> = await this.db.query(
      `SELECT version FROM model_state WHERE experiment_id = $1 AND variant_key = $2`,
      [experimentId, variantKey],
    );
    return rows.length ? Number(rows[0].version) : 0;
  }

  /**
   * Whether a flush whose outcome is unknown (its COMMIT failed or the connection broke) was committed: the
   * `in_model` mark of one of its rows tells, since the marks and the statistics change in one transaction. The
   * variant's row is locked first, so a flush transaction still running on the server finishes before the answer.
   */
  async flushCommitted(
    experimentId: string,
    variantKey: string,
    probe: { decisionId: string } | { rewardSeq: string },
  ): Promise<boolean> {
    return this.db.transaction(async (m) => {
      await m.query(`SELECT 1 FROM model_state WHERE experiment_id = $1 AND variant_key = $2 FOR UPDATE`, [
        experimentId,
        variantKey,
      ]);
      const rows: Array<{ in_model: boolean }> =
        'decisionId' in probe
          ? await m.query(`SELECT in_model FROM decisions WHERE id = $1`, [probe.decisionId])
          : await m.query(`SELECT in_model FROM rewards WHERE seq = $1`, [probe.rewardSeq]);
      return rows.length > 0 && rows[0].in_model;
    });
  }

  /**
   * Adds a delta to the stored statistics and marks the decisions and rewards it contains as applied, in one
   * transaction: the stored posterior and the `in_model` flags never disagree. Returns the stored version before
   * and after (another replica wrote in between when `before` differs from what this replica last saw).
   * With a `lease`, the transaction first checks (and holds, FOR SHARE) that this process still holds its replica
   * id: a process that lost it must not flush, since the new holder replays the same unflushed rows.
   */
  async addDelta(
    experimentId: string,
    variantKey: string,
    delta: ModelSnapshot,
    decisionIds: readonly string[],
    rewardSeqs: readonly string[],
    lease: { replicaId: string; holder: string } | null = null,
  ): Promise<{ before: number; after: number }> {
    return this.db.transaction(async (m) => {
      if (lease) {
        const held: unknown[] = await m.query(
          `SELECT 1 FROM replica_leases WHERE replica_id = $1 AND holder = $2 FOR SHARE`,
          [lease.replicaId, lease.holder],
        );
        if (!held.length) throw new ReplicaLeaseLostError(lease.replicaId);
      }
      const { items: itemDelta, ...sharedDelta }: { items?: Record<string, unknown> } = delta.stats;
      const lockState = (): Promise<Array<PackedStats & { version: string }>> =>
        m.query(
          `SELECT stats_layout AS layout, stats_values AS "values", version FROM model_state WHERE experiment_id = $1 AND variant_key = $2 FOR UPDATE`,
          [experimentId, variantKey],
        );
      let [row] = await lockState();
      if (!row) {
        // The first flush creates an empty state (a no-op if another replica just did) and locks it like any other.
        await m.query(
          `INSERT INTO model_state (experiment_id, variant_key, model_type, config, stats_layout, stats_values, version) VALUES ($1, $2, $3, $4::jsonb, '{}', '', 0)
           ON CONFLICT (experiment_id, variant_key) DO NOTHING`,
          [experimentId, variantKey, delta.type, JSON.stringify(delta.config)],
        );
        [row] = await lockState();
      }
      const shared = packStats(addStats(unpackStats(row, { views: true }), sharedDelta));
      const before = Number(row.version);
      await m.query(
        `UPDATE model_state SET stats_layout = $3::jsonb, stats_values = $4, version = version + 1, updated_at = now() WHERE experiment_id = $1 AND variant_key = $2`,
        [experimentId, variantKey, JSON.stringify(shared.layout), shared.values],
      );
      const ids = Object.keys(itemDelta ?? {});
      if (ids.length) {
        const stored: Array<PackedStats & { item_id: string }> = await m.query(
          `SELECT item_id, stats_layout AS layout, stats_values AS "values" FROM model_item_state
           WHERE experiment_id = $1 AND variant_key = $2 AND item_id = ANY($3) FOR UPDATE`,
          [experimentId, variantKey, ids],
        );
        const current = new Map(stored.map((r) => [r.item_id, unpackStats(r, { views: true })]));
        const merged = packedColumns(ids.map((id) => packStats(addStats(current.get(id), itemDelta![id]))));
        await m.query(
          `INSERT INTO model_item_state (experiment_id, variant_key, item_id, stats_layout, stats_values)
           SELECT $1, $2, u.item_id, u.layout, substring($5::bytea FROM u.start + 1 FOR u.length)
           FROM unnest($3::text[], $4::jsonb[], $6::int[], $7::int[]) AS u(item_id, layout, start, length)
           ON CONFLICT (experiment_id, variant_key, item_id) DO UPDATE SET stats_layout = EXCLUDED.stats_layout, stats_values = EXCLUDED.stats_values`,
          [experimentId, variantKey, ids, merged.layouts, merged.values, merged.starts, merged.lengths],
        );
      }
      if (decisionIds.length)
        await m.query(`UPDATE decisions SET in_model = true WHERE id = ANY($1::uuid[])`, [decisionIds]);
      if (rewardSeqs.length)
        await m.query(`UPDATE rewards SET in_model = true WHERE seq = ANY($1::bigint[])`, [rewardSeqs]);
      return { before, after: before + 1 };
    });
  }

  /** This replica's decisions whose observations are not in the stored posterior (lost at a crash): replayed at load. */
  unappliedDecisions(replica: string, experimentId: string, variantKey: string): Promise<UnappliedDecision[]> {
    return this.db.query(
      `SELECT d.id, d.context, d.shortlist,
              COALESCE(json_agg(json_build_object('itemId', s.item_id, 'shortlistIndex', s.shortlist_index, 'position', s.position) ORDER BY s.position), '[]') AS slots
       FROM decisions d JOIN decision_slots s ON s.decision_id = d.id
       WHERE NOT d.in_model AND d.replica = $1 AND d.experiment_id = $2 AND d.variant_key = $3
       GROUP BY d.id ORDER BY d.seq`,
      [replica, experimentId, variantKey],
    );
  }

  unappliedRewards(replica: string, experimentId: string, variantKey: string): Promise<UnappliedReward[]> {
    return this.db.query(
      `SELECT r.seq::text AS seq, r.decision_id AS "decisionId", d.variant_key AS "variantKey", r.item_id AS "itemId", r.value, s.reward AS "slotReward", s.position
       FROM rewards r JOIN decisions d ON d.id = r.decision_id JOIN decision_slots s ON s.decision_id = r.decision_id AND s.item_id = r.item_id
       WHERE NOT r.in_model AND r.replica = $1 AND d.experiment_id = $2 AND d.variant_key = $3
       ORDER BY r.seq`,
      [replica, experimentId, variantKey],
    );
  }

  /** Contexts and shortlists of decisions (rewards replayed for decisions already in the snapshot). */
  decisionContexts(ids: string[]): Promise<Array<{ id: string; context: number[]; shortlist: StoredShortlist }>> {
    if (!ids.length) return Promise.resolve([]);
    return this.db.query(`SELECT id, context, shortlist FROM decisions WHERE id = ANY($1::uuid[])`, [ids]);
  }

  /** Shown-slot counts per item in an experiment (cold-start bookkeeping). */
  async impressions(experimentId: string): Promise<Map<string, number>> {
    const rows: Array<{ item_id: string; n: string }> = await this.db.query(
      `SELECT item_id, count(*) AS n FROM decision_slots WHERE experiment_id = $1 GROUP BY item_id`,
      [experimentId],
    );
    return new Map(rows.map((r) => [r.item_id, Number(r.n)]));
  }
}
