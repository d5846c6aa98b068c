import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { MAX_FEATURE_MAGNITUDE } from '@slotwise/bandit';
import {
  BucketState,
  countsAsInteraction,
  FeatureEvent,
  foldEvents,
  HISTORY_CAPACITY,
  mergeStates,
  oldestLiveBucket,
  stateOf,
  valueAt,
} from '@slotwise/features';
import type { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AcceptedEventsListener, EventRow, EventsFeed, UnitErasureService } from '../ab';
import { CompiledFeature, FeatureCatalog, FeatureDefinitionsService } from './feature-definitions.service';
import { FeaturesRepository, StateRow, UnitStates } from './features.repository';

/** How long an item's stored feature values are reused by rank (unit features are always current: read through, or the embedded database's exact unit cache). */
export const ITEM_CACHE_MS = 1000;
const ITEM_CACHE_MAX = 200_000;
/** Units whose feature states the embedded database's process keeps (see FeatureStoreService's unit cache). */
const UNIT_CACHE_MAX = 100_000;
const PRUNE_EVERY_MS = 5 * 60_000;
/** How long "no stored ranker has a history input" is trusted before it is asked again. */
export const SEQUENCE_CHECK_TTL_MS = 1000;

type Named = Record<string, number>;

/** Stored feature values for one rank, merged under what the request (or the catalog) sends: sent values win. */
export interface RankFeatureFill {
  /** stored context features, by name */
  context: Named;
  /** stored item features per candidate id, by name */
  items: Map<string, Named>;
  mergeContext<T extends Named | number[] | undefined>(sent: T): T | Named;
  mergeItem<T extends Named | number[] | undefined>(itemId: string, sent: T): T | Named;
}

/**
 * Told, inside the transaction that just wrote them, which units' feature states changed (the behavioural
 * triggers evaluate there). It must use only `manager` (the embedded database has one connection).
 */
export interface UnitFeaturesListener {
  /**
   * `touched`: unit id → the state keys written for it; `atMs`: the time the update was received; `read`: the
   * definitions in force for this update and a reader of unit values inside the transaction.
   */
  unitsUpdated(
    manager: EntityManager,
    touched: ReadonlyMap<string, ReadonlySet<string>>,
    atMs: number,
    read: UnitFeatureReader,
  ): Promise<void>;
  /**
   * The unit state keys whose updates it evaluates (through `manager`: called inside the queue batch's
   * transaction). The queue worker applies the other keys' events of a batch in one statement, and these write by
   * write, in order, each followed by {@link unitsUpdated} — as when each write updated the state itself.
   */
  watchedStateKeys(manager: EntityManager, read: Pick<UnitFeatureReader, 'stateKeyOf'>): Promise<ReadonlySet<string>>;
}

/** What a {@link UnitFeaturesListener} may read, without another database connection. */
export interface UnitFeatureReader {
  /** The state key of a feature (null when not defined). */
  stateKeyOf(name: string): string | null;
  /** The named unit features' values at `atMs`, as {@link FeatureStoreService.values}, read through the transaction. */
  values(unitIds: readonly string[], names: readonly string[]): Promise<Map<string, Named>>;
}

/**
 * The online feature store: keeps every defined feature's state current as events, rewards and impressions are
 * accepted (libs/features maths, state in PostgreSQL), and serves values at a point in time.
 */
