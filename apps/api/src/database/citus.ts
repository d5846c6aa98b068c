import { DataSource, EntityManager } from 'typeorm';

const known = new WeakMap<DataSource, Promise<boolean>>();

/**
 * Whether `db` is a Citus coordinator's database (the `citus` extension is loaded in it; see docs/scale-out.md).
 * Asked once per DataSource. Repositories use it only where Citus refuses a statement a plain server runs faster.
 */
export function isCitus(db: DataSource): Promise<boolean> {
  let answer = known.get(db);
  if (!answer) {
    answer = db.query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`).then((rows: unknown[]) => rows.length > 0);
    known.set(db, answer);
  }
  return answer;
}

/**
 * On Citus, makes the current transaction write its shards one after another, in shard order, on one connection per
 * node. In the default parallel mode two statements that write the same unique keys (a batch of events posted twice
 * at once) lock them on several connections in no fixed order and deadlock; in shard order they queue instead.
 * A no-op custom setting on plain PostgreSQL; call it only on Citus.
 */
export async function citusSequentialShards(manager: EntityManager): Promise<void> {
  await manager.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
}

/** Runs `work` in a transaction that writes shards in shard order on Citus; on plain PostgreSQL runs it as it is. */
export async function withOrderedShardWrites<T>(db: DataSource, manager: EntityManager, work: (m: EntityManager) => Promise<T>): Promise<T> {
  if (!(await isCitus(db))) return work(manager);
  if (manager.queryRunner?.isTransactionActive) {
    await citusSequentialShards(manager);
    return work(manager);
  }
  return db.transaction(async (m) => {
    await citusSequentialShards(m);
    return work(m);
  });
}
