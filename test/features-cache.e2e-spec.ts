import { DataSource } from 'typeorm';
import { FeatureQueueWorker } from '../apps/api/src/modules/features';
import { FeaturesRepository } from '../apps/api/src/modules/features/features.repository';
import { freshDatabase, rankingExperiment, SERVER_URL, startTestApp, TestApp, TestDatabase } from './support/test-app';

const candidates = Array.from({ length: 4 }, (_, i) => ({ id: `item-${i}`, features: { price: i / 4 } }));
const definitions = [
  {
    name: 'unit.clicks_20m',
    entity: 'unit',
    source: { type: 'event', metric: 'click' },
    aggregation: 'count',
    window: { type: 'sliding', seconds: 1200 },
  },
  {
    name: 'unit.rewards_1h',
    entity: 'unit',
    source: { type: 'reward' },
    aggregation: 'sum',
    window: { type: 'sliding', seconds: 3600 },
  },
];

/** The feature definitions and a ranking experiment whose context is the two stored unit features. */
async function setUp(t: TestApp): Promise<void> {
  expect((await t.call('POST', '/v1/events', { body: { events: [{ unitId: 'seed', metric: 'click' }] } })).status).toBe(
    200,
  );
  for (const body of definitions) expect((await t.call('POST', '/v1/features', { body })).status).toBe(201);
  const experiment = rankingExperiment('cache', {
    features: { context: ['unit.clicks_20m', 'unit.rewards_1h'], item: ['price'] },
    variants: [{ key: 'greedy', weight: 1, policy: { type: 'ranker' } }],
    rewardWindowSeconds: 3600,
  });
  expect((await t.call('POST', '/v1/experiments', { body: experiment })).status).toBe(201);
  expect((await t.call('POST', '/v1/experiments/cache/start')).status).toBe(200);
}

/** A rank of `unitId`: its decision id and the stored features it used (and logged). */
async function rank(t: TestApp, unitId: string): Promise<{ decisionId: string; itemId: string; used: number[] }> {
  const res = await t.call('POST', '/v1/rank', { body: { experiment: 'cache', unitId, candidates, explain: true } });
  expect(res.status).toBe(200);
  const logged = await t.running.app
    .get(DataSource)
    .query(`SELECT context FROM decisions WHERE id = $1`, [res.body.decisionId]);
  const stored = res.body.storedFeatures.context;
  expect(logged[0].context).toEqual([stored['unit.clicks_20m'], stored['unit.rewards_1h']]);
  return { decisionId: res.body.decisionId, itemId: res.body.slots[0].itemId, used: logged[0].context };
}

describe('stored unit features: the next rank sees every write of the unit (per-process cache on the embedded database)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ db: await freshDatabase() });
    await setUp(t);
  });
  afterAll(() => t.close(true));

  it('events, rewards and erasure show on the next rank, whether the state was read before or not', async () => {
    expect((await rank(t, 'u-c')).used).toEqual([0, 0]);
    expect((await rank(t, 'u-c')).used).toEqual([0, 0]); // read again (a cache hit on the embedded database)
    const click = (unitId: string, eventId: string) =>
      t.call('POST', '/v1/events', { body: { events: [{ unitId, metric: 'click', eventId }] } });
    expect((await click('u-c', 'c-1')).body.accepted).toBe(1);
    const decided = await rank(t, 'u-c');
    expect(decided.used).toEqual([1, 0]); // at once: before or after the queue worker applied it
    await t.running.app.get(FeatureQueueWorker).drain();
    expect((await rank(t, 'u-c')).used).toEqual([1, 0]);
    expect((await click('u-c', 'c-1')).body.duplicates).toBe(1);
    expect((await rank(t, 'u-c')).used).toEqual([1, 0]);

    const reward = { decisionId: decided.decisionId, itemId: decided.itemId, value: 2, eventId: 'r-1' };
    expect((await t.call('POST', '/v1/rewards', { body: { rewards: [reward] } })).body.accepted).toBe(1);
    expect((await rank(t, 'u-c')).used).toEqual([1, 2]);

    expect((await t.call('DELETE', '/v1/units/u-c')).status).toBe(200);
    expect((await rank(t, 'u-c')).used).toEqual([0, 0]);
    expect((await click('u-c', 'c-2')).body.accepted).toBe(1);
    expect((await rank(t, 'u-c')).used).toEqual([1, 0]);
  });

  it('on the embedded database, a unit the queue worker just applied is served without a database read', async () => {
    const repo = t.running.app.get(FeaturesRepository);
    expect(
      (
        await t.call('POST', '/v1/events', {
          body: { events: [1, 2, 3].map((i) => ({ unitId: 'u-w', metric: 'click', eventId: `w-${i}` })) },
        })
      ).body.accepted,
    ).toBe(3);
    await t.running.app.get(FeatureQueueWorker).drain();
    const reads = jest.spyOn(repo, 'statesReadThrough');
    try {
      expect((await rank(t, 'u-w')).used).toEqual([3, 0]);
      // The worker filled the clicks' state; the reward state, not its to fill, was read once and is then kept.
      const first = reads.mock.calls.length;
      expect((await rank(t, 'u-w')).used).toEqual([3, 0]);
      expect(reads.mock.calls.length - first).toBe(SERVER_URL ? 1 : 0);
      if (!SERVER_URL) expect(first).toBe(1);
    } finally {
      reads.mockRestore();
    }
  });
});

