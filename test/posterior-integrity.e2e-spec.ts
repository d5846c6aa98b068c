import { HybridModel, type HybridStats } from '@slotwise/bandit';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ModelStateRepository } from '../apps/api/src/modules/rank/model-state.repository';
import { RankEngine } from '../apps/api/src/modules/rank/rank-engine';
import { packStats } from '../apps/api/src/modules/rank/stats-codec';
import { startTestApp, TestApp } from './support/test-app';

/** Integer features and rewards: every sum of statistics is exact, so counts and sums compare with toBe / toEqual. */
const ITEMS = Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, features: { price: i % 3 } }));

function experiment(key: string) {
  return {
    key,
    name: key,
    kind: 'ranking',
    slots: 3,
    rewardWindowSeconds: 3600,
    features: { context: ['age'], item: ['price'] },
    variants: [
      { key: 'ts', weight: 50, policy: { type: 'thompson', model: 'hybrid', propensityDraws: 10 } },
      { key: 'lin', weight: 50, policy: { type: 'thompson', model: 'linear', propensityDraws: 10 } },
    ],
    metrics: { primary: 'reward' },
  };
}

async function unitsIn(t: TestApp, key: string, variant: string, count: number): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; found.length < count && i < 400; i++) {
    const res = await t.call('POST', '/v1/assign', { body: { experiment: key, unitId: `unit-${i}` } });
    if (res.body.variant === variant) found.push(`unit-${i}`);
  }
  return found;
}

async function storedCount(
  ds: DataSource,
  key: string,
  variant: string,
): Promise<{ n: number; version: number; slots: number }> {
  const [{ id }] = await ds.query(`SELECT id FROM experiments WHERE key = $1`, [key]);
  const stored = await new ModelStateRepository(ds).load(id, variant);
  const [{ slots }] = await ds.query(
    `SELECT count(*)::int AS slots FROM decision_slots WHERE experiment_id = $1 AND variant_key = $2`,
    [id, variant],
  );
  return {
    n: stored && 'n' in stored.snapshot.stats ? stored.snapshot.stats.n : 0,
    version: stored?.version ?? 0,
    slots,
  };
}

