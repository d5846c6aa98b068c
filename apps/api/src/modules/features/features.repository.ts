import { Injectable } from '@nestjs/common';
import type { BucketState } from '@slotwise/features';
import { DataSource, EntityManager } from 'typeorm';
import { isCitus } from '../../database/citus';
import type { FeatureDefinitionInput, FeatureDefinitionView } from './feature.schema';

interface RawDefinition {
  name: string;
  entity: 'unit' | 'item';
  source: FeatureDefinitionInput['source'];
  aggregation: FeatureDefinitionInput['aggregation'];
  window_spec: FeatureDefinitionInput['window'];
  default_value: number;
  description: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const viewOf = (r: RawDefinition): FeatureDefinitionView => ({
  name: r.name,
  entity: r.entity,
  source: r.source,
  aggregation: r.aggregation,
  window: r.window_spec,
  defaultValue: r.default_value,
  description: r.description,
  version: r.version,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** One row of feature state to add (a folded batch: see libs/features `foldEvents`). */
export interface StateRow extends BucketState {
  entityId: string;
  /** entity, source and window (see CompiledFeature.stateKey) */
  stateKey: string;
  /** decayed windows only */
  halfLifeMs: number | null;
}

export interface StoredState extends BucketState {
  entityId: string;
  stateKey: string;
}

/** A unit's event-sourced feature states by state key (one `unit_feature_state` row, migration UnitFeatureState1766000000000). */
export type UnitStates = Map<string, BucketState[]>;

/** A bucket as stored in `unit_feature_state.states`: [bucket, count, sum, ref_ms, last_ms, last_value]. */
type PackedBucket = [number, number, number, number | null, number, number];

const unpackStates = (raw: string): UnitStates => {
  const obj = JSON.parse(raw) as Record<string, PackedBucket[]>;
  return new Map(
    Object.entries(obj).map(([key, buckets]) => [
      key,
      buckets.map(([bucket, count, sum, refMs, lastMs, lastValue]) => ({
        bucket,
        count,
        sum,
        refMs,
        lastMs,
        lastValue,
      })),
    ]),
  );
};

const packStates = (states: UnitStates): string =>
  JSON.stringify(
    Object.fromEntries(
      [...states].map(([key, list]) => [
        key,
        list.map((b) => [b.bucket, b.count, b.sum, b.refMs, b.lastMs, b.lastValue]),
      ]),
    ),
  );

/** An accepted event waiting in `feature_queue` (migration FeatureQueue1765900000000). */
export interface QueuedEvent {
  unitId: string;
  metric: string;
  value: number;
  /** the event's timestamp, epoch ms */
  ms: number;
  /** when its write was received, epoch ms */
  receivedMs: number;
  writeId: string;
}

/** Advisory lock key of the feature queue ("swfeat"): one batch at a time across all replicas, and erasure waits for it. */
const FEATURE_QUEUE_LOCK = 0x737766656174;
/** An event's timestamp as epoch milliseconds (timestamps are stored at millisecond precision). */
const TS_MS = `(extract(epoch FROM ts) * 1000)::int8`;

/** Feature definitions and the per-entity feature state: every SQL call of the feature store. */
@Injectable()
export class FeaturesRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async findDefinition(name: string, manager: EntityManager = this.db.manager): Promise<FeatureDefinitionView | null> {
    const rows: RawDefinition[] = await manager.query(`SELECT * FROM feature_definitions WHERE name = $1`, [name]);
    return rows.length ? viewOf(rows[0]) : null;
  }

  async listDefinitions(manager: EntityManager = this.db.manager): Promise<FeatureDefinitionView[]> {
    const rows: RawDefinition[] = await manager.query(`SELECT * FROM feature_definitions ORDER BY name`);
    return rows.map(viewOf);
  }

  /** False when the name is taken. */
  async insertDefinition(manager: EntityManager, d: FeatureDefinitionInput): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO feature_definitions (name, entity, source, aggregation, window_spec, default_value, description)
       VALUES ($1, $2, $3::jsonb, $4, $5::jsonb, $6, $7) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [
        d.name,
        d.entity,
        JSON.stringify(d.source),
        d.aggregation,
        JSON.stringify(d.window),
        d.defaultValue,
        d.description,
      ],
    );
    return rows.length === 1;
  }

