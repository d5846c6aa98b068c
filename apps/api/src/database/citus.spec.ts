import { DataSource } from 'typeorm';
import { isCitus } from './citus';
import { createDataSource } from './data-source';
import { EmbeddedPostgres } from './embedded-postgres';

/** isCitus on the embedded database's one-connection pool (regression: CI's ab-ingest hung 120 s on it). */
describe('isCitus', () => {
  let embedded: EmbeddedPostgres;
  let db: DataSource;
  beforeAll(async () => {
    embedded = new EmbeddedPostgres('memory://', 1);
    db = createDataSource(await embedded.start(), 1);
    await db.initialize();
  }, 60_000);
  afterAll(async () => {
    await db.destroy();
    await embedded.stop();
  });

  it('inside a transaction holding the only connection, does not wait for a first ask queued on the pool', async () => {
    const answer = await db.transaction(async (m) => {
      // The pool's ask now waits for this transaction's connection; the transaction's ask must not wait for it.
      const onPool = isCitus(db);
      const inTransaction = await isCitus(db, m);
      return { inTransaction, onPool };
    });
    expect(answer.inTransaction).toBe(false);
    expect(await answer.onPool).toBe(false);
    expect(await isCitus(db)).toBe(false);
  }, 10_000);
});