@Injectable()
export class FeatureStoreService implements AcceptedEventsListener, OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('FeatureStore');
  private readonly itemCache = new Map<string, { at: number; values: Named }>();
  private pruneTimer: NodeJS.Timeout | null = null;
  private unitListener: UnitFeaturesListener | null = null;
  private queueWaker: (() => void) | null = null;
  private sequenceRanker = { known: false, at: -Infinity };
  /**
   * Embedded database only (one process, one connection): unit id → state key → the unit's states as a read-through
   * read gives them (stored state and still-queued entries). Every write of a unit's state in this process drops its
   * entry after it commits (events: `queued`; rewards, impressions; erasure, whose transaction holds the only
   * connection, so no read can run before it commits), and a read stores what it read only if no entry was dropped
   * meanwhile (`unitEpoch`). The queue worker's batches move entries from the queue into the state without changing
   * any value, and refill the entries of the units they leave with nothing queued. Null on a server: other replicas
   * write there, and a read goes to PostgreSQL every time (one round trip; see docs/feature-store.md).
   */
  private readonly unitCache: Map<string, UnitStates> | null;
  private unitEpoch = 0;
  /**
   * Embedded database only: unit id → its `unit_feature_state` row as last written (an empty map: no row), so a queue
   * batch reads only the rows of units it has not seen. Exact because the queue worker is the row's only writer and,
   * on one connection, batches and erasures run one after another: a batch replaces its units' entries as its last
   * step inside its transaction, a failed batch clears the map, and erasure drops the unit's entry. Null on a
   * server: another replica's batch may have written the row since (the batch reads its rows in the take's statement).
   */
  private readonly appliedUnits: Map<string, UnitStates> | null;

  constructor(
    private readonly definitions: FeatureDefinitionsService,
    private readonly repo: FeaturesRepository,
    feed: EventsFeed,
    erasure: UnitErasureService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.unitCache = config.databaseUrl ? null : new Map();
    this.appliedUnits = config.databaseUrl ? null : new Map();
    feed.register(this);
    erasure.register('features', (m, unitId) => {
      this.forgetUnits([unitId]);
      this.appliedUnits?.delete(unitId);
      return this.repo.eraseUnit(m, unitId);
    });
    // After 'features', which took the queue lock: the unit's events not yet folded into its state.
    erasure.register('queuedFeatureEvents', (m, unitId) => this.repo.eraseQueued(m, unitId));
    // Registered before the rank module's 'decisions' eraser (this service is its dependency), so the decisions
    // still carry the unit id when their logged histories are removed.
    erasure.register('history', (m, unitId) => this.repo.eraseHistory(m, unitId));
  }

  /** The triggers module registers here (one listener). */
  registerUnitListener(listener: UnitFeaturesListener): void {
    if (this.unitListener) throw new Error('a unit-features listener is already registered');
    this.unitListener = listener;
  }

  /** Writes the states; with a listener and unit rows among them, in one transaction with the listener's work. */
  private async addStates(
    catalog: FeatureCatalog,
    rows: StateRow[],
    atMs: number,
    manager?: EntityManager,
  ): Promise<void> {
    const touched = this.unitListener ? unitsTouched(rows) : null;
    if (!touched?.size) return this.repo.addStates(rows, manager);
    const write = async (m: EntityManager) => {
      await this.repo.addStates(rows, m);
      await this.unitListener!.unitsUpdated(m, touched, atMs, {
        stateKeyOf: (name) => catalog.byName.get(name)?.stateKey ?? null,
        values: (unitIds, names) => this.valuesWith(catalog, 'unit', unitIds, atMs, names, m),
      });
    };
    return manager ? write(manager) : this.repo.transaction(write);
  }

  onModuleInit(): void {
    this.pruneTimer = setInterval(
      () => void this.prune().catch((err: unknown) => this.log.warn(`prune failed: ${String(err)}`)),
      PRUNE_EVERY_MS,
    );
    this.pruneTimer.unref();
  }

  onModuleDestroy(): void {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
  }

  /** For the events insert: the metrics among `rows` that event-sourced features read (their stored rows are queued). */
  async queuedMetrics(rows: readonly EventRow[]): Promise<readonly string[]> {
    const { byMetric } = await this.definitions.catalog();
    if (!byMetric.size) return [];
    return [...new Set(rows.map((r) => r.metric))].filter((m) => byMetric.has(m));
  }

  /** A write on this replica queued events of these units: the worker looks soon (other replicas' writes: at its next tick). */
  queued(unitIds: readonly string[]): void {
    this.forgetUnits(unitIds);
    this.queueWaker?.();
  }

  /** Drops these units' cached states (after a write of them committed, or inside an erasure: see `unitCache`). */
  private forgetUnits(unitIds: Iterable<string>): void {
    if (!this.unitCache) return;
    this.unitEpoch++;
    for (const id of unitIds) this.unitCache.delete(id);
  }

  /** Set by the queue worker: how {@link queued} wakes it. */
  onQueued(wake: () => void): void {
    this.queueWaker = wake;
  }

  /**
   * One batch of the feature queue (see migration FeatureQueue1765900000000): takes up to `limit` queued events
   * and adds them, each at its own timestamp, to every state its metric feeds, in one transaction with the
   * entries' delete — so each event is applied exactly once, whichever replica runs the batch. The batch's units'
   * `unit_feature_state` rows are read once, merged in memory (libs/features `mergeStates`) and written back in one
   * multi-row upsert; states no trigger watches take the whole batch at once, watched ones are applied write by
   * write (in receipt order), each written and followed by the triggers' evaluation at the write's receipt time
   * (the states of later writes are not yet in what the triggers read). `wait`: wait for another
   * replica's batch instead of skipping. Returns how many entries were taken (0: empty, or skipped).
   */
  async applyQueued(limit: number, wait = false): Promise<number> {
    let catalog = await this.definitions.catalog();
    try {
      return await this.repo.transaction(async (m) => {
        if (!(await this.repo.lockQueue(m, wait))) return 0;
        const applied = this.appliedUnits;
        // On a server the take returns the batch's unit rows too (one round trip); on the embedded database rows
        // already in `appliedUnits` are not read again.
        const { entries, states: read } = await this.repo.takeQueued(m, limit, !applied);
        if (!entries.length) return 0;
        // A definition made on another replica less than a TTL ago: its events are already queued there.
        if (entries.some((e) => !catalog.byMetric.has(e.metric))) catalog = await this.definitions.catalog(0, m);
        const watched = this.unitListener
          ? await this.unitListener.watchedStateKeys(m, {
              stateKeyOf: (name) => catalog.byName.get(name)?.stateKey ?? null,
            })
          : new Set<string>();
        const states = new Map([...catalog.byMetric].map(([metric, features]) => [metric, oneper(features)]));
        const unwatched = new Groups();
        const writes = new Map<string, { receivedMs: number; groups: Groups }>();
        for (const e of entries) {
          for (const f of states.get(e.metric) ?? []) {
            if (!watched.has(f.stateKey)) {
              unwatched.add(f, e.unitId, e);
              continue;
            }
            let w = writes.get(e.writeId);
            if (!w) writes.set(e.writeId, (w = { receivedMs: e.receivedMs, groups: new Groups() }));
            w.groups.add(f, e.unitId, e);
          }
        }
        const now = Date.now();
        // One row per unit (migration UnitFeatureState1766000000000): read the batch's units, merge, write back.
        const units = [...new Set(entries.map((e) => e.unitId))];
        if (applied) {
          const unseen = units.filter((id) => !applied.has(id));
          if (unseen.length) for (const [id, row] of await this.repo.unitStates(m, unseen)) read.set(id, row);
        }
        // Copies: the merge replaces state lists in these maps, and `appliedUnits` may change only once all is written.
        const stored = new Map(units.map((id) => [id, new Map(applied?.get(id) ?? read.get(id))]));
        const dirty = new Set<string>();
        const flush = async () => {
          await this.repo.putUnitStates(m, new Map([...dirty].map((id) => [id, stored.get(id)!])));
          dirty.clear();
        };
        unwatched.mergeInto(stored, now, dirty);
        const ordered = [...writes.entries()].sort(
          ([ia, a], [ib, b]) => a.receivedMs - b.receivedMs || (ia < ib ? -1 : ia > ib ? 1 : 0),
        );
        for (const [, w] of ordered) {
          const touched = w.groups.mergeInto(stored, now, dirty);
          await flush();
          if (touched.size)
            await this.unitListener!.unitsUpdated(m, touched, w.receivedMs, {
              stateKeyOf: (name) => catalog.byName.get(name)?.stateKey ?? null,
              values: (unitIds, names) => this.valuesWith(catalog, 'unit', unitIds, w.receivedMs, names, m),
            });
        }
        await flush();
        if (applied) {
          if (applied.size > UNIT_CACHE_MAX) applied.clear();
          for (const [id, row] of stored) applied.set(id, row);
        }
        if (this.unitCache) {
          // Units left with nothing queued: their event states are now exactly the row (before the commit, so a write
          // committed after it drops the entry again; a failed commit clears the cache below).
          const pending = entries.length >= limit ? await this.repo.unitsStillQueued(m, units) : new Set<string>();
          const eventKeys = [...new Set([...states.values()].flat().map((f) => f.stateKey))];
          for (const id of units) {
            if (pending.has(id)) continue;
            const entry = this.unitCache.get(id) ?? new Map<string, BucketState[]>();
            const row = stored.get(id);
            for (const k of eventKeys) entry.set(k, row?.get(k) ?? []);
            this.unitCache.set(id, entry);
          }
          if (this.unitCache.size > UNIT_CACHE_MAX) this.unitCache.clear();
        }
        return entries.length;
      });
    } catch (err) {
      this.unitCache?.clear();
      this.appliedUnits?.clear();
      throw err;
    }
  }

  /** Slots shown by a stored decision: value 1 each, to the unit's and each item's impression features. */
  async recordImpressions(unitId: string, itemIds: readonly string[], atMs: number): Promise<void> {
    const catalog = await this.definitions.catalog();
    const { impressions } = catalog;
    if (!impressions.length) return;
    const groups = new Groups();
    for (const f of oneper(impressions))
      for (const itemId of itemIds) groups.add(f, f.entity === 'unit' ? unitId : itemId, { ms: atMs, value: 1 });
    await this.addStates(catalog, groups.fold(atMs), atMs);
    this.forgetItems(itemIds);
    if (impressions.some((f) => f.entity === 'unit')) this.forgetUnits([unitId]);
  }

  /** Stored, non-duplicate rewards: their value at their time, to the decision's unit's and the item's reward features. */
  async recordRewards(
    rewards: ReadonlyArray<{ decisionId: string; itemId: string; value: number; occurredAt: Date }>,
  ): Promise<void> {
    if (!rewards.length) return;
    const catalog = await this.definitions.catalog();
    const { rewards: features } = catalog;
    // Sequences: a positive reward is an interaction of the decision's unit with the item, at the reward's time —
    // kept only while a stored ranker declares a history input (nothing reads unit_history otherwise).
    const interactions =
      rewards.some((r) => countsAsInteraction(r.value)) && (await this.sequenceRankerStored())
        ? rewards.filter((r) => countsAsInteraction(r.value))
        : [];
    const needUnits = interactions.length > 0 || features.some((f) => f.entity === 'unit');
    const units = needUnits
      ? await this.repo.unitsOfDecisions([...new Set(rewards.map((r) => r.decisionId))])
      : new Map<string, string | null>();
    await this.repo.addHistory(
      interactions.flatMap((r) => {
        const unitId = units.get(r.decisionId);
        return unitId ? [{ unitId, itemId: r.itemId, ms: r.occurredAt.getTime() }] : [];
      }),
      HISTORY_CAPACITY,
    );
    if (!features.length) return;
    const groups = new Groups();
    const states = oneper(features);
    for (const r of rewards) {
      for (const f of states) {
        const entityId = f.entity === 'unit' ? units.get(r.decisionId) : r.itemId;
        if (entityId) groups.add(f, entityId, { ms: r.occurredAt.getTime(), value: r.value });
      }
    }
    const now = Date.now();
    await this.addStates(catalog, groups.fold(now), now);
    this.forgetItems(rewards.map((r) => r.itemId));
    if (states.some((f) => f.entity === 'unit'))
      this.forgetUnits(rewards.flatMap((r) => (units.get(r.decisionId) ? [units.get(r.decisionId)!] : [])));
  }

  /**
   * Whether any stored ranker model declares a history input. Once true it stays true (models are not deleted);
   * false is re-asked after {@link SEQUENCE_CHECK_TTL_MS}, so a sequence model uploaded on any replica starts the
   * histories within that.
   */
  private async sequenceRankerStored(): Promise<boolean> {
    if (this.sequenceRanker.known) return true;
    const now = Date.now();
    if (now - this.sequenceRanker.at < SEQUENCE_CHECK_TTL_MS) return false;
    const known = await this.repo.sequenceRankerStored();
    this.sequenceRanker = { known, at: now };
    return known;
  }

  /**
   * Values of an entity's features at `atMs` (all of that entity kind's features, or `names`), the definition's
   * `defaultValue` where the window holds no event. Reads PostgreSQL: what any replica has committed is visible —
   * a unit's events still in the feature queue are folded in on read (read-through), so a read right after an
   * accepted event sees it, before the queue worker has applied it.
   */
  async values(
    entity: 'unit' | 'item',
    entityIds: readonly string[],
    atMs: number,
    names?: readonly string[],
  ): Promise<Map<string, Named>> {
    return this.valuesWith(await this.definitions.catalog(), entity, entityIds, atMs, names);
  }

  /** `manager` given: inside a state update's transaction, the state alone (the queue's later entries are not read). */
  private async valuesWith(
    catalog: FeatureCatalog,
    entity: 'unit' | 'item',
    entityIds: readonly string[],
    atMs: number,
    names?: readonly string[],
    manager?: EntityManager,
  ): Promise<Map<string, Named>> {
    const { all, byName } = catalog;
    const features = names
      ? names.map((n) => byName.get(n)!).filter((f) => f?.entity === entity)
      : all.filter((f) => f.entity === entity);
    const out = new Map<string, Named>(entityIds.map((id) => [id, {}]));
    if (!features.length || !entityIds.length) return out;
    const stateKeys = [...new Set(features.map((f) => f.stateKey))];
    const cache = entity === 'unit' && !manager ? this.unitCache : null;
    const byEntity = new Map<string, UnitStates>();
    const misses: string[] = [];
    for (const id of new Set(entityIds)) {
      const hit = cache?.get(id);
      if (hit && stateKeys.every((k) => hit.has(k))) byEntity.set(id, hit);
      else misses.push(id);
    }
    if (misses.length) {
      const epoch = this.unitEpoch;
      const metrics =
        manager || entity !== 'unit'
          ? []
          : [...new Set(features.flatMap((f) => (f.source.type === 'event' ? [f.source.metric] : [])))];
      const { states, queued } = await this.repo.statesReadThrough(
        misses,
        stateKeys,
        metrics,
        entity === 'unit',
        manager,
      );
      for (const id of misses) byEntity.set(id, new Map(stateKeys.map((k) => [k, []])));
      for (const s of states) byEntity.get(s.entityId)!.get(s.stateKey)!.push(s);
      if (queued.length) {
        // Each queued event as a state of its own, for every requested state its metric feeds (valueAt adds them up).
        const fed = new Map<string, CompiledFeature[]>();
        for (const f of oneper(features))
          if (f.source.type === 'event') fed.set(f.source.metric, [...(fed.get(f.source.metric) ?? []), f]);
        for (const e of queued)
          for (const f of fed.get(e.metric) ?? []) byEntity.get(e.unitId)!.get(f.stateKey)!.push(stateOf(f.window, e));
      }
      if (cache && epoch === this.unitEpoch) {
        if (cache.size > UNIT_CACHE_MAX) cache.clear();
        for (const id of misses) {
          const entry = cache.get(id);
          if (entry) for (const [k, list] of byEntity.get(id)!) entry.set(k, list);
          else cache.set(id, byEntity.get(id)!);
        }
      }
    }
    for (const id of entityIds) {
      const values = out.get(id)!;
      const held = byEntity.get(id)!;
      for (const f of features)
        values[f.name] = valueAt(f.window, f.aggregation, held.get(f.stateKey) ?? [], atMs) ?? f.defaultValue;
    }
    return out;
  }

  /**
   * What a rank needs: the experiment schema's names that are stored features (unit features among the context
   * names, item features among the item names), read at `atMs`. Null when the schema names none (no I/O then).
   * Unit values are read through (on the embedded database from the exact unit cache when it holds them); item values may be up to {@link ITEM_CACHE_MS} old (reads of 2,000 candidates
   * per rank would otherwise dominate).
   */
  async forRank(
    names: { context: readonly string[]; item: readonly string[] },
    unitId: string,
    itemIds: readonly string[],
    atMs: number,
  ): Promise<RankFeatureFill | null> {
    if (!names.context.some((n) => n.startsWith('unit.')) && !names.item.some((n) => n.startsWith('item.')))
      return null;
    const { byName } = await this.definitions.catalog();
    const contextNames = names.context.filter((n) => byName.get(n)?.entity === 'unit');
    const itemNames = names.item.filter((n) => byName.get(n)?.entity === 'item');
    if (!contextNames.length && !itemNames.length) return null;
    const [context, items] = await Promise.all([
      contextNames.length
        ? this.values('unit', [unitId], atMs, contextNames).then((m) => saturate(m.get(unitId)!))
        : Promise.resolve({} as Named),
      itemNames.length
        ? this.itemValues([...new Set(itemIds)], itemNames, atMs)
        : Promise.resolve(new Map<string, Named>()),
    ]);
    return {
      context,
      items,
      mergeContext: (sent) => (Array.isArray(sent) || !contextNames.length ? sent : { ...context, ...sent }),
      mergeItem: (itemId, sent) =>
        Array.isArray(sent) || !itemNames.length ? sent : { ...items.get(itemId), ...sent },
    };
  }

  /**
   * A unit's last `k` interacted items (rewards with a positive value), newest first — a sequence ranker's history
   * input. Read through from PostgreSQL, so what any replica committed is visible at once.
   */
  async history(unitId: string, k: number): Promise<string[]> {
    this.sequenceRanker = { known: true, at: Date.now() }; // a sequence ranker is in use: interactions are recorded
    return (await this.repo.history(unitId, Math.min(k, HISTORY_CAPACITY))).map((h) => h.itemId);
  }

  private async itemValues(itemIds: string[], names: string[], atMs: number): Promise<Map<string, Named>> {
    const prefix = names.join(',');
    const out = new Map<string, Named>();
    const missing: string[] = [];
    for (const id of itemIds) {
      const hit = this.itemCache.get(`${prefix}\u0000${id}`);
      if (hit && atMs - hit.at < ITEM_CACHE_MS && atMs >= hit.at) out.set(id, hit.values);
      else missing.push(id);
    }
    if (missing.length) {
      if (this.itemCache.size > ITEM_CACHE_MAX) this.itemCache.clear();
      for (const [id, raw] of await this.values('item', missing, atMs, names)) {
        const values = saturate(raw);
        out.set(id, values);
        this.itemCache.set(`${prefix}\u0000${id}`, { at: atMs, values });
      }
    }
    return out;
  }

  /** This replica's own writes show at once; other replicas' within ITEM_CACHE_MS. */
  private forgetItems(itemIds: readonly string[]): void {
    if (!this.itemCache.size) return;
    const ids = new Set(itemIds);
    for (const k of this.itemCache.keys()) if (ids.has(k.slice(k.indexOf('\u0000') + 1))) this.itemCache.delete(k);
  }

  /** Drops sliding buckets no read can reach (they are never read, so this only saves space). */
  async prune(nowMs = Date.now()): Promise<number> {
    const { all } = await this.definitions.catalog();
    const cutoffs = oneper(all).flatMap((f) =>
      f.window.type === 'sliding' ? [{ stateKey: f.stateKey, oldestBucket: oldestLiveBucket(f.window.ms, nowMs) }] : [],
    );
    return this.repo.prune(cutoffs);
  }
}

