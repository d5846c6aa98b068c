import { DataSource, EntityManager } from 'typeorm';

const answered = new WeakMap<DataSource, boolean>();
const askedOnPool = new WeakMap<DataSource, Promise<boolean>>();

/**
 * Whether `db` is a Citus coordinator's database (the `citus` extension is loaded in it; see docs/scale-out.md).
 * Asked until first answered, then remembered per DataSource. Repositories use it only where Citus refuses a
 * statement a plain server runs faster. Inside a transaction pass its `manager`: until the answer is known it is read
 * on that transaction's connection and never waits for an ask still queued on the pool, which would wait for the
 * very connection the transaction holds (the embedded database has one: a deadlock until the pool's connect timeout).
 */
export function isCitus(db: DataSource, manager?: EntityManager): Promise<boolean> {
  const known = answered.get(db);
  if (known !== undefined) return Promise.resolve(known);
  const pending = manager ? undefined : askedOnPool.get(db);
  if (pending) return pending;
  const answer = (manager ?? db).query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`).then((rows: unknown[]) => {
    answered.set(db, rows.length > 0);
    return rows.length > 0;
  });
  if (!manager) {
    askedOnPool.set(db, answer);
    answer.catch(() => askedOnPool.delete(db)); // a failed ask is asked again
  }
  return answer;
}

/**
 * On Citus, makes the current transaction write its shards one after another, in shard order, on one connection per
 * node. In the default parallel mode two statements that write the same unique keys (a batch of events posted twice
 * at once) lock them on several connections in no fixed order and deadlock; in shard order they queue instead.
 * Not a setting plain PostgreSQL knows; run only on Citus (through the two helpers below).
 */
async function citusSequentialShards(manager: EntityManager): Promise<void> {
  await manager.query(`SET LOCAL citus.multi_shard_modify_mode TO 'sequential'`);
}

/**
 * Runs `work` in a new transaction that writes its shards in shard order on Citus (see citusSequentialShards); on
 * plain PostgreSQL and the embedded database, in a plain transaction. For writes that need a transaction of their
 * own (events with their listener's state, a reward batch with its slot locks).
 */
export function shardOrderedTransaction<T>(db: DataSource, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return db.transaction(async (m) => {
    if (await isCitus(db, m)) await citusSequentialShards(m);
    return work(m);
  });
}

/**
 * Runs `work` on `manager`'s transaction when it has one (made shard-ordered on Citus); otherwise, on Citus, in a new
 * shard-ordered transaction, and on plain PostgreSQL directly on `manager` (one statement needs no transaction).
 */
export async function withOrderedShardWrites<T>(
  db: DataSource,
  manager: EntityManager,
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  const inTransaction = manager.queryRunner?.isTransactionActive === true;
  if (!(await isCitus(db, inTransaction ? manager : undefined))) return work(manager);
  if (!inTransaction) return shardOrderedTransaction(db, work);
  await citusSequentialShards(manager);
  return work(manager);
}
