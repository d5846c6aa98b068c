import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { GroupCommit } from '../../common/group-commit';
import { isCitus, shardOrderedTransaction } from '../../database/citus';
import type { StoredShortlist } from './model-state.repository';

export interface NewDecision {
  id: string;
  experimentId: string;
  variantKey: string;
  unitId: string;
  seed: number;
  modelVersion: string;
  policy: unknown;
  context: number[];
  shortlist: StoredShortlist;
  candidateCount: number;
  replica: string;
  slots: Array<{
    position: number;
    itemId: string;
    shortlistIndex: number;
    score: number | null;
    propensity: number | null;
    explored: boolean;
    coldStart: boolean;
  }>;
}

/** A (decision, item) pair a reward names, with what is needed to validate it and to correct the posterior. */
export interface RewardTarget {
  decisionId: string;
  itemId: string;
  experimentId: string;
  variantKey: string;
  createdAt: Date;
  context: number[];
  /** null when the item was not shown in that decision */
  shortlistIndex: number | null;
  /** 1-based slot position (null when the item was not shown): the position model weighs the slot by it */
  position: number | null;
  features: number[] | null;
  embedding: number[] | null;
  slotReward: number | null;
}

export interface RewardRow {
  decisionId: string;
  itemId: string;
  value: number;
  eventId: string | null;
  occurredAt: Date;
  /** The range the slot's reward total must stay in once this reward is added (the model's range). */
  totalRange: readonly [number, number];
}

export interface AppliedReward {
  decisionId: string;
  itemId: string;
  /** slot reward total before and after this batch */
  before: number;
  after: number;
  seqs: string[];
}

/** A reward batch met a concurrent one storing the same eventId; SQLSTATE 40001 (serialization failure): retry. */
export class ConcurrentRewardError extends Error {
  readonly code = '40001';
  constructor() {
    super('A concurrent request stored a reward with the same eventId; retry the batch.');
  }
}

/** Most decisions one insert statement carries (a batch of 256 hybrid decisions is ~3 MB of JSON). */
const INSERT_BATCH_MAX = 256;

@Injectable()
export class DecisionsRepository implements OnModuleDestroy {
  /** Concurrent inserts share statements: the embedded database has one connection, where each statement queues. */
  private readonly inserts: GroupCommit<NewDecision>;

  constructor(private readonly db: DataSource) {
    // A server pool writes a few batches in parallel (measured: 2 beat 1 and 4 on a 2-core server); the rest of the pool serves reads.
    const poolSize = (db.options as { poolSize?: number }).poolSize ?? 1;
    this.inserts = new GroupCommit(
      (batch) => this.insertBatch(batch),
      INSERT_BATCH_MAX,
      Math.max(1, Math.floor(poolSize / 4)),
    );
  }

  /** A pending batch is written before the database closes (it closes after the modules are destroyed). */
  async onModuleDestroy(): Promise<void> {
    await this.inserts.drain();
  }

  /** The decision and its shown slots, written with the concurrent inserts' in one statement: durable when it resolves. */
  insert(d: NewDecision): Promise<void> {
    return this.inserts.submit(d);
  }

  private async insertBatch(batch: NewDecision[]): Promise<void> {
    // One jsonb parameter: decisions keep their order (their seq is the replay order), slots ride along.
    await this.db.query(
      `WITH input AS (
         SELECT e.ord, i.* FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, ord),
           jsonb_to_record(e.doc) AS i(id uuid, "experimentId" uuid, "variantKey" text, "unitId" text, seed bigint, "modelVersion" text,
             policy jsonb, context jsonb, shortlist jsonb, "candidateCount" int, replica text, slots jsonb)),
       d AS (
         INSERT INTO decisions (id, experiment_id, variant_key, unit_id, seed, model_version, policy, context, shortlist, candidate_count, replica)
         SELECT id, "experimentId", "variantKey", "unitId", seed, "modelVersion", policy, context, shortlist, "candidateCount", replica FROM input ORDER BY ord
         RETURNING id, created_at)
       INSERT INTO decision_slots (decision_id, experiment_id, variant_key, created_at, position, item_id, shortlist_index, score, propensity, explored, cold_start)
       SELECT d.id, i."experimentId", i."variantKey", d.created_at, s.position, s."itemId", s."shortlistIndex", s.score, s.propensity, s.explored, s."coldStart"
       FROM d JOIN input i ON i.id = d.id,
            jsonb_to_recordset(i.slots) AS s(position int, "itemId" text, "shortlistIndex" int, score float8, propensity float8, explored boolean, "coldStart" boolean)`,
      [JSON.stringify(batch)],
    );
  }

