import { randomUUID } from 'node:crypto';
import { BetaModel, createRng, HybridModel, type HybridSnapshot, LinearModel } from '@slotwise/bandit';
import { MIGRATIONS } from '../../database/migrations';
import { SERVER_URL } from '../../../../../test/support/test-app';
import {
  insertRankingExperiment,
  repositoryTestDatabase,
  useRankingDatabase,
} from '../../../../../test/support/test-db';
import { DecisionsRepository } from './decisions.repository';
import { ModelStateRepository, ReplicaLeaseLostError } from './model-state.repository';
import { packStats } from './stats-codec';

const rng = createRng(11);
const vector = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const items = Array.from({ length: 6 }, (_, i) => ({ id: `item-${i}`, features: vector(3) }));

function observeSome(model: HybridModel, n: number): void {
  for (let k = 0; k < n; k++) model.observe(vector(4), items[k % items.length], rng.uniform() < 0.3 ? 1 : 0);
}

/** Stored snapshots compare as JSON: the bandit library's own canonical form (sorted items, full matrices). */
const canonical = (snapshot: unknown) =>
  JSON.stringify(HybridModel.fromSnapshot(snapshot as HybridSnapshot).snapshot());

describe('ModelStateRepository (on the database)', () => {
  const ctx = useRankingDatabase('model-state');

  it('stores the sum of the deltas exactly and loads it back', async () => {
    const repo = new ModelStateRepository(ctx.ds);
    expect(await repo.load(ctx.experimentId, 'exact')).toBeNull();
    const model = HybridModel.create({ contextDim: 4, itemDim: 3 });
    let reference: HybridModel | null = null;
    for (let flush = 1; flush <= 3; flush++) {
      observeSome(model, 40);
      const delta = model.takeDelta();
      if (reference) reference.mergeDelta(delta);
      else reference = HybridModel.fromSnapshot(delta);
      expect(await repo.addDelta(ctx.experimentId, 'exact', delta, [], [])).toEqual({
        before: flush - 1,
        after: flush,
      });
    }
    const loaded = await repo.load(ctx.experimentId, 'exact');
    expect(loaded!.version).toBe(3);
    expect(loaded!.snapshot.config).toEqual(model.snapshot().config);
    expect(Object.keys(loaded!.snapshot.stats.items!).sort()).toEqual(items.map((i) => i.id).sort());
    expect(canonical(loaded!.snapshot)).toBe(JSON.stringify(reference!.snapshot()));
  });

  it('keeps beta and linear snapshots (per-item pairs, no items) as they were', async () => {
    const repo = new ModelStateRepository(ctx.ds);
    const beta = BetaModel.create();
    beta.observe([], { id: 'a' }, 1);
    beta.observe([], { id: 'b' }, 0);
    await repo.addDelta(ctx.experimentId, 'beta', beta.takeDelta(), [], []);
    expect((await repo.load(ctx.experimentId, 'beta'))!.snapshot.stats).toEqual(beta.snapshot().stats);
    const linear = LinearModel.create({ contextDim: 2, itemDim: 1 });
    linear.observe(vector(2), { id: 'a', features: vector(1) }, 0.5);
    await repo.addDelta(ctx.experimentId, 'linear', linear.takeDelta(), [], []);
    expect((await repo.load(ctx.experimentId, 'linear'))!.snapshot).toEqual(
      JSON.parse(JSON.stringify(linear.snapshot())),
    );
  });

  it('marks decisions in the model in the same transaction as the delta: all or nothing', async () => {
    const repo = new ModelStateRepository(ctx.ds);
    const decisions = new DecisionsRepository(ctx.ds);
    const ids = [randomUUID(), randomUUID()];
    await Promise.all(
      ids.map((id) =>
        decisions.insert({
          id,
          experimentId: ctx.experimentId,
          variantKey: 'flags',
          unitId: 'u',
          seed: 1,
          modelVersion: 'm',
          policy: {},
          context: [0, 0, 0, 0],
          shortlist: { ids: ['item-0'], rankerScores: [0], features: [[0, 0, 0]] },
          candidateCount: 1,
          replica: 'r',
          slots: [
            {
              position: 1,
              itemId: 'item-0',
              shortlistIndex: 0,
              score: null,
              propensity: null,
              explored: false,
              coldStart: false,
            },
          ],
        }),
      ),
    );
    const inModel = async () =>
      (await ctx.ds.query(`SELECT bool_and(in_model) AS all FROM decisions WHERE id = ANY($1::uuid[])`, [ids]))[0].all;
    const model = HybridModel.create({ contextDim: 4, itemDim: 3 });
    observeSome(model, 5);
    // A bad reward id fails the last statement: the delta must not be stored either.
    await expect(repo.addDelta(ctx.experimentId, 'flags', model.peekDelta(), ids, ['not-a-number'])).rejects.toThrow();
    expect(await repo.load(ctx.experimentId, 'flags')).toBeNull();
    expect(await inModel()).toBe(false);
    await repo.addDelta(ctx.experimentId, 'flags', model.takeDelta(), ids, []);
    expect(await inModel()).toBe(true);
    expect((await repo.load(ctx.experimentId, 'flags'))!.version).toBe(1);
  });

  it('lets replicas add deltas concurrently without losing any', async () => {
    // The embedded database is one session: its "replicas" share the connection; on a server each has its own pool.
    const replicas = [
      new ModelStateRepository(ctx.ds),
      new ModelStateRepository(SERVER_URL ? await ctx.db.open() : ctx.ds),
    ];
    const deltas = Array.from({ length: 8 }, () => {
      const m = HybridModel.create({ contextDim: 4, itemDim: 3 });
      observeSome(m, 10);
      return m.takeDelta();
    });
    const versions = await Promise.all(
      deltas.map((d, i) => replicas[i % 2].addDelta(ctx.experimentId, 'replicas', d, [], [])),
    );
    expect(versions.map((v) => v.after).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const loaded = await replicas[0].load(ctx.experimentId, 'replicas');
    const expected = HybridModel.fromSnapshot(deltas[0]);
    for (const d of deltas.slice(1)) expected.mergeDelta(d);
    // Sums in another order may differ in the last bit: compare to within rounding, and counts exactly.
    const got = HybridModel.fromSnapshot(loaded!.snapshot as HybridSnapshot).snapshot();
    const want = expected.snapshot();
    expect(got.stats.n).toBe(want.stats.n);
    got.stats.zz.forEach((x, i) => expect(x).toBeCloseTo(want.stats.zz[i], 9));
  });
});

describe('ModelStateRepository: snapshots, in-doubt flushes, replica leases', () => {
  const ctx = useRankingDatabase('model-state-consistency');

  // Needs a second session that blocks the reader between its two reads: a server (PGlite is one session).
  (SERVER_URL ? it : it.skip)(
    'reads the shared row and the item rows from one snapshot even when a flush commits in between',
    async () => {
      const repo = new ModelStateRepository(ctx.ds);
      const first = HybridModel.create({ contextDim: 1, itemDim: 1 });
      for (let i = 0; i < 5; i++) first.observe([1], { id: 'a', features: [2] }, 1);
      await repo.addDelta(ctx.experimentId, 'snap', first.takeDelta(), [], []);
      const second = HybridModel.create({ contextDim: 1, itemDim: 1 });
      for (let i = 0; i < 40; i++) second.observe([1], { id: 'a', features: [2] }, 1);

      // Another replica's flush, held open with the item table locked: the reader gets the shared row, then waits.
      const writer = await ctx.db.open();
      const runner = writer.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        await runner.query(`LOCK TABLE model_item_state IN ACCESS EXCLUSIVE MODE`);
        const reading = repo.load(ctx.experimentId, 'snap');
        for (let i = 0; i < 200; i++) {
          const [{ n }] = await ctx.ds.query(
            `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'model_item_state'::regclass`,
          );
          if (n > 0) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        // The other flush (its item row is what matters here), committed while the reader waits.
        const items = second.takeDelta().stats.items!;
        await runner.query(
          `UPDATE model_state SET version = version + 1, stats_values = stats_values WHERE experiment_id = $1 AND variant_key = 'snap'`,
          [ctx.experimentId],
        );
        await runner.query(
          `UPDATE model_item_state SET stats_layout = $3::jsonb, stats_values = $4 WHERE experiment_id = $1 AND variant_key = 'snap' AND item_id = $2`,
          [ctx.experimentId, 'a', JSON.stringify(packStats(items.a).layout), packStats(items.a).values],
        );
        await runner.commitTransaction();
        const loaded = await reading;
        // One snapshot: the version and the item rows from before the other flush (read separately, the item row was the new one).
        expect(loaded!.version).toBe(1);
        expect(loaded!.snapshot.stats.items!.a).toEqual(JSON.parse(JSON.stringify(first.snapshot().stats.items.a)));
      } finally {
        await runner.release();
      }
    },
  );

  it("tells whether a flush whose outcome is unknown committed (by its rows' in_model marks)", async () => {
    const repo = new ModelStateRepository(ctx.ds);
    const decisions = new DecisionsRepository(ctx.ds);
    const [kept, lost] = [randomUUID(), randomUUID()];
    for (const id of [kept, lost]) {
      await decisions.insert({
        id,
        experimentId: ctx.experimentId,
        variantKey: 'doubt',
        unitId: 'u',
        seed: 1,
        modelVersion: 'm',
        policy: {},
        context: [0],
        shortlist: { ids: ['a'], rankerScores: [0], features: [[1]] },
        candidateCount: 1,
        replica: 'r',
        slots: [
          {
            position: 1,
            itemId: 'a',
            shortlistIndex: 0,
            score: null,
            propensity: null,
            explored: false,
            coldStart: false,
          },
        ],
      });
    }
    const model = HybridModel.create({ contextDim: 1, itemDim: 1 });
    model.observe([0], { id: 'a', features: [1] }, 0);
    await repo.addDelta(ctx.experimentId, 'doubt', model.takeDelta(), [kept], []);
    expect(await repo.flushCommitted(ctx.experimentId, 'doubt', { decisionId: kept })).toBe(true);
    expect(await repo.flushCommitted(ctx.experimentId, 'doubt', { decisionId: lost })).toBe(false);
  });

  it('refuses a flush from a process that no longer holds its replica id, writing nothing', async () => {
    const repo = new ModelStateRepository(ctx.ds);
    await ctx.ds.query(`INSERT INTO replica_leases (replica_id, holder, host, pid) VALUES ('r-1', $1, 'h', 1)`, [
      randomUUID(),
    ]);
    const model = HybridModel.create({ contextDim: 1, itemDim: 1 });
    model.observe([0], { id: 'a', features: [1] }, 0);
    await expect(
      repo.addDelta(ctx.experimentId, 'leased', model.peekDelta(), [], [], { replicaId: 'r-1', holder: randomUUID() }),
    ).rejects.toBeInstanceOf(ReplicaLeaseLostError);
    expect(await repo.load(ctx.experimentId, 'leased')).toBeNull();
    const [{ holder }] = await ctx.ds.query(`SELECT holder FROM replica_leases WHERE replica_id = 'r-1'`);
    expect(
      await repo.addDelta(ctx.experimentId, 'leased', model.takeDelta(), [], [], { replicaId: 'r-1', holder }),
    ).toEqual({ before: 0, after: 1 });
  });
});

describe('migration to packed statistics', () => {
  const BEFORE = MIGRATIONS.findIndex((m) => m.name === 'PackedModelStats1764691200000');
  const legacyBlob = (values: number[]) => ({ $f64: Buffer.from(Float64Array.from(values).buffer).toString('base64') });
  const zz = Array.from({ length: 64 }, () => rng.normal() / 3);
  const item = {
    n: 3,
    xx: Array.from({ length: 9 }, () => rng.normal()),
    zx: Array.from({ length: 24 }, () => rng.normal()),
    xr: [0.1 + 0.2, 5e-324, 1e-300],
  };
  const config = { contextDim: 2, itemDim: 1, intercept: true, lambda: 0.25, a0: 6, b0: 6 };

  it('converts stored rows exactly, and back down', async () => {
    const db = await repositoryTestDatabase();
    try {
      const old = await db.open({ migrations: MIGRATIONS.slice(0, BEFORE) });
      const experimentId = await insertRankingExperiment(old, 'migrated');
      // Rows as the previous code wrote them: blobs from 8 numbers up, shorter arrays and scalars as JSON.
      const legacyShared = { n: 7, yy: 2.5, zz: legacyBlob(zz), zr: legacyBlob(zz.slice(0, 8)) };
      const legacyItem = { n: item.n, xx: legacyBlob(item.xx), zx: legacyBlob(item.zx), xr: item.xr };
      await old.query(
        `INSERT INTO model_state (experiment_id, variant_key, model_type, snapshot, version) VALUES ($1, 'ts', 'hybrid', $2::jsonb, 4)`,
        [experimentId, JSON.stringify({ config, shared: legacyShared })],
      );
      await old.query(
        `INSERT INTO model_item_state (experiment_id, variant_key, item_id, stats) VALUES ($1, 'ts', 'a', $2::jsonb), ($1, 'ts', 'b', $2::jsonb)`,
        [experimentId, JSON.stringify(legacyItem)],
      );
      await old.destroy();

      // Up to this migration (later ones are undone first otherwise).
      const ds = await db.open({ migrations: MIGRATIONS.slice(0, BEFORE + 1) });
      const loaded = await new ModelStateRepository(ds).load(experimentId, 'ts');
      expect(loaded!.version).toBe(4);
      expect(loaded!.snapshot).toEqual({
        type: 'hybrid',
        version: 1,
        config,
        stats: { n: 7, yy: 2.5, zz, zr: zz.slice(0, 8), items: { a: item, b: item } },
      });

      await ds.undoLastMigration({ transaction: 'each' });
      const [state] = await ds.query(`SELECT snapshot FROM model_state WHERE experiment_id = $1`, [experimentId]);
      expect(state.snapshot).toEqual({ config, shared: legacyShared });
      const itemRows = await ds.query(`SELECT stats FROM model_item_state WHERE experiment_id = $1 ORDER BY item_id`, [
        experimentId,
      ]);
      expect(itemRows.map((r: { stats: unknown }) => r.stats)).toEqual([legacyItem, legacyItem]);
    } finally {
      await db.close();
    }
  });
});