/** Unit id → state keys written, for the unit rows among `rows` (state keys of unit features start with `unit:`). */
function unitsTouched(rows: readonly StateRow[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!r.stateKey.startsWith('unit:')) continue;
    const keys = out.get(r.entityId);
    if (keys) keys.add(r.stateKey);
    else out.set(r.entityId, new Set([r.stateKey]));
  }
  return out;
}

/**
 * Stored values served to rank are saturated at ±MAX_FEATURE_MAGNITUDE (libs/bandit), the bound rank enforces on
 * every feature: a sent value beyond it is the caller's error (400), but a stored one is the store's own arithmetic —
 * a `timeSinceLast` of 11.6 days is 1,000,000 s, a `sum` of large event values can pass 1e6 — and must not make every
 * later rank of that unit fail. Saturated, the value still says "at least this much"; it is what the decision logs.
 */
function saturate(values: Named): Named {
  for (const k of Object.keys(values)) {
    const v = values[k];
    if (v > MAX_FEATURE_MAGNITUDE) values[k] = MAX_FEATURE_MAGNITUDE;
    else if (v < -MAX_FEATURE_MAGNITUDE) values[k] = -MAX_FEATURE_MAGNITUDE;
  }
  return values;
}

/** One feature per state key: features that share a state (same entity, source, window) get each event once. */
function oneper(features: readonly CompiledFeature[]): CompiledFeature[] {
  const seen = new Map<string, CompiledFeature>();
  for (const f of features) if (!seen.has(f.stateKey)) seen.set(f.stateKey, f);
  return [...seen.values()];
}

