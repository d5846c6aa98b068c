/**
 * The slot position reaches the linear model's position model (issue 12) on the whole rewards path: rank observes
 * each shown slot with its 0-based slot index, and a reward corrects the slot it was shown in, so the stored per-slot
 * sums equal a recomputation from the decision log (every slot observed at its logged position with its reward total).
 */
import { LinearModel } from '@slotwise/bandit';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { recomputedStats, storedStats } from './support/posterior-check';
import { startTestApp, type TestApp } from './support/test-app';

describe('position model through HTTP: rank → rewards → stored per-slot statistics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SLOTWISE_DECISION_SEED: '12', MODEL_FLUSH_MS: '50' } });
  }, 300_000);
  afterAll(async () => t?.db.drop()); // the app is closed in the test (the close flushes)

  it('stores per-slot sums for slots 2 and 3 that include the rewards sent for those slots', async () => {
    const created = await t.call('POST', '/v1/experiments', {
      body: {
        key: 'positions',
        name: 'Positions',
        kind: 'ranking',
        slots: 3,
        rewardWindowSeconds: 3600,
        features: { context: ['age'], item: ['price'] },
        variants: [{ key: 'lin', weight: 1, policy: { type: 'thompson', model: 'linear', propensityDraws: 10 } }],
        metrics: { primary: 'reward' },
      },
    });
    expect(created.status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/positions/start')).status).toBe(200);
    const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, features: { price: i % 3 } }));
    for (let u = 0; u < 30; u++) {
      const res = await t.call('POST', '/v1/rank', {
        body: { experiment: 'positions', unitId: `u${u}`, context: { age: u % 4 }, candidates },
      });
      expect(res.status).toBe(200);
      const slots = res.body.slots as Array<{ itemId: string; position: number }>;
      // integer rewards on the 2nd and 3rd slots (and the 1st every third decision): exact sums
      const rewards = [
        { decisionId: res.body.decisionId, itemId: slots[1].itemId, value: 1 + (u % 2) },
        { decisionId: res.body.decisionId, itemId: slots[2].itemId, value: 2 },
        ...(u % 3 === 0 ? [{ decisionId: res.body.decisionId, itemId: slots[0].itemId, value: 1 }] : []),
      ];
      const rw = await t.call('POST', '/v1/rewards', { body: { rewards } });
      expect(rw.status).toBe(200);
      expect(rw.body.accepted).toBe(rewards.length);
    }
    await t.running.close(); // flushes the pending delta
    // the embedded database's socket closed with the app: open it again to read the stored rows
    const embedded = t.db.url ? null : new EmbeddedPostgres(join(t.db.dataDir, 'data'), 2);
    const c = new Client({ connectionString: t.db.url ?? (await embedded!.start()) });
    await c.connect();
    try {
      const [{ id }] = (await c.query<{ id: string }>(`SELECT id FROM experiments WHERE key = 'positions'`)).rows;
      const stored = (await storedStats(c, id, 'lin')) as {
        n: number;
        positions: Record<string, { n: number; xy: number[] }>;
      };
      const expected = await recomputedStats(c, id, 'lin', LinearModel.create({ contextDim: 1, itemDim: 1 }));
      expect(stored.n).toBe(90);
      expect(stored).toEqual(expected.stats);
      // slots 2 and 3 (0-based 1 and 2): 30 observations each; the intercept entry of X_kᵀy is the slot's reward sum
      expect(Object.keys(stored.positions)).toEqual(['1', '2']);
      expect(stored.positions['1'].n).toBe(30);
      expect(stored.positions['1'].xy[0]).toBe(45);
      expect(stored.positions['2'].xy[0]).toBe(60);
    } finally {
      await c.end();
      await embedded?.stop();
    }
  }, 120_000);
});
