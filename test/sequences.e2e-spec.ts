import { OnnxScorer } from '@slotwise/ranker';
import { DataSource } from 'typeorm';
import { loadSessionGru, sessionIntentWorldSpec } from '../libs/ranker/fixtures/session-gru';
import { freshDatabase, rankingExperiment, startTestApp, TestApp } from './support/test-app';

// Issue 17 part 4: a sequence ranker's history input is filled from the unit's interactions (positive rewards),
// logged with the decision, shown by explain, and erased with the unit.
const world = sessionIntentWorldSpec();
const itemNames = ['cat0', 'cat1', 'cat2', 'cat3', 'style0', 'style1', 'style2', 'style3'];
const contextNames = ['taste0', 'taste1', 'taste2', 'taste3'];
const features = (i: number) => Object.fromEntries(itemNames.map((n, j) => [n, world.items[i][j]]));
const candidates = [0, 1, 2, 3, 5, 6].map((i) => ({ id: `item-${i}`, features: features(i) }));
const context = { taste0: 0.5, taste1: -1, taste2: 0.25, taste3: 2 };

describe('sequence ranker: history from the feature store → the next decision (issue 17 part 4)', () => {
  let t: TestApp;
  let db: DataSource;
  const gru = loadSessionGru();
  let scorer: OnnxScorer;

  beforeAll(async () => {
    t = await startTestApp({ db: await freshDatabase(), env: { MODEL_FLUSH_MS: '60000' } });
    db = t.running.app.get(DataSource);
    scorer = await OnnxScorer.create(gru.bytes, gru.signature);
  }, 240_000); // the embedded database's start-up on a loaded machine
  afterAll(async () => {
    await scorer.dispose();
    await t.close(true);
  });

  const rank = async (unitId: string) => {
    const r = await t.call('POST', '/v1/rank', {
      body: { experiment: 'session', unitId, context, candidates, slots: 2, explain: true },
    });
    expect(r.status).toBe(200);
    return r.body;
  };
  const loggedHistory = async (decisionId: string) =>
    (await db.query(`SELECT shortlist->'history' AS h FROM decisions WHERE id = $1`, [decisionId]))[0].h;
  const reward = async (decisionId: string, itemId: string, value: number, at?: number) =>
    (
      await t.call('POST', '/v1/rewards', {
        body: { rewards: [{ decisionId, itemId, value, ...(at ? { timestamp: new Date(at).toISOString() } : {}) }] },
      })
    ).body;

  it('uploads the GRU with its history input and ranks with an empty history first', async () => {
    const up = await t.call('POST', '/v1/models', {
      body: { name: 'session-gru', signature: gru.signature, onnx: Buffer.from(gru.bytes).toString('base64') },
    });
    expect(up.status).toBe(201);
    const experiment = rankingExperiment('session', {
      features: { context: contextNames, item: itemNames },
      ranker: { model: 'session-gru@1', shortlist: 6 },
      variants: [{ key: 'greedy', weight: 1, policy: { type: 'ranker' } }],
      rewardWindowSeconds: 3600,
    });
    expect((await t.call('POST', '/v1/experiments', { body: experiment })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/session/start')).status).toBe(200);
    const first = await rank('u-1');
    expect(first.history).toEqual({ itemIds: [], features: [] });
    expect(await loggedHistory(first.decisionId)).toEqual({ itemIds: [], features: [] });
  });

  it('positive rewards enter the history (newest first, late ones at their time); zero and negative ones do not', async () => {
    const d1 = await rank('u-1');
    const now = Date.now();
    expect((await reward(d1.decisionId, d1.slots[0].itemId, 1, now - 3000)).accepted).toBe(1);
    expect((await reward(d1.decisionId, d1.slots[1].itemId, 0)).accepted).toBe(1);
    const d2 = await rank('u-1');
    expect(await loggedHistory(d2.decisionId)).toEqual({
      itemIds: [d1.slots[0].itemId],
      features: [world.items[Number(d1.slots[0].itemId.slice(5))]],
    });

    // a reward on d2 now, then a late one on d1 stamped before the first: newest first by their own times
    expect((await reward(d2.decisionId, d2.slots[1].itemId, 2.5)).accepted).toBe(1);
    expect((await reward(d1.decisionId, d1.slots[1].itemId, 1, now - 60_000)).accepted).toBe(1);
    expect((await reward(d2.decisionId, d2.slots[0].itemId, -1)).accepted).toBe(1);
    const d3 = await rank('u-1');
    const ids = [d2.slots[1].itemId, d1.slots[0].itemId, d1.slots[1].itemId];
    expect(d3.history.itemIds).toEqual(ids);
    expect(await loggedHistory(d3.decisionId)).toEqual(d3.history);
    const exported = (await t.call('GET', '/v1/experiments/session/training-export')).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(exported.find((r) => r.decisionId === d3.decisionId).history).toEqual(d3.history);

    // the ranker saw exactly that history: its scores are the GRU's on the logged rows, zero-padded to K = 5
    const matrix = new Float32Array(5 * 8);
    d3.history.features.forEach((row: number[], j: number) => matrix.set(row, j * 8));
    const items = new Float32Array(candidates.length * 8);
    candidates.forEach((c, i) =>
      items.set(
        itemNames.map((n) => c.features[n]),
        i * 8,
      ),
    );
    const direct = await scorer.score(
      contextNames.map((n) => context[n as keyof typeof context]),
      items,
      candidates.length,
      matrix,
    );
    for (const slot of d3.slots) {
      const i = candidates.findIndex((c) => c.id === slot.itemId);
      expect(Math.abs(slot.explanation.rankerScore - direct.scores[i])).toBeLessThan(1e-6);
    }
    // …and it differs from what the same ranker gives without history (d1's scores)
    expect(d3.slots.map((s: { explanation: { rankerScore: number } }) => s.explanation.rankerScore)).not.toEqual(
      d1.slots.map((s: { explanation: { rankerScore: number } }) => s.explanation.rankerScore),
    );
  });

  it('another unit has its own history', async () => {
    expect((await rank('u-2')).history).toEqual({ itemIds: [], features: [] });
  });

  it('a stored feature beyond the rank bound (timeSinceLast of 20 days = 1.7e6 s) is saturated at 1e6, not refused', async () => {
    expect(
      (await t.call('POST', '/v1/events', { body: { events: [{ unitId: 'someone', metric: 'click' }] } })).status,
    ).toBe(200);
    const since = {
      name: 'unit.since_click',
      entity: 'unit',
      source: { type: 'event', metric: 'click' },
      aggregation: 'timeSinceLast',
      window: { type: 'decay', halfLifeSeconds: 30 * 86400 },
    };
    expect((await t.call('POST', '/v1/features', { body: since })).status).toBe(201);
    const at = Date.now() - 20 * 86400_000;
    expect(
      (
        await t.call('POST', '/v1/events', {
          body: { events: [{ unitId: 'u-old', metric: 'click', timestamp: new Date(at).toISOString() }] },
        })
      ).status,
    ).toBe(200);
    const stored = await t.call('GET', '/v1/units/u-old/features');
    expect(stored.body.features['unit.since_click']).toBeCloseTo((Date.parse(stored.body.at) - at) / 1000, 6); // the true value, > 1e6
    const experiment = rankingExperiment('old', {
      features: { context: ['unit.since_click'], item: ['price'] },
      variants: [{ key: 'greedy', weight: 1, policy: { type: 'ranker' } }],
    });
    expect((await t.call('POST', '/v1/experiments', { body: experiment })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/old/start')).status).toBe(200);
    const r = await t.call('POST', '/v1/rank', {
      body: {
        experiment: 'old',
        unitId: 'u-old',
        candidates: [
          { id: 'a', features: { price: 1 } },
          { id: 'b', features: { price: 2 } },
        ],
        explain: true,
      },
    });
    expect(r.status).toBe(200); // was 400 "must be a finite number with |value| ≤ 1000000"
    expect(r.body.storedFeatures.context).toEqual({ 'unit.since_click': 1e6 });
    expect((await db.query(`SELECT context FROM decisions WHERE id = $1`, [r.body.decisionId]))[0].context).toEqual([
      1e6,
    ]);
  });

  it('DELETE /v1/units/{id} erases the history and the history logged with its decisions', async () => {
    const erased = await t.call('DELETE', '/v1/units/u-1');
    expect(erased.status).toBe(200);
    expect(erased.body.erased.history).toBe(3);
    expect((await db.query(`SELECT count(*)::int AS n FROM unit_history WHERE unit_id = 'u-1'`))[0].n).toBe(0);
    expect(
      (
        await db.query(
          `SELECT count(*)::int AS n FROM decisions WHERE shortlist ? 'history' AND shortlist->'history'->'itemIds' <> '[]'::jsonb`,
        )
      )[0].n,
    ).toBe(0);
    expect((await db.query(`SELECT count(*)::int AS n FROM decisions WHERE shortlist ? 'history'`))[0].n).toBe(1); // u-2's
    expect((await rank('u-1')).history).toEqual({ itemIds: [], features: [] });
  });
});