  /**
   * Deferred propensities (thompson `propensities: "deferred"`): sets the logged slots' propensities of already
   * stored decisions, many decisions in one statement. Rows are (decision id, item id, propensity).
   */
  async setPropensities(rows: Array<{ decisionId: string; itemId: string; propensity: number }>): Promise<void> {
    if (!rows.length) return;
    await this.db.query(
      `UPDATE decision_slots s SET propensity = u.propensity
       FROM unnest($1::uuid[], $2::text[], $3::float8[]) AS u(decision_id, item_id, propensity)
       WHERE s.decision_id = u.decision_id AND s.item_id = u.item_id`,
      [rows.map((r) => r.decisionId), rows.map((r) => r.itemId), rows.map((r) => r.propensity)],
    );
  }

  /** Erasure: decisions stay (the posterior and the reports need them) but lose their link to the unit. */
  async unlinkUnit(manager: EntityManager, unitId: string): Promise<number> {
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH d AS (UPDATE decisions SET unit_id = NULL WHERE unit_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    return n;
  }

  /**
   * Looks up the decisions and slots that rewards name (one query for the whole batch). The slots join on `d.id`
   * (equal to p.decision_id): Citus joins co-located tables only on their distribution columns.
   */
  async rewardTargets(pairs: Array<{ decisionId: string; itemId: string }>): Promise<RewardTarget[]> {
    if (!pairs.length) return [];
    return this.db.query(
      `SELECT p.decision_id AS "decisionId", p.item_id AS "itemId", d.experiment_id AS "experimentId", d.variant_key AS "variantKey",
              d.created_at AS "createdAt", d.context, s.shortlist_index AS "shortlistIndex", s.position,
              d.shortlist->'features'->s.shortlist_index AS features,
              d.shortlist->'embeddings'->(s.shortlist_index::text) AS embedding,
              s.reward AS "slotReward"
       FROM unnest($1::uuid[], $2::text[]) AS p(decision_id, item_id)
       JOIN decisions d ON d.id = p.decision_id
       LEFT JOIN decision_slots s ON s.decision_id = d.id AND s.item_id = p.item_id`,
      [pairs.map((p) => p.decisionId), pairs.map((p) => p.itemId)],
    );
  }

  /**
   * Locks the named slots (FOR UPDATE) in (decision, item) order, so concurrent batches cannot deadlock, and returns
   * their reward totals. Citus runs FOR UPDATE only on one shard per statement, so there it takes one statement per
   * decision (a decision's slots share its shard), in the same order; a plain server takes them in one statement.
   */
  private async lockSlots(
    m: EntityManager,
    slotKeys: Array<{ decisionId: string; itemId: string }>,
  ): Promise<Array<{ decision_id: string; item_id: string; reward: number }>> {
    if (!(await isCitus(this.db, m))) {
      return m.query(
        `SELECT s.decision_id, s.item_id, s.reward FROM decision_slots s
         JOIN unnest($1::uuid[], $2::text[]) AS p(decision_id, item_id) ON s.decision_id = p.decision_id AND s.item_id = p.item_id
         ORDER BY s.decision_id, s.item_id
         FOR UPDATE OF s`,
        [slotKeys.map((r) => r.decisionId), slotKeys.map((r) => r.itemId)],
      );
    }
    const byDecision = new Map<string, string[]>();
    // Lower-case canonical uuids compare as text in the order PostgreSQL sorts uuid values.
    for (const k of slotKeys) {
      const id = k.decisionId.toLowerCase();
      byDecision.set(id, [...(byDecision.get(id) ?? []), k.itemId]);
    }
    const locked: Array<{ decision_id: string; item_id: string; reward: number }> = [];
    for (const decisionId of [...byDecision.keys()].sort()) {
      locked.push(
        ...(await m.query(
          `SELECT decision_id, item_id, reward FROM decision_slots WHERE decision_id = $1 AND item_id = ANY($2::text[]) ORDER BY item_id FOR UPDATE`,
          [decisionId, byDecision.get(decisionId)],
        )),
      );
    }
    return locked;
  }

  /** The event ids among `eventIds` that a stored reward already has (retries are duplicates before any other check). */
  async existingRewardEventIds(eventIds: string[]): Promise<Set<string>> {
    if (!eventIds.length) return new Set();
    const rows: Array<{ event_id: string }> = await this.db.query(
      `SELECT event_id FROM rewards WHERE event_id = ANY($1::text[])`,
      [eventIds],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * Stores rewards and adds them to their slots in one transaction. The slots are locked first (in key order, so
   * concurrent batches cannot deadlock) and each row is checked against the slot's committed total plus the rows
   * before it in this batch: a row that would take the total outside its `totalRange` is not stored (`outOfRange`,
   * by row index, with the total it would have made), so concurrent batches can never leave a total no model can
   * take. A reward whose eventId was seen before is a duplicate and changes nothing. Returns the inserted rewards'
   * slot totals (before/after), the duplicate event ids and the rows refused for their range.
   */
  async storeRewards(
    rows: RewardRow[],
    replica: string,
  ): Promise<{
    applied: AppliedReward[];
    duplicateEventIds: Set<string>;
    outOfRange: Array<{ row: number; total: number }>;
  }> {
    return shardOrderedTransaction(this.db, async (m) => {
      const slotKeys = [...new Map(rows.map((r) => [`${r.decisionId}\u0000${r.itemId}`, r])).values()];
      const locked = await this.lockSlots(m, slotKeys);
      const stored = new Map(locked.map((l) => [`${l.decision_id}\u0000${l.item_id}`, l.reward]));
      const seen = await this.existingEventIdsIn(m, rows);
      // Per slot, the sum of this batch's admitted rows in order: the UPDATE below adds exactly this sum to the
      // stored total, so the check sees the same floating-point total the row will have.
      const batchSums = new Map<string, number>();
      const outOfRange: Array<{ row: number; total: number }> = [];
      const admitted: RewardRow[] = [];
      const duplicateEventIds = new Set<string>();
      rows.forEach((r, row) => {
        if (r.eventId !== null && seen.has(r.eventId)) return void duplicateEventIds.add(r.eventId);
        const k = `${r.decisionId}\u0000${r.itemId}`;
        const sum = (batchSums.get(k) ?? 0) + r.value;
        const total = (stored.get(k) ?? 0) + sum;
        if (!(total >= r.totalRange[0] && total <= r.totalRange[1])) return void outOfRange.push({ row, total });
        batchSums.set(k, sum);
        if (r.eventId !== null) seen.add(r.eventId);
        admitted.push(r);
      });
      if (!admitted.length) return { applied: [], duplicateEventIds, outOfRange };
      const inserted: Array<{
        seq: string;
        decision_id: string;
        item_id: string;
        value: number;
        event_id: string | null;
      }> = await m.query(
        `INSERT INTO rewards (event_id, decision_id, item_id, value, occurred_at, replica)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::float8[], $5::timestamptz[], $6::text[])
         ON CONFLICT DO NOTHING
         RETURNING seq::text, decision_id, item_id, value, event_id`,
        [
          admitted.map((r) => r.eventId),
          admitted.map((r) => r.decisionId),
          admitted.map((r) => r.itemId),
          admitted.map((r) => r.value),
          admitted.map((r) => r.occurredAt.toISOString()),
          admitted.map(() => replica),
        ],
      );
      const insertedEvents = new Set(inserted.filter((r) => r.event_id !== null).map((r) => r.event_id));
      // A concurrent batch committed one of these eventIds after the check above: the range check counted that row,
      // so roll back and let the client retry (503), when the row is classified as the duplicate it is.
      if (admitted.some((r) => r.eventId !== null && !insertedEvents.has(r.eventId))) throw new ConcurrentRewardError();
      const bySlot = new Map<
        string,
        { decisionId: string; itemId: string; sum: number; count: number; seqs: string[] }
      >();
      // Sums in the admitted order (the order the range check used), seqs from what was inserted.
      for (const r of admitted) {
        const k = `${r.decisionId}\u0000${r.itemId}`;
        const agg = bySlot.get(k) ?? { decisionId: r.decisionId, itemId: r.itemId, sum: 0, count: 0, seqs: [] };
        agg.sum += r.value;
        agg.count += 1;
        bySlot.set(k, agg);
      }
      for (const r of inserted) bySlot.get(`${r.decision_id}\u0000${r.item_id}`)!.seqs.push(r.seq);
      if (!bySlot.size) return { applied: [], duplicateEventIds, outOfRange };
      const aggs = [...bySlot.values()];
      // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
      const [updated]: [Array<{ decision_id: string; item_id: string; reward: number }>, number] = await m.query(
        `UPDATE decision_slots s SET reward = s.reward + u.total, reward_count = s.reward_count + u.n
         FROM unnest($1::uuid[], $2::text[], $3::float8[], $4::int[]) AS u(decision_id, item_id, total, n)
         WHERE s.decision_id = u.decision_id AND s.item_id = u.item_id
         RETURNING s.decision_id, s.item_id, s.reward`,
        [aggs.map((a) => a.decisionId), aggs.map((a) => a.itemId), aggs.map((a) => a.sum), aggs.map((a) => a.count)],
      );
      const after = new Map(updated.map((u) => [`${u.decision_id}\u0000${u.item_id}`, u.reward]));
      const applied = aggs.map((a) => {
        const total = after.get(`${a.decisionId}\u0000${a.itemId}`)!;
        return { decisionId: a.decisionId, itemId: a.itemId, before: total - a.sum, after: total, seqs: a.seqs };
      });
      return { applied, duplicateEventIds, outOfRange };
    });
  }

  private async existingEventIdsIn(m: EntityManager, rows: RewardRow[]): Promise<Set<string>> {
    const ids = rows.flatMap((r) => (r.eventId === null ? [] : [r.eventId]));
    if (!ids.length) return new Set();
    const found: Array<{ event_id: string }> = await m.query(
      `SELECT event_id FROM rewards WHERE event_id = ANY($1::text[])`,
      [ids],
    );
    return new Set(found.map((r) => r.event_id));
  }
}
