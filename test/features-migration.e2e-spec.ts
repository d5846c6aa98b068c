import { DataSource } from 'typeorm';
import { createDataSource } from '../apps/api/src/database/data-source';
import { EmbeddedPostgres } from '../apps/api/src/database/embedded-postgres';
import { freshDatabase } from './support/test-app';

/** Stored state from before migration UnitFeatureState1766000000000: one feature_state row per (entity, state, bucket). */
const before = [
  ['u-1', 'unit:event:click:sliding:1200000', 100, 2, 2, null, null, 6_000_100, 1],
  ['u-1', 'unit:event:click:sliding:1200000', 101, 1, 0.1, null, null, 6_060_000, 0.1],
  ['u-1', 'unit:event:spend:decay:600000', 0, 1.5, 3.25, 7_000_000, 600_000, 7_000_000, 3],
  ['u-2', 'unit:event:a:b:sliding:60000', 7, 1, 5, null, null, 7_000, 5], // a metric with ':' in it
  ['u-1', 'unit:reward:sliding:3600000', 1, 1, 4, null, null, 3_600_001, 4],
  ['item-1', 'item:impression:sliding:3600000', 1, 3, 3, null, null, 3_600_002, 1],
] as const;

const stateRows = (ds: DataSource) =>
  ds.query(
    `SELECT entity_id, state_key, bucket::int8::float8 AS bucket, count, sum, ref_ms::float8 AS ref_ms, half_life_ms, last_ms::float8 AS last_ms, last_value
     FROM feature_state ORDER BY entity_id, state_key, bucket`,
  );

describe('migration UnitFeatureState1766000000000 moves event-sourced unit state into one row per unit, and back', () => {
  it('up: one unit_feature_state row per unit with every bucket; down: the same feature_state rows again', async () => {
    const db = await freshDatabase();
    const embedded = db.url ? null : new EmbeddedPostgres('memory://', 5);
    const ds = createDataSource(db.url ?? (await embedded!.start()), 2);
    await ds.initialize();
    try {
      await ds.runMigrations({ transaction: 'each' });
      // back to just before this migration (it may not be the newest one)
      for (;;) {
        const [last] = await ds.query(`SELECT name FROM migrations ORDER BY timestamp DESC LIMIT 1`);
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === 'UnitFeatureState1766000000000') break;
      }
      await ds.query(
        `INSERT INTO feature_state (entity_id, state_key, bucket, count, sum, ref_ms, half_life_ms, last_ms, last_value)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::float8[], $5::float8[], $6::int8[], $7::float8[], $8::int8[], $9::float8[])`,
        before[0].map((_, c) => before.map((r) => r[c])),
      );
      const original = await stateRows(ds);
      await ds.runMigrations({ transaction: 'each' });

      const units: Array<{ unit_id: string; states: unknown }> = await ds.query(
        `SELECT unit_id, states::jsonb AS states FROM unit_feature_state ORDER BY unit_id`,
      );
      expect(units).toEqual([
        {
          unit_id: 'u-1',
          states: {
            'unit:event:click:sliding:1200000': [
              [100, 2, 2, null, 6_000_100, 1],
              [101, 1, 0.1, null, 6_060_000, 0.1],
            ],
            'unit:event:spend:decay:600000': [[0, 1.5, 3.25, 7_000_000, 7_000_000, 3]],
          },
        },
        { unit_id: 'u-2', states: { 'unit:event:a:b:sliding:60000': [[7, 1, 5, null, 7_000, 5]] } },
      ]);
      // reward and item state stay where request paths write them
      expect((await stateRows(ds)).map((r: { state_key: string }) => r.state_key)).toEqual([
        'item:impression:sliding:3600000',
        'unit:reward:sliding:3600000',
      ]);

      for (;;) {
        const [last] = await ds.query(`SELECT name FROM migrations ORDER BY timestamp DESC LIMIT 1`);
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === 'UnitFeatureState1766000000000') break;
      }
      expect(await stateRows(ds)).toEqual(original);
    } finally {
      await ds.destroy();
      await embedded?.stop();
      await db.drop();
    }
  });
});
