import { createModel, createRng, ThompsonPolicy, type BanditModel } from '@slotwise/bandit';
import { DataSource } from 'typeorm';
import { policySchema } from '../apps/api/src/modules/experiments/experiment.schema';
import { DeferredPropensities } from '../apps/api/src/modules/rank/deferred-propensities';
import { modelSpecFor } from '../apps/api/src/modules/rank/experiment-runtime';
import { rankingExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * Thompson `propensities: "deferred"` (issue 13): the answer comes without propensities, the decision is durable
 * before it, the propensities are in the log within 1 s, and they are exactly what the logged row and the posterior
 * it was drawn from give (replayed here in process). Runs on the embedded database, or a server with DATABASE_URL.
 */
const POLICY = { type: 'thompson', model: 'hybrid', propensityDraws: 400, propensities: 'deferred' } as const;
const candidates = (t: number) =>
  Array.from({ length: 12 }, (_, i) => ({
    id: `item-${i}`,
    features: { price: ((i * 7 + t) % 5) - 2, size: ((i * 3) % 4) - 1.5 },
  }));

interface LoggedRow {
  seed: string | number;
  context: number[];
  shortlist: { ids: string[]; rankerScores: number[]; features: number[][] };
}

/** The decision a logged row gives when replayed in process from the prior with the row's seed (3 slots). */
function replayLogged(
  row: LoggedRow,
  policy: Omit<typeof POLICY, 'propensities'> & { propensities: 'inline' | 'deferred' },
) {
  const model = createModel(
    modelSpecFor(policySchema.parse(policy), { contextDim: 2, itemDim: 2, embeddingDim: null })!,
  ) as BanditModel;
  const shortlist = row.shortlist;
  return new ThompsonPolicy(model).decide(
    {
      context: row.context,
      candidates: shortlist.ids.map((id, i) => ({
        id,
        features: shortlist.features[i],
        rankerScore: shortlist.rankerScores[i],
      })),
      slots: 3,
      propensityDraws: policy.propensityDraws,
    },
    createRng(Number(row.seed)),
  );
}

describe('deferred propensities', () => {
  let t: TestApp;
  let db: DataSource;
  beforeAll(async () => {
    t = await startTestApp();
    db = t.running.app.get(DataSource);
    const created = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('deferred', {
        slots: 3,
        features: { context: ['age', 'visits'], item: ['price', 'size'] },
        variants: [{ key: 'ts', weight: 1, policy: POLICY }],
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body.variants[0].policy.propensities).toBe('deferred');
    expect((await t.call('POST', '/v1/experiments/deferred/start')).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await t?.close(true);
  });

  const slotPropensities = async (decisionId: string): Promise<Array<number | null>> =>
    (
      await db.query(`SELECT propensity FROM decision_slots WHERE decision_id = $1 ORDER BY position`, [decisionId])
    ).map((r: { propensity: number | null }) => r.propensity);

  async function waitForPropensities(ids: string[], withinMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const missing = (
        await db.query(
          `SELECT count(*)::int AS n FROM decision_slots WHERE decision_id = ANY($1::uuid[]) AND propensity IS NULL`,
          [ids],
        )
      )[0].n;
      const elapsed = Date.now() - t0;
      if (missing === 0) return elapsed;
      if (elapsed > withinMs) throw new Error(`${missing} slot propensities still missing after ${elapsed} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('answers without propensities, the decision already stored; the propensities follow within 1 s and replay exactly', async () => {
    const res = await t.call('POST', '/v1/rank', {
      body: { experiment: 'deferred', unitId: 'u-first', context: { age: 0.5, visits: -1 }, candidates: candidates(0) },
    });
    expect(res.status).toBe(200);
    expect(res.body.variant).toBe('ts');
    expect(res.body.slots.map((s: { propensity: number | null }) => s.propensity)).toEqual([null, null, null]);
    // durable before the 2xx: the decision and its slots are stored
    const [row] = await db.query(`SELECT seed, context, shortlist FROM decisions WHERE id = $1`, [res.body.decisionId]);
    expect(row).toBeDefined();
    expect(await waitForPropensities([res.body.decisionId], 1000)).toBeLessThanOrEqual(1000);

    // exact replay: the first decision of a fresh variant was drawn from the prior; same seed, row and model → same numbers
    const replay = replayLogged(row, POLICY);
    expect(replay.slots.map((s) => s.itemId)).toEqual(res.body.slots.map((s: { itemId: string }) => s.itemId));
    expect(await slotPropensities(res.body.decisionId)).toEqual(replay.slots.map((s) => s.propensity));
  }, 60_000);

  it('under a burst of 30 concurrent requests every propensity is logged within 1 s of the last answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        t.call('POST', '/v1/rank', {
          body: {
            experiment: 'deferred',
            unitId: `u-${i}`,
            context: { age: i % 3, visits: (i % 5) - 2 },
            candidates: candidates(i),
          },
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    const ids = answers.map((a) => a.body.decisionId as string);
    expect(await waitForPropensities(ids, 1000)).toBeLessThanOrEqual(1000);
    for (const id of ids) for (const p of await slotPropensities(id)) expect(p).toBeGreaterThan(0);
    // the decision log shows them
    const log = await t.call('GET', '/v1/experiments/deferred/decisions?limit=5');
    expect(log.status).toBe(200);
    for (const d of log.body.decisions) for (const s of d.slots) expect(s.propensity).toBeGreaterThan(0);
  }, 60_000);

  it('inline propensities are computed on the worker thread and equal the in-process decision exactly', async () => {
    const INLINE = { ...POLICY, propensities: 'inline' } as const;
    const created = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('inline-worker', {
        slots: 3,
        features: { context: ['age', 'visits'], item: ['price', 'size'] },
        variants: [{ key: 'ts', weight: 1, policy: INLINE }],
      }),
    });
    expect(created.status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/inline-worker/start')).status).toBe(200);
    const deferred = t.running.app.get(DeferredPropensities);
    expect(await deferred.whenOffloading()).toBe(true);
    const before = deferred.inlineOnWorker;
    const res = await t.call('POST', '/v1/rank', {
      body: {
        experiment: 'inline-worker',
        unitId: 'u-inline',
        context: { age: -0.5, visits: 1 },
        candidates: candidates(3),
      },
    });
    expect(res.status).toBe(200);
    expect(deferred.inlineOnWorker).toBe(before + 1);
    const answered = res.body.slots.map((s: { propensity: number | null }) => s.propensity);
    // the answer and the log carry them (inline), and they are what the in-process inline decision gives
    const [row] = await db.query(`SELECT seed, context, shortlist FROM decisions WHERE id = $1`, [res.body.decisionId]);
    expect(await slotPropensities(res.body.decisionId)).toEqual(answered);
    const replay = replayLogged(row, INLINE);
    expect(replay.slots.map((s) => s.itemId)).toEqual(res.body.slots.map((s: { itemId: string }) => s.itemId));
    expect(answered).toEqual(replay.slots.map((s) => s.propensity));
    expect(answered.every((p: number) => p > 0 && p <= 1)).toBe(true);
  }, 60_000);

  it('refuses an unknown mode with the path', async () => {
    const bad = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('deferred-bad', {
        variants: [{ key: 'ts', weight: 1, policy: { ...POLICY, propensities: 'later' } }],
      }),
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'variants[0].policy.propensities', message: 'must be "inline" or "deferred"' }),
      ]),
    );
  });
});