/** Events grouped per (state key, entity), folded into one state row per bucket. */
class Groups {
  private readonly groups = new Map<string, { feature: CompiledFeature; entityId: string; events: FeatureEvent[] }>();

  add(feature: CompiledFeature, entityId: string, e: FeatureEvent): void {
    const k = `${feature.stateKey}\u0000${entityId}`;
    const g = this.groups.get(k);
    if (g) g.events.push(e);
    else this.groups.set(k, { feature, entityId, events: [e] });
  }

  fold(nowMs: number): StateRow[] {
    const rows: StateRow[] = [];
    for (const { feature, entityId, events } of this.groups.values()) {
      const halfLifeMs = feature.window.type === 'decay' ? feature.window.halfLifeMs : null;
      for (const s of foldEvents(feature.window, events, nowMs))
        rows.push({ ...s, entityId, stateKey: feature.stateKey, halfLifeMs });
    }
    return rows;
  }

  /**
   * Folds each group and merges it into its unit's states in `units` (libs/features `mergeStates`; a unit without
   * states gets an entry), adding the units changed to `dirty`. Returns unit id → the state keys written.
   */
  mergeInto(units: Map<string, UnitStates>, nowMs: number, dirty: Set<string>): Map<string, Set<string>> {
    const touched = new Map<string, Set<string>>();
    for (const { feature, entityId, events } of this.groups.values()) {
      const folded = foldEvents(feature.window, events, nowMs);
      if (!folded.length) continue;
      let states = units.get(entityId);
      if (!states) units.set(entityId, (states = new Map()));
      states.set(feature.stateKey, mergeStates(feature.window, states.get(feature.stateKey) ?? [], folded, nowMs));
      dirty.add(entityId);
      const keys = touched.get(entityId);
      if (keys) keys.add(feature.stateKey);
      else touched.set(entityId, new Set([feature.stateKey]));
    }
    return touched;
  }
}
