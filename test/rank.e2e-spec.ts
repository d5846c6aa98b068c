import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { RankEngine } from '../apps/api/src/modules/rank/rank-engine';
import { freshDatabase, rankingExperiment, startTestApp, TestApp } from './support/test-app';

const candidates = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: `item-${i + offset}`, features: { price: ((i + offset) % 10) / 10 } }));

async function unitIn(t: TestApp, experiment: string, variant: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const res = await t.call('POST', '/v1/rank', {
      body: { experiment, unitId: `probe-${i}`, context: { age: 0.5 }, candidates: candidates(5) },
    });
    if (res.body.variant === variant) return `probe-${i}`;
  }
  throw new Error(`no unit landed in ${variant}`);
}

describe('POST /v1/rank and /v1/rewards', () => {
  let t: TestApp;
  let serving: string;

  beforeAll(async () => {
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '60000' } });
    serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'backend', role: 'serving' } })).body.key;
    expect(
      (await t.call('POST', '/v1/experiments', { body: rankingExperiment('feed', { rewardWindowSeconds: 3600 }) }))
        .status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/feed/start')).status).toBe(200);
  });
  afterAll(() => t.close(true));

  it('answers ranked slots with propensities, exploration flags and a logged decision', async () => {
    const res = await t.call('POST', '/v1/rank', {
      key: serving,
      body: { experiment: 'feed', unitId: 'u-1', context: { age: 0.3 }, candidates: candidates(20) },
    });
    expect(res.status).toBe(200);
    expect(res.body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(['control', 'ts']).toContain(res.body.variant);
    expect(res.body.slots).toHaveLength(3);
    expect(res.body.slots.map((s: { position: number }) => s.position)).toEqual([1, 2, 3]);
    expect(new Set(res.body.slots.map((s: { itemId: string }) => s.itemId)).size).toBe(3);
    for (const s of res.body.slots) {
      expect(s.propensity).toBeGreaterThan(0);
      expect(s.propensity).toBeLessThanOrEqual(1);
      expect(typeof s.explored).toBe('boolean');
      expect(s.coldStart).toBe(true);
    }
    // The same unit keeps its variant.
    const again = await t.call('POST', '/v1/rank', {
      key: serving,
      body: { experiment: 'feed', unitId: 'u-1', context: { age: 0.3 }, candidates: candidates(20) },
    });
    expect(again.body.variant).toBe(res.body.variant);
    expect(again.body.decisionId).not.toBe(res.body.decisionId);
  });

  it('control (ranker greedy without a model) keeps the input order with propensity 1', async () => {
    const unit = await unitIn(t, 'feed', 'control');
    const res = await t.call('POST', '/v1/rank', {
      body: { experiment: 'feed', unitId: unit, context: [0.1], candidates: candidates(10) },
    });
    expect(res.body.slots.map((s: { itemId: string }) => s.itemId)).toEqual(['item-0', 'item-1', 'item-2']);
    expect(res.body.slots.map((s: { propensity: number }) => s.propensity)).toEqual([1, 1, 1]);
    expect(res.body.slots.every((s: { explored: boolean }) => !s.explored)).toBe(true);
  });

  it('explains each slot of the Thompson variant', async () => {
    const unit = await unitIn(t, 'feed', 'ts');
    const res = await t.call('POST', '/v1/rank', {
      body: { experiment: 'feed', unitId: unit, context: { age: 0.7 }, candidates: candidates(8), explain: true },
    });
    expect(res.body.variant).toBe('ts');
    for (const s of res.body.slots) {
      expect(s.explanation).toMatchObject({ explored: s.explored, coldStart: s.coldStart });
      expect(typeof s.explanation.posteriorMean).toBe('number');
      expect(typeof s.explanation.drawnScore).toBe('number');
      expect(s.explanation.standardDeviation).toBeGreaterThan(0);
      expect(s.explanation.contributions.length).toBeLessThanOrEqual(5);
      for (const c of s.explanation.contributions) expect(typeof c.feature).toBe('string');
    }
  });

  it('uses catalog features when a candidate comes as an id only', async () => {
    await t.call('POST', '/v1/items/batch', {
      body: { items: Array.from({ length: 30 }, (_, i) => ({ id: `cat-${i}`, features: { price: i / 30 } })) },
    });
    const res = await t.call('POST', '/v1/rank', {
      key: serving,
      body: {
        experiment: 'feed',
        unitId: 'u-cat',
        context: { age: 0.2 },
        candidates: Array.from({ length: 30 }, (_, i) => ({ id: `cat-${i}` })),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.slots).toHaveLength(3);
    const missing = await t.call('POST', '/v1/rank', {
      key: serving,
      body: {
        experiment: 'feed',
        unitId: 'u-cat',
        context: { age: 0.2 },
        candidates: [{ id: 'cat-1' }, { id: 'nowhere' }],
      },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { path: 'candidates[1].features', message: expect.stringContaining('not in the catalog') },
    ]);
  });

  it('answers a stopped or draft experiment with the baseline order and no decision', async () => {
    await t.call('POST', '/v1/experiments', { body: rankingExperiment('draft-feed') });
    const res = await t.call('POST', '/v1/rank', {
      key: serving,
      body: { experiment: 'draft-feed', unitId: 'u-1', context: { age: 0.3 }, candidates: candidates(5) },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      decisionId: null,
      variant: null,
      reason: 'not_running',
      experiment: 'draft-feed',
    });
    expect(res.body.slots.map((s: { itemId: string }) => s.itemId)).toEqual(['item-0', 'item-1', 'item-2']);
  });

  it('bad input gets a clear 4xx with paths', async () => {
    const call = (body: unknown) => t.call('POST', '/v1/rank', { key: serving, body });
    const unknown = await call({ experiment: 'no-such', unitId: 'u', candidates: candidates(2) });
    expect(unknown.status).toBe(404);
    const dup = await call({
      experiment: 'feed',
      unitId: 'u',
      context: { age: 1 },
      candidates: [{ id: 'a' }, { id: 'a' }],
    });
    expect(dup.status).toBe(400);
    expect(dup.body.errors).toEqual([{ path: 'candidates[1].id', message: 'duplicate candidate id "a"' }]);
    const tooMany = await call({ experiment: 'feed', unitId: 'u', context: { age: 1 }, candidates: candidates(2001) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toEqual({ path: 'candidates', message: 'at most 2000 candidates per request' });
    const malformed = await call({
      experiment: 'feed',
      unitId: 'u',
      context: { age: 1 },
      candidates: [{ id: 7 }, { id: 'b', features: { price: 'x' } }, { id: 'c', colour: 1 }],
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'candidates[0].id',
      'candidates[1].features.price',
      'candidates[2].colour',
    ]);
    expect(malformed.body.errors).toContainEqual({
      path: 'candidates[1].features.price',
      message: 'must be a finite number',
    });
    const badShapes = await call({
      experiment: 'feed',
      unitId: 'u',
      context: 'old',
      candidates: [
        { id: 'a', features: [0.5, null] },
        { id: 'b', features: 3 },
      ],
    });
    expect(badShapes.status).toBe(400);
    expect(badShapes.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'context',
      'candidates[0].features[1]',
      'candidates[1].features',
    ]);
    const missingFeature = await call({
      experiment: 'feed',
      unitId: 'u',
      context: {},
      candidates: [{ id: 'a', features: {} }],
    });
    expect(missingFeature.status).toBe(400);
    expect(missingFeature.body.errors.map((e: { path: string }) => e.path)).toEqual([
      'context.age',
      'candidates[0].features.price',
    ]);
    const wrongLength = await call({
      experiment: 'feed',
      unitId: 'u',
      context: [1, 2],
      candidates: [{ id: 'a', features: [0.1] }],
    });
    expect(wrongLength.status).toBe(400);
    expect(wrongLength.body.errors[0].path).toBe('context');
    const noUnit = await call({ experiment: 'feed', candidates: candidates(2) });
    expect(noUnit.status).toBe(400);
    expect(noUnit.body.errors[0].path).toBe('unitId');
    const editor = (await t.call('POST', '/v1/api-keys', { body: { name: 'ed', role: 'editor' } })).body.key;
    expect(
      (
        await t.call('POST', '/v1/rank', {
          key: editor,
          body: { experiment: 'feed', unitId: 'u', candidates: candidates(2) },
        })
      ).status,
    ).toBe(403);
  });

  it('records rewards idempotently by eventId and rejects what cannot be applied', async () => {
    const rank = await t.call('POST', '/v1/rank', {
      key: serving,
      body: { experiment: 'feed', unitId: 'u-r', context: { age: 0.3 }, candidates: candidates(10) },
    });
    const [first, second] = rank.body.slots;
    const batch = {
      rewards: [
        { decisionId: rank.body.decisionId, itemId: first.itemId, value: 1, eventId: 'ev-1' },
        { decisionId: rank.body.decisionId, itemId: second.itemId, value: 2.5, eventId: 'ev-2' },
        { decisionId: rank.body.decisionId, itemId: second.itemId, value: 2.5, eventId: 'ev-2' },
        { decisionId: randomUUID(), itemId: first.itemId, value: 1 },
        { decisionId: rank.body.decisionId, itemId: 'never-shown', value: 1 },
        {
          decisionId: rank.body.decisionId,
          itemId: first.itemId,
          value: 1,
          timestamp: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ],
    };
    const res = await t.call('POST', '/v1/rewards', { key: serving, body: batch });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: [
        { index: 3, reason: 'unknown decision' },
        { index: 4, reason: 'item "never-shown" was not shown in this decision' },
        { index: 5, reason: 'timestamp is in the future' },
      ],
    });
    const retry = await t.call('POST', '/v1/rewards', { key: serving, body: { rewards: batch.rewards.slice(0, 2) } });
    expect(retry.body).toEqual({ accepted: 0, duplicates: 2, rejected: [] });
    const bad = await t.call('POST', '/v1/rewards', {
      key: serving,
      body: { rewards: [{ decisionId: 'nope', itemId: 'x', value: 'high' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['rewards[0].decisionId', 'rewards[0].value']);
  });

  it('logs the exposure through the A/B engine, and erasing a unit unlinks its decisions', async () => {
    const db = t.running.app.get(DataSource);
    const rank = await t.call('POST', '/v1/rank', {
      key: serving,
      body: { experiment: 'feed', unitId: 'erase-me', context: { age: 0.3 }, candidates: candidates(5) },
    });
    const [exposure] = await db.query(`SELECT variant FROM exposures WHERE unit_id = 'erase-me'`);
    expect(exposure.variant).toBe(rank.body.variant);
    const erased = await t.call('DELETE', '/v1/units/erase-me');
    expect(erased.status).toBeLessThan(300);
    expect(await db.query(`SELECT unit_id FROM decisions WHERE id = $1`, [rank.body.decisionId])).toEqual([
      { unit_id: null },
    ]);
    expect(await db.query(`SELECT 1 FROM exposures WHERE unit_id = 'erase-me'`)).toEqual([]);
  });

  it('rejects rewards after the experiment reward window', async () => {
    await t.call('POST', '/v1/experiments', { body: rankingExperiment('short-window', { rewardWindowSeconds: 1 }) });
    await t.call('POST', '/v1/experiments/short-window/start');
    const rank = await t.call('POST', '/v1/rank', {
      body: { experiment: 'short-window', unitId: 'u', context: { age: 0.3 }, candidates: candidates(5) },
    });
    await new Promise((r) => setTimeout(r, 1200));
    const res = await t.call('POST', '/v1/rewards', {
      body: { rewards: [{ decisionId: rank.body.decisionId, itemId: rank.body.slots[0].itemId, value: 1 }] },
    });
    expect(res.body).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: [{ index: 0, reason: 'reward window of 1 s has closed' }],
    });
  });

  it('learns from a reward at once: the next rank on this process sees it', async () => {
    const unit = await unitIn(t, 'feed', 'ts');
    const body = {
      experiment: 'feed',
      unitId: unit,
      context: { age: 0.9 },
      candidates: [
        { id: 'learn-a', features: { price: 0.4 } },
        { id: 'learn-b', features: { price: 0.6 } },
        { id: 'learn-c', features: { price: 0.8 } },
      ],
      explain: true,
    };
    const before = await t.call('POST', '/v1/rank', { body });
    const meanOf = (r: typeof before, id: string) =>
      r.body.slots.find((s: { itemId: string }) => s.itemId === id).explanation.posteriorMean as number;
    const rewards = before.body.slots
      .filter((s: { itemId: string }) => s.itemId === 'learn-a')
      .map(() => ({ decisionId: before.body.decisionId, itemId: 'learn-a', value: 5 }));
    await t.call('POST', '/v1/rewards', { body: { rewards } });
    const after = await t.call('POST', '/v1/rank', { body });
    expect(meanOf(after, 'learn-a')).toBeGreaterThan(meanOf(before, 'learn-a'));
  });
});

describe('posterior state survives restarts and crashes', () => {
  it('replays decisions and rewards that were never flushed, and reloads flushed ones', async () => {
    const db = await freshDatabase();
    const env = { MODEL_FLUSH_MS: '60000' };
    let t = await startTestApp({ db, env });
    await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('durable', {
        variants: [
          { key: 'ts', weight: 1, policy: { type: 'thompson', model: 'hybrid' } },
          { key: 'ts2', weight: 1, policy: { type: 'thompson', model: 'linear' } },
        ],
      }),
    });
    await t.call('POST', '/v1/experiments/durable/start');
    const feed = async () => {
      for (let i = 0; i < 12; i++) {
        const r = await t.call('POST', '/v1/rank', {
          body: { experiment: 'durable', unitId: `u-${i}`, context: { age: i / 12 }, candidates: candidates(6) },
        });
        await t.call('POST', '/v1/rewards', {
          body: {
            rewards: [
              {
                decisionId: r.body.decisionId,
                itemId: r.body.slots[0].itemId,
                value: i % 3,
                eventId: `${r.body.decisionId}-0`,
              },
            ],
          },
        });
      }
    };
    // The posteriors as this process holds them (statistics of every variant).
    const posteriors = async () => {
      const runtime = await t.running.app.get(RankEngine).runtime('durable');
      return Object.fromEntries([...runtime.variants.values()].map((v) => [v.key, v.model!.snapshot()]));
    };
    const expectSame = (a: unknown, b: unknown, path = ''): void => {
      if (typeof a === 'number') {
        expect({ path, value: b }).toEqual({ path, value: expect.closeTo(a, 9) });
      } else if (Array.isArray(a)) {
        expect(Array.isArray(b) && b.length === a.length).toBe(true);
        a.forEach((x, i) => expectSame(x, (b as unknown[])[i], `${path}[${i}]`));
      } else if (a && typeof a === 'object') {
        expect(Object.keys(b as object).sort()).toEqual(Object.keys(a).sort());
        for (const k of Object.keys(a))
          expectSame((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      } else expect(b).toEqual(a);
    };

    // 1. A graceful stop flushes the posterior; a restart loads it.
    await feed();
    const beforeStop = await posteriors();
    expect(
      (beforeStop.ts as { stats: { n: number } }).stats.n + (beforeStop.ts2 as { stats: { n: number } }).stats.n,
    ).toBe(36);
    await t.close();
    t = await startTestApp({ db, env });
    expectSame(beforeStop, await posteriors());

    // 2. A crash (no flush) after more traffic: the decisions and rewards in the log are replayed at load.
    await feed();
    const beforeCrash = await posteriors();
    const engine = t.running.app.get(RankEngine);
    engine.flush = async () => undefined; // what a crash skips
    await t.close();
    t = await startTestApp({ db, env });
    expectSame(beforeCrash, await posteriors());
    await t.close(true);
  });
});