  /** Optimistic update of what a patch may change; false when someone changed the row since `expectedVersion`. */
  async updateDefinition(
    manager: EntityManager,
    name: string,
    patch: { defaultValue: number; description: string },
    expectedVersion: number,
  ): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE feature_definitions SET default_value = $2, description = $3, version = version + 1, updated_at = now()
       WHERE name = $1 AND version = $4 RETURNING name`,
      [name, patch.defaultValue, patch.description, expectedVersion],
    );
    return rows.length === 1;
  }

  /** Whether events may carry this metric: a metric definition names it, or stored events already do (index probe). */
  async metricKnown(metric: string): Promise<boolean> {
    const [{ known }]: [{ known: boolean }] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM metric_definitions WHERE $1 IN (key, event, numerator, denominator))
           OR EXISTS (SELECT 1 FROM events WHERE metric = $1) AS known`,
      [metric],
    );
    return known;
  }

  /**
   * Adds folded states in one statement. Sliding buckets add counts and sums; a decayed state (half_life_ms set)
   * is merged as in libs/features `merge`: both sides valued at the later reference time. The SET expressions read
   * the old row, so the merge is one multiply-add per side. Rows go in (entity, state key, bucket) order so that
   * concurrent writers lock rows in the same order (no deadlock).
   */
  async addStates(rows: StateRow[], manager: EntityManager = this.db.manager): Promise<void> {
    if (!rows.length) return;
    rows.sort((a, b) =>
      a.entityId < b.entityId
        ? -1
        : a.entityId > b.entityId
          ? 1
          : a.stateKey < b.stateKey
            ? -1
            : a.stateKey > b.stateKey
              ? 1
              : a.bucket - b.bucket,
    );
    const decayed = (col: 'count' | 'sum') =>
      `s.${col} * power(2::float8, (s.ref_ms - greatest(s.ref_ms, excluded.ref_ms))::float8 / s.half_life_ms)
       + excluded.${col} * power(2::float8, (excluded.ref_ms - greatest(s.ref_ms, excluded.ref_ms))::float8 / s.half_life_ms)`;
    await manager.query(
      `INSERT INTO feature_state AS s (entity_id, state_key, bucket, count, sum, ref_ms, half_life_ms, last_ms, last_value)
       SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::float8[], $5::float8[], $6::int8[], $7::float8[], $8::int8[], $9::float8[])
       ON CONFLICT (entity_id, state_key, bucket) DO UPDATE SET
         count = CASE WHEN s.half_life_ms IS NULL THEN s.count + excluded.count ELSE ${decayed('count')} END,
         sum = CASE WHEN s.half_life_ms IS NULL THEN s.sum + excluded.sum ELSE ${decayed('sum')} END,
         ref_ms = greatest(s.ref_ms, excluded.ref_ms),
         last_value = CASE WHEN excluded.last_ms > s.last_ms OR (excluded.last_ms = s.last_ms AND excluded.last_value > s.last_value) THEN excluded.last_value ELSE s.last_value END,
         last_ms = greatest(s.last_ms, excluded.last_ms)`,
      [
        rows.map((r) => r.entityId),
        rows.map((r) => r.stateKey),
        rows.map((r) => r.bucket),
        rows.map((r) => r.count),
        rows.map((r) => r.sum),
        rows.map((r) => r.refMs),
        rows.map((r) => r.halfLifeMs),
        rows.map((r) => r.lastMs),
        rows.map((r) => r.lastValue),
      ],
    );
  }

  /**
   * The stored states of these entities under these state keys — `feature_state` rows, and for units (`units`) their
   * `unit_feature_state` row — and, in the same statement, so in one snapshot, their entries still in
   * `feature_queue` for these metrics (read-through). A queue batch deletes its entries and writes their state in
   * one transaction, so each event is seen exactly once: in the state or in the queue.
   */
  async statesReadThrough(
    entityIds: readonly string[],
    stateKeys: readonly string[],
    metrics: readonly string[],
    units: boolean,
    manager: EntityManager = this.db.manager,
  ): Promise<{ states: StoredState[]; queued: QueuedEvent[] }> {
    if (!entityIds.length || !stateKeys.length) return { states: [], queued: [] };
    const rows: Array<{
      k: number;
      entity_id: string;
      state_key: string;
      bucket: string;
      count: number;
      sum: number;
      ref_ms: string | null;
      last_ms: string;
      last_value: number;
      states: string | null;
    }> = await manager.query(
      `SELECT 0 AS k, entity_id, state_key, bucket, count, sum, ref_ms, last_ms, last_value, NULL::text AS states FROM feature_state WHERE entity_id = ANY($1::text[]) AND state_key = ANY($2::text[])
       UNION ALL
       SELECT 1, unit_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, states FROM unit_feature_state WHERE $4::bool AND unit_id = ANY($1::text[])
       UNION ALL
       SELECT 2, unit_id, metric, NULL, NULL, value, NULL, ${TS_MS}, NULL, NULL FROM feature_queue WHERE $3::text[] <> '{}' AND unit_id = ANY($1::text[]) AND metric = ANY($3::text[])`,
      [entityIds, stateKeys, metrics, units],
    );
    const states: StoredState[] = [];
    const queued: QueuedEvent[] = [];
    const wanted = new Set(stateKeys);
    for (const r of rows) {
      if (r.k === 2)
        queued.push({
          unitId: r.entity_id,
          metric: r.state_key,
          value: r.sum,
          ms: Number(r.last_ms),
          receivedMs: 0,
          writeId: '',
        });
      else if (r.k === 1) {
        for (const [stateKey, list] of unpackStates(r.states!))
          if (wanted.has(stateKey)) for (const b of list) states.push({ ...b, entityId: r.entity_id, stateKey });
      } else
        states.push({
          entityId: r.entity_id,
          stateKey: r.state_key,
          bucket: Number(r.bucket),
          count: r.count,
          sum: r.sum,
          refMs: r.ref_ms === null ? null : Number(r.ref_ms),
          lastMs: Number(r.last_ms),
          lastValue: r.last_value,
        });
    }
    return { states, queued };
  }

  /**
   * The `unit_feature_state` rows of these units, inside the queue batch's transaction (which holds the queue lock:
   * no other writer of these rows runs meanwhile, so no row lock is needed). Units without a row are absent.
   */
  async unitStates(manager: EntityManager, unitIds: readonly string[]): Promise<Map<string, UnitStates>> {
    if (!unitIds.length) return new Map();
    const rows: Array<{ unit_id: string; states: string }> = await manager.query(
      `SELECT unit_id, states FROM unit_feature_state WHERE unit_id = ANY($1::text[])`,
      [unitIds],
    );
    return new Map(rows.map((r) => [r.unit_id, unpackStates(r.states)]));
  }

  /** Writes these units' whole event-sourced states in one multi-row upsert (inside the queue batch's transaction). */
  async putUnitStates(manager: EntityManager, units: ReadonlyMap<string, UnitStates>): Promise<void> {
    if (!units.size) return;
    const ids = [...units.keys()].sort();
    await manager.query(
      `INSERT INTO unit_feature_state (unit_id, states) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (unit_id) DO UPDATE SET states = excluded.states`,
      [ids, ids.map((id) => packStates(units.get(id)!))],
    );
  }

  /** Which of these units still have entries in the queue (inside the batch's transaction, after its take). */
  async unitsStillQueued(manager: EntityManager, unitIds: readonly string[]): Promise<Set<string>> {
    if (!unitIds.length) return new Set();
    const rows: Array<{ unit_id: string }> = await manager.query(
      `SELECT DISTINCT unit_id FROM feature_queue WHERE unit_id = ANY($1::text[])`,
      [unitIds],
    );
    return new Set(rows.map((r) => r.unit_id));
  }

  /** The feature-queue lock for this transaction: `wait` blocks until another replica's batch is done, else false when one runs. */
  async lockQueue(manager: EntityManager, wait: boolean): Promise<boolean> {
    if (wait) {
      await manager.query(`SELECT pg_advisory_xact_lock($1)`, [FEATURE_QUEUE_LOCK]);
      return true;
    }
    const [{ locked }]: [{ locked: boolean }] = await manager.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [
      FEATURE_QUEUE_LOCK,
    ]);
    return locked;
  }

  /**
   * Takes (deletes and returns) up to `limit` queued events, inside the caller's transaction (which holds the queue
   * lock). `withStates`: in the same statement, the `unit_feature_state` rows of the units taken (the take and the
   * row read in one round trip; no row lock is needed, the queue lock keeps every other writer of these rows out).
   */
  async takeQueued(
    manager: EntityManager,
    limit: number,
    withStates = false,
  ): Promise<{ entries: QueuedEvent[]; states: Map<string, UnitStates> }> {
    const rows: Array<{
      unit_id: string;
      metric: string | null;
      value: number;
      ms: string;
      received_ms: string;
      write_id: string;
      states: string | null;
    }> = await manager.query(
      `WITH taken AS (
         DELETE FROM feature_queue WHERE ${
           // Citus: ctid is per shard, so whole units are taken (a batch may pass `limit` by a unit's entries).
           (await isCitus(this.db, manager))
             ? `unit_id IN (SELECT unit_id FROM feature_queue LIMIT $1)`
             : `ctid = ANY(ARRAY(SELECT ctid FROM feature_queue LIMIT $1))`
         }
         RETURNING unit_id, metric, value, ts, received_ms, write_id)
       SELECT unit_id, metric, value, ${TS_MS} AS ms, received_ms, write_id, NULL::text AS states FROM taken
       UNION ALL
       SELECT unit_id, NULL, NULL, NULL, NULL, NULL, states FROM unit_feature_state
       WHERE $2::bool AND unit_id IN (SELECT unit_id FROM taken)`,
      [limit, withStates],
    );
    const entries: QueuedEvent[] = [];
    const states = new Map<string, UnitStates>();
    for (const r of rows) {
      if (r.metric === null) states.set(r.unit_id, unpackStates(r.states!));
      else
        entries.push({
          unitId: r.unit_id,
          metric: r.metric,
          value: r.value,
          ms: Number(r.ms),
          receivedMs: Number(r.received_ms),
          writeId: String(r.write_id),
        });
    }
    return { entries, states };
  }

  /** Entries waiting in the feature queue (for /metrics and tests). */
  async queuedCount(): Promise<number> {
    const [{ n }]: [{ n: number }] = await this.db.query(`SELECT count(*)::int AS n FROM feature_queue`);
    return n;
  }

  /**
   * Erase a unit's queued events, inside the erasure transaction. Runs after {@link eraseUnit}, which took the
   * queue lock: no batch holding the unit's entries can commit their state after the erasure.
   */
  async eraseQueued(manager: EntityManager, unitId: string): Promise<number> {
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH d AS (DELETE FROM feature_queue WHERE unit_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    return n;
  }

  /**
   * Erase a unit's feature state (every unit state key: its `feature_state` rows and its `unit_feature_state` row),
   * inside the erasure transaction; returns the rows removed.
   * It first waits for the feature-queue lock (before any state row lock, the order a queue batch takes them in),
   * so a batch that took the unit's queued events has committed, and the next one sees them erased.
   */
  async eraseUnit(manager: EntityManager, unitId: string): Promise<number> {
    await this.lockQueue(manager, true);
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH d AS (DELETE FROM feature_state WHERE entity_id = $1 AND state_key LIKE 'unit:%' RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    const [{ u }]: [{ u: number }] = await manager.query(
      `WITH d AS (DELETE FROM unit_feature_state WHERE unit_id = $1 RETURNING 1) SELECT count(*)::int AS u FROM d`,
      [unitId],
    );
    return n + u;
  }

  /**
   * Drop sliding buckets that no read can reach any more (older than each state's oldest live bucket): one pass
   * over the table, run every few minutes (an index on (state_key, bucket) would cost every write more).
   */
  async prune(cutoffs: Array<{ stateKey: string; oldestBucket: number }>): Promise<number> {
    if (!cutoffs.length) return 0;
    const [, n]: [unknown, number] = await this.db.query(
      `DELETE FROM feature_state s USING unnest($1::text[], $2::int8[]) AS c(state_key, oldest)
       WHERE s.state_key = c.state_key AND s.bucket < c.oldest AND s.half_life_ms IS NULL`,
      [cutoffs.map((c) => c.stateKey), cutoffs.map((c) => c.oldestBucket)],
    );
    return n;
  }

  /**
   * Adds interactions to units' histories (one statement: insert, a repeated (unit, time, item) ignored), then
   * drops each touched unit's entries beyond the newest `capacity` (libs/features `addInteractions` is the reference).
   */
  async addHistory(
    rows: ReadonlyArray<{ unitId: string; itemId: string; ms: number }>,
    capacity: number,
  ): Promise<void> {
    if (!rows.length) return;
    const sorted = [...rows].sort((a, b) => (a.unitId < b.unitId ? -1 : a.unitId > b.unitId ? 1 : a.ms - b.ms));
    const units = [...new Set(sorted.map((r) => r.unitId))];
    await this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO unit_history (unit_id, at_ms, item_id) SELECT * FROM unnest($1::text[], $2::int8[], $3::text[]) ON CONFLICT DO NOTHING`,
        [sorted.map((r) => r.unitId), sorted.map((r) => r.ms), sorted.map((r) => r.itemId)],
      );
      // A second statement: a data-modifying CTE's rows are not visible to the rest of its statement.
      await m.query(
        `DELETE FROM unit_history h USING (
           SELECT unit_id, at_ms, item_id, row_number() OVER (PARTITION BY unit_id ORDER BY at_ms DESC, item_id DESC) AS rn
           FROM unit_history WHERE unit_id = ANY($1::text[])) old
         WHERE old.rn > $2 AND h.unit_id = old.unit_id AND h.at_ms = old.at_ms AND h.item_id = old.item_id`,
        [units, capacity],
      );
    });
  }

  /** A unit's newest `k` interactions, newest first (ties: larger item id first, byte order). */
  async history(unitId: string, k: number): Promise<Array<{ itemId: string; ms: number }>> {
    const rows: Array<{ item_id: string; at_ms: string }> = await this.db.query(
      `SELECT item_id, at_ms FROM unit_history WHERE unit_id = $1 ORDER BY at_ms DESC, item_id DESC LIMIT $2`,
      [unitId, k],
    );
    return rows.map((r) => ({ itemId: r.item_id, ms: Number(r.at_ms) }));
  }

  /**
   * Erase a unit's history, and the history logged with its decisions (which items it interacted with), inside the
   * erasure transaction; runs before the decisions lose their unit link. Returns the history rows removed.
   */
  async eraseHistory(manager: EntityManager, unitId: string): Promise<number> {
    await manager.query(
      `UPDATE decisions SET shortlist = shortlist - 'history' WHERE unit_id = $1 AND shortlist ? 'history'`,
      [unitId],
    );
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH d AS (DELETE FROM unit_history WHERE unit_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    return n;
  }

  /** Whether any stored ranker model's signature declares a history input (a sequence ranker). */
  async sequenceRankerStored(): Promise<boolean> {
    const [{ known }]: [{ known: boolean }] = await this.db.query(
      `SELECT EXISTS (SELECT 1 FROM ranker_models WHERE signature ? 'historyInput') AS known`,
    );
    return known;
  }

  /** The unit of each decision (null once erased): what reward features are credited to. */
  async unitsOfDecisions(decisionIds: readonly string[]): Promise<Map<string, string | null>> {
    if (!decisionIds.length) return new Map();
    const rows: Array<{ id: string; unit_id: string | null }> = await this.db.query(
      `SELECT id, unit_id FROM decisions WHERE id = ANY($1::uuid[])`,
      [decisionIds],
    );
    return new Map(rows.map((r) => [r.id, r.unit_id]));
  }
}

/** One shown slot of a logged decision, with what the policy saw (see TrainingExportService). */
export interface LoggedSlotRow {
  decision_id: string;
  at: string;
  created_at: string;
  unit_id: string | null;
  variant_key: string;
  model_version: string;
  policy: string;
  context: number[];
  position: number;
  item_id: string;
  item_features: number[] | null;
  /** a sequence ranker's history input as logged (null without one, or once the unit is erased) */
  history: { itemIds: string[]; features: number[][] } | null;
  score: number | null;
  propensity: number | null;
  explored: boolean;
  cold_start: boolean;
  reward: number;
  reward_count: number;
}

/** Reads for the point-in-time training export (decision log + rewards), kept beside the feature store's SQL. */
@Injectable()
export class TrainingExportRepository {
  constructor(private readonly db: DataSource) {}

  async experiment(key: string): Promise<{ id: string; context: string[]; item: string[] } | null> {
    const rows: Array<{ id: string; features: { context?: string[]; item?: string[] } | null }> = await this.db.query(
      `SELECT id, settings->'features' AS features FROM experiments WHERE key = $1`,
      [key],
    );
    if (!rows.length) return null;
    return { id: rows[0].id, context: rows[0].features?.context ?? [], item: rows[0].features?.item ?? [] };
  }

  /**
   * A page of shown slots in (time, decision, position) order after `after` (keyset: each page is one index range
   * of decision_slots_experiment_time), within [from, to).
   */
  async slots(
    experimentId: string,
    from: string | null,
    to: string | null,
    after: { createdAt: string; decisionId: string; position: number } | null,
    limit: number,
  ): Promise<LoggedSlotRow[]> {
    return this.db.query(
      `SELECT s.decision_id, to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, s.created_at::text AS created_at,
              d.unit_id, s.variant_key, d.model_version, d.policy->>'type' AS policy, d.context,
              s.position, s.item_id, d.shortlist->'features'->s.shortlist_index AS item_features, d.shortlist->'history' AS history,
              s.score, s.propensity, s.explored, s.cold_start, s.reward, s.reward_count
       FROM decision_slots s JOIN decisions d ON d.id = s.decision_id
       WHERE s.experiment_id = $1
         AND ($2::timestamptz IS NULL OR s.created_at >= $2::timestamptz) AND ($3::timestamptz IS NULL OR s.created_at < $3::timestamptz)
         AND ($4::timestamptz IS NULL OR (s.created_at, s.decision_id, s.position) > ($4::timestamptz, $5::uuid, $6::int))
       ORDER BY s.created_at, s.decision_id, s.position
       LIMIT $7`,
      [experimentId, from, to, after?.createdAt ?? null, after?.decisionId ?? null, after?.position ?? null, limit],
    );
  }
}
