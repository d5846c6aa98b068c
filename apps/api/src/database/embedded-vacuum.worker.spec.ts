import { createRng, HybridModel } from '@slotwise/bandit';
import type { AppConfig } from '../config/app-config';
import { ModelStateRepository } from '../modules/rank/model-state.repository';
import { useRankingDatabase } from '../../../../test/support/test-db';
import { EmbeddedVacuumWorker } from './embedded-vacuum.worker';
import { MaintenanceRepository } from './maintenance.repository';

const rng = createRng(5);
const vector = (n: number) => Float64Array.from({ length: n }, () => rng.normal());
const items = Array.from({ length: 40 }, (_, i) => ({ id: `item-${i}`, features: vector(16) }));
const embedded = !process.env.DATABASE_URL;

describe('EmbeddedVacuumWorker', () => {
  const ctx = useRankingDatabase('embedded-vacuum');

  it('keeps model_state bounded under repeated flushes of a wide posterior (embedded: no autovacuum)', async () => {
    const repo = new ModelStateRepository(ctx.ds);
    const maintenance = new MaintenanceRepository(ctx.ds);
    const worker = new EmbeddedVacuumWorker(maintenance, { databaseUrl: undefined } as AppConfig);
    const model = HybridModel.create({ contextDim: 16, itemDim: 16 }); // d_z = 272: a ~1 MB stored row
    const flush = async (n: number, vacuumEvery = 0) => {
      for (let i = 1; i <= n; i++) {
        for (let k = 0; k < 5; k++)
          model.observe(vector(16), items[rng.int(items.length)], rng.uniform() < 0.2 ? 1 : 0);
        await repo.addDelta(ctx.experimentId, 'wide', model.takeDelta(), [], []);
        if (vacuumEvery && i % vacuumEvery === 0) await worker.pass();
      }
    };
    await flush(1);
    const [{ bytes }] = (await ctx.ds.query(
      `SELECT pg_column_size(stats_values)::int8 AS bytes FROM model_state WHERE variant_key = 'wide'`,
    )) as Array<{ bytes: string }>;
    const rowBytes = Number(bytes);
    expect(rowBytes).toBeGreaterThan(200_000);

    const start = await maintenance.totalRelationBytes('model_state');
    await flush(12);
    const unvacuumed = (await maintenance.totalRelationBytes('model_state')) - start;
    // the bug this pass fixes: every flush leaves its old row version behind for good
    if (embedded) expect(unvacuumed).toBeGreaterThan(8 * rowBytes);

    await worker.pass();
    const before = await maintenance.totalRelationBytes('model_state');
    await flush(24, 3);
    const vacuumed = (await maintenance.totalRelationBytes('model_state')) - before;
    // with a pass every 3 flushes the dead versions are reused: at most a few rows' worth of growth for 24 flushes
    expect(vacuumed).toBeLessThan(5 * rowBytes);
  }, 120_000);
});