describe('feature queue batches: the applied unit state (kept in memory on the embedded database) stays exact', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ db: await freshDatabase() });
    await setUp(t);
  });
  afterAll(() => t.close(true));

  const clicks = async (unitId: string, ids: readonly string[]) =>
    expect(
      (
        await t.call('POST', '/v1/events', {
          body: { events: ids.map((eventId) => ({ unitId, metric: 'click', eventId })) },
        })
      ).body.accepted,
    ).toBe(ids.length);
  const storedRow = async (unitId: string): Promise<string | null> =>
    (await t.running.app.get(DataSource).query(`SELECT states FROM unit_feature_state WHERE unit_id = $1`, [unitId]))[0]
      ?.states ?? null;

  it('a batch whose state write fails deletes no queue entry, and the next batch applies each event once', async () => {
    const db = t.running.app.get(DataSource);
    const queue = t.running.app.get(FeatureQueueWorker);
    await clicks('u-f', ['f-1', 'f-2', 'f-3']);
    await queue.drain();
    expect((await rank(t, 'u-f')).used).toEqual([3, 0]);
    // Every later write of unit_feature_state fails (a real constraint violation, after the take in the same transaction).
    await db.query(`ALTER TABLE unit_feature_state ADD CONSTRAINT feat5_reject CHECK (states = 'never') NOT VALID`);
    try {
      await clicks('u-f', ['f-4', 'f-5']);
      await expect(queue.drain()).rejects.toThrow();
      expect(await t.running.app.get(FeaturesRepository).queuedCount()).toBe(2); // the entries are still queued
      expect((await rank(t, 'u-f')).used).toEqual([5, 0]); // read through: row (3) + queue (2)
    } finally {
      await db.query(`ALTER TABLE unit_feature_state DROP CONSTRAINT feat5_reject`);
    }
    await queue.drain();
    expect(await t.running.app.get(FeaturesRepository).queuedCount()).toBe(0);
    expect((await rank(t, 'u-f')).used).toEqual([5, 0]);
    // The row itself: five events' worth of counts (the failed batch's merge was not kept anywhere).
    const row = JSON.parse((await storedRow('u-f'))!) as Record<string, number[][]>;
    const counted = Object.values(row).map((buckets) => buckets.reduce((n, b) => n + b[1], 0));
    expect(counted).toEqual([5]);
  });

  it('erasure removes the applied state from memory too: events after it start from nothing', async () => {
    const queue = t.running.app.get(FeatureQueueWorker);
    await clicks('u-x', ['x-1', 'x-2']);
    await queue.drain();
    expect((await rank(t, 'u-x')).used).toEqual([2, 0]);
    expect((await t.call('DELETE', '/v1/units/u-x')).status).toBe(200);
    expect(await storedRow('u-x')).toBeNull();
    await clicks('u-x', ['x-3']);
    await queue.drain();
    const row = JSON.parse((await storedRow('u-x'))!) as Record<string, number[][]>;
    expect(Object.values(row).map((buckets) => buckets.reduce((n, b) => n + b[1], 0))).toEqual([1]);
    expect((await rank(t, 'u-x')).used).toEqual([1, 0]);
  });
});

(SERVER_URL ? describe : describe.skip)('stored unit features across two replicas on one PostgreSQL server', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    db = await freshDatabase();
    a = await startTestApp({ db, env: { SLOTWISE_REPLICA_ID: 'replica-a' } });
    b = await startTestApp({ db, env: { SLOTWISE_REPLICA_ID: 'replica-b' } });
    await setUp(a);
    // b takes definitions made on a within DEFINITIONS_TTL_MS (1 s); until then its rank refuses the unknown names
    const until = Date.now() + 5_000;
    const probe = { experiment: 'cache', unitId: 'probe', candidates };
    while ((await b.call('POST', '/v1/rank', { body: probe })).status !== 200 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(async () => {
    await a?.close().catch(() => undefined);
    await b?.close().catch(() => undefined);
    await db?.drop();
  });

  it("an event accepted by one replica is in the other replica's next rank", async () => {
    expect((await rank(b, 'u-r')).used).toEqual([0, 0]);
    for (let i = 1; i <= 3; i++) {
      const posted = await a.call('POST', '/v1/events', {
        body: { events: [{ unitId: 'u-r', metric: 'click', eventId: `r-${i}` }] },
      });
      expect(posted.body.accepted).toBe(1);
      expect((await rank(b, 'u-r')).used).toEqual([i, 0]);
    }
    await a.running.app.get(FeatureQueueWorker).drain();
    expect((await rank(b, 'u-r')).used).toEqual([3, 0]);
  });

  it("batches on both replicas apply the same unit's events: neither overwrites the other's state", async () => {
    const click = (t: TestApp, eventId: string) =>
      t.call('POST', '/v1/events', { body: { events: [{ unitId: 'u-ab', metric: 'click', eventId }] } });
    let n = 0;
    for (const [sender, applier] of [
      [a, a],
      [b, b],
      [a, a],
      [b, a],
    ] as const) {
      expect((await click(sender, `ab-${++n}`)).body.accepted).toBe(1);
      await applier.running.app.get(FeatureQueueWorker).drain();
      expect((await rank(a, 'u-ab')).used).toEqual([n, 0]);
      expect((await rank(b, 'u-ab')).used).toEqual([n, 0]);
    }
    const [{ states }] = await a.running.app
      .get(DataSource)
      .query(`SELECT states FROM unit_feature_state WHERE unit_id = 'u-ab'`);
    const row = JSON.parse(states as string) as Record<string, number[][]>;
    expect(Object.values(row).map((buckets) => buckets.reduce((c, bucket) => c + bucket[1], 0))).toEqual([4]);
  });
});