describe('posterior integrity on one replica', () => {
  let t: TestApp;
  let ds: DataSource;
  let engine: RankEngine;

  beforeAll(async () => {
    // Flushes only when the test calls them (the interval is longer than the test), except the idle test's own app.
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '60000', SLOTWISE_REPLICA_LEASE_SECONDS: '3' } });
    ds = t.running.app.get(DataSource);
    engine = t.running.app.get(RankEngine);
  });
  afterAll(() => t.close(true));

  it('never re-adds a committed delta when the reload after it fails; a broken stored posterior is quarantined with a 503', async () => {
    expect((await t.call('POST', '/v1/experiments', { body: experiment('integrity') })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/integrity/start')).status).toBe(200);
    const [ts, lin] = [await unitsIn(t, 'integrity', 'ts', 4), await unitsIn(t, 'integrity', 'lin', 1)];
    const rank = (unitId: string, age = 1) =>
      t.call('POST', '/v1/rank', { body: { experiment: 'integrity', unitId, context: { age }, candidates: ITEMS } });
    for (const u of ts.slice(0, 2)) expect((await rank(u)).status).toBe(200);
    await engine.flush();
    expect(await storedCount(ds, 'integrity', 'ts')).toEqual({ n: 6, version: 1, slots: 6 });

    // Another writer leaves the stored posterior inconsistent: an item row with 40 observations the shared
    // statistics do not have (its precision A0 = λI + ZᵀZ − Σ BᵀA⁻¹B is then not positive definite).
    const [{ id }] = await ds.query(`SELECT id FROM experiments WHERE key = 'integrity'`);
    const other = HybridModel.create({ contextDim: 1, itemDim: 1 });
    for (let i = 0; i < 40; i++) other.observe([1], { id: 'item-2', features: [2] }, 0);
    const row = packStats(other.snapshot().stats.items['item-2']);
    await ds.query(
      `INSERT INTO model_item_state (experiment_id, variant_key, item_id, stats_layout, stats_values) VALUES ($1, 'ts', 'item-2', $2::jsonb, $3)
       ON CONFLICT (experiment_id, variant_key, item_id) DO UPDATE SET stats_layout = EXCLUDED.stats_layout, stats_values = EXCLUDED.stats_values`,
      [id, JSON.stringify(row.layout), row.values],
    );
    await ds.query(`UPDATE model_state SET version = version + 1 WHERE experiment_id = $1 AND variant_key = 'ts'`, [
      id,
    ]);

    // This replica flushes more decisions: committed (version 3), then the merged reload cannot serve.
    for (const u of ts.slice(2, 4)) expect((await rank(u)).status).toBe(200);
    await engine.flush();
    await engine.flush();
    await engine.flush();
    // The committed delta is in the stored statistics once: 12 shown slots, 12 observations.
    expect(await storedCount(ds, 'integrity', 'ts')).toEqual({ n: 12, version: 3, slots: 12 });

    const refused = await rank(ts[0]);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.body).toMatchObject({
      title: 'Variant quarantined',
      status: 503,
      type: expect.stringContaining('variant-quarantined'),
    });
    expect(refused.body.detail).toContain('"ts"');
    expect(refused.body.detail).toMatch(/not positive definite/);
    // Other variants keep serving; the quarantine shows on /health and /metrics.
    expect((await rank(lin[0])).status).toBe(200);
    const health = await t.call('GET', '/health', { key: null });
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.problems.models.quarantined).toEqual([
      {
        experiment: 'integrity',
        variant: 'ts',
        reason: expect.stringMatching(/not positive definite/),
        since: expect.any(String),
      },
    ]);
    expect((await t.call('GET', '/metrics', { key: null })).text).toContain(
      'slotwise_model_quarantined{experiment="integrity",variant="ts"} 1',
    );
    // Rewards for the quarantined variant are still stored (durable) and left for the replay at restart.
    const decision = (await t.call('GET', '/v1/experiments/integrity/decisions?variant=ts&limit=1')).body.decisions[0];
    const reward = await t.call('POST', '/v1/rewards', {
      body: {
        rewards: [
          { decisionId: decision.decisionId, itemId: decision.slots[0].itemId, value: 1, eventId: randomUUID() },
        ],
      },
    });
    expect(reward.body).toMatchObject({ accepted: 1, rejected: [] });
    await engine.flush();
    expect((await storedCount(ds, 'integrity', 'ts')).n).toBe(12);
  });

  it('quarantines a broken stored posterior when a restarted process loads it: 503 for that variant, never a 500 loop', async () => {
    const db = t.db;
    await t.close();
    t = await startTestApp({ db, env: { MODEL_FLUSH_MS: '60000', SLOTWISE_REPLICA_LEASE_SECONDS: '3' } });
    ds = t.running.app.get(DataSource);
    engine = t.running.app.get(RankEngine);
    const [ts, lin] = [await unitsIn(t, 'integrity', 'ts', 1), await unitsIn(t, 'integrity', 'lin', 1)];
    const rank = (unitId: string) =>
      t.call('POST', '/v1/rank', { body: { experiment: 'integrity', unitId, context: { age: 1 }, candidates: ITEMS } });
    for (let i = 0; i < 3; i++) {
      const refused = await rank(ts[0]);
      expect(refused.status).toBe(503);
      expect(refused.body.title).toBe('Variant quarantined');
      expect(refused.body.detail).toMatch(/stored posterior version 3: .*not positive definite/);
    }
    expect((await rank(lin[0])).status).toBe(200);
  });

  it('refuses feature values that would overflow the posterior, so one request cannot make it non-finite', async () => {
    expect((await t.call('POST', '/v1/experiments', { body: experiment('overflow') })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/overflow/start')).status).toBe(200);
    const [u] = await unitsIn(t, 'overflow', 'ts', 1);
    const rank = (context: unknown, candidates: unknown = ITEMS) =>
      t.call('POST', '/v1/rank', { body: { experiment: 'overflow', unitId: u, context, candidates } });
    const huge = await rank({ age: 1e200 });
    expect(huge.status).toBe(400);
    expect(huge.body.errors).toEqual([
      { path: 'context.age', message: expect.stringContaining('must be within [-1000000, 1000000]') },
    ]);
    const hugeItem = await rank([1], [{ id: 'x', features: [-1e7] }, ...ITEMS]);
    expect(hugeItem.status).toBe(400);
    expect(hugeItem.body.errors).toEqual([
      { path: 'candidates[0].features[0]', message: expect.stringContaining('must be within') },
    ]);
    expect((await rank({ age: 1e6 })).status).toBe(200);
    await engine.flush();
    const [{ id }] = await ds.query(`SELECT id FROM experiments WHERE key = 'overflow'`);
    const stored = await new ModelStateRepository(ds).load(id, 'ts');
    expect((stored!.snapshot.stats as HybridStats).n).toBe(3);
    expect(JSON.stringify(stored!.snapshot.stats)).not.toMatch(/null|Infinity|NaN/);
    expect((await rank({ age: 1 })).status).toBe(200);
  });

  it('settles a flush whose outcome was lost (a failed COMMIT answer, a broken connection) by its rows, never adding it twice', async () => {
    expect((await t.call('POST', '/v1/experiments', { body: experiment('doubt') })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/doubt/start')).status).toBe(200);
    const units = await unitsIn(t, 'doubt', 'ts', 3);
    const rank = (unitId: string) =>
      t.call('POST', '/v1/rank', { body: { experiment: 'doubt', unitId, context: { age: 2 }, candidates: ITEMS } });
    // A database fault of the kind a network gives: the transaction committed, but its answer never arrived.
    const repo = t.running.app.get(ModelStateRepository);
    const addDelta = repo.addDelta.bind(repo);
    repo.addDelta = async (...args) => {
      await addDelta(...args);
      throw new Error('Connection terminated unexpectedly');
    };
    try {
      expect((await rank(units[0])).status).toBe(200);
      await engine.flush();
    } finally {
      repo.addDelta = addDelta;
    }
    expect(await storedCount(ds, 'doubt', 'ts')).toEqual({ n: 3, version: 1, slots: 3 });
    // The other kind: the transaction never reached the server; the delta is put back and written once.
    repo.addDelta = async () => {
      throw new Error('Connection terminated unexpectedly');
    };
    try {
      expect((await rank(units[1])).status).toBe(200);
      await engine.flush();
    } finally {
      repo.addDelta = addDelta;
    }
    expect(await storedCount(ds, 'doubt', 'ts')).toEqual({ n: 3, version: 1, slots: 6 });
    expect((await rank(units[2])).status).toBe(200);
    await engine.flush();
    await engine.flush();
    expect(await storedCount(ds, 'doubt', 'ts')).toEqual({ n: 9, version: 2, slots: 9 });
  });

  it('stops serving and flushing when another process takes over its replica id', async () => {
    expect((await t.call('POST', '/v1/experiments', { body: experiment('leased') })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/leased/start')).status).toBe(200);
    const [u] = await unitsIn(t, 'leased', 'ts', 1);
    const rank = () =>
      t.call('POST', '/v1/rank', { body: { experiment: 'leased', unitId: u, context: { age: 1 }, candidates: ITEMS } });
    expect((await rank()).status).toBe(200);
    // What a second process with the same SLOTWISE_REPLICA_ID does after this one's lease lapsed.
    await ds.query(`UPDATE replica_leases SET holder = $1 WHERE replica_id = 'replica-1'`, [randomUUID()]);
    await engine.flush();
    // Not flushed: the new holder replays these rows (in_model stays false).
    expect(await storedCount(ds, 'leased', 'ts')).toEqual({ n: 0, version: 0, slots: 3 });
    const refused = await rank();
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({
      title: 'Replica id taken over',
      type: expect.stringContaining('replica-id-lost'),
    });
    expect((await t.call('GET', '/health', { key: null })).status).toBe(503);
    // Give the lease back so the shutdown of this test app is an ordinary one.
    await ds.query(`DELETE FROM replica_leases`);
  });
});

describe('an idle replica before its first decision', () => {
  it('checks the stored version and takes the merged posterior another replica wrote meanwhile', async () => {
    const t = await startTestApp({ env: { MODEL_FLUSH_MS: '100' } });
    try {
      const ds = t.running.app.get(DataSource);
      expect((await t.call('POST', '/v1/experiments', { body: experiment('idle') })).status).toBe(201);
      expect((await t.call('POST', '/v1/experiments/idle/start')).status).toBe(200);
      const [u] = await unitsIn(t, 'idle', 'ts', 1);
      const rank = () =>
        t.call('POST', '/v1/rank', { body: { experiment: 'idle', unitId: u, context: { age: 1 }, candidates: ITEMS } });
      expect((await rank()).body.modelVersion).toBe('none+thompson:hybrid@0');
      // The flush interval passes: this replica's decision is stored (version 1).
      for (let i = 0; i < 50 && (await storedCount(ds, 'idle', 'ts')).version < 1; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await storedCount(ds, 'idle', 'ts')).toEqual({ n: 3, version: 1, slots: 3 });
      // Another replica adds its delta (20 observations) while this one is idle.
      const [{ id }] = await ds.query(`SELECT id FROM experiments WHERE key = 'idle'`);
      const other = HybridModel.create({ contextDim: 1, itemDim: 1 });
      for (let i = 0; i < 20; i++) other.observe([i % 2], { id: `item-${i % 6}`, features: [i % 3] }, i % 2);
      await new ModelStateRepository(ds).addDelta(id, 'ts', other.takeDelta(), [], []);
      await new Promise((r) => setTimeout(r, 250));
      const after = await rank();
      expect(after.body.modelVersion).toBe('none+thompson:hybrid@2');
      const runtime = await t.running.app.get(RankEngine).runtime('idle');
      // 3 of this replica's flushed + 20 of the other's + 3 of this decision (pending).
      expect((runtime.variants.get('ts')!.model!.snapshot().stats as { n: number }).n).toBe(26);
    } finally {
      await t.close(true);
    }
  });
});
