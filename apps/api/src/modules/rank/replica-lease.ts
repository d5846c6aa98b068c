import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** Start-up refused: another live process holds this replica id. */
export class ReplicaIdInUseError extends Error {}

interface LeaseRow {
  holder: string;
  host: string;
  pid: number;
  age_seconds: number;
}

/** SQL of the replica lease (the table `replica_leases`); times are the database's clock, shared by all replicas. */
@Injectable()
export class ReplicaLeaseRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Takes the lease when it is free, lapsed (no heartbeat for `ttlSeconds`), already ours, or `force`d. Returns
   * null when taken, else the live holder. The update takes the times from EXCLUDED (the row's defaults, the
   * database's now()) and compares intervals: Citus refuses non-immutable functions in ON CONFLICT DO UPDATE,
   * such as now() and timestamptz − interval.
   */
  async claim(replicaId: string, holder: string, ttlSeconds: number, force: boolean): Promise<LeaseRow | null> {
    const taken: unknown[] = await this.db.query(
      `INSERT INTO replica_leases (replica_id, holder, host, pid) VALUES ($1, $2, $3, $4)
       ON CONFLICT (replica_id) DO UPDATE SET holder = EXCLUDED.holder, host = EXCLUDED.host, pid = EXCLUDED.pid, acquired_at = EXCLUDED.acquired_at, heartbeat_at = EXCLUDED.heartbeat_at
       WHERE $5 OR replica_leases.holder = EXCLUDED.holder OR EXCLUDED.heartbeat_at - replica_leases.heartbeat_at > make_interval(secs => $6)
       RETURNING 1`,
      [replicaId, holder, hostname(), process.pid, force, ttlSeconds],
    );
    if (taken.length) return null;
    const rows: LeaseRow[] = await this.db.query(
      `SELECT holder, host, pid, extract(epoch FROM now() - heartbeat_at)::float8 AS age_seconds FROM replica_leases WHERE replica_id = $1`,
      [replicaId],
    );
    return rows[0] ?? null;
  }

  /** Renews the heartbeat; false when the lease is no longer this holder's. */
  async renew(replicaId: string, holder: string): Promise<boolean> {
    const [, affected]: [unknown, number] = await this.db.query(
      `UPDATE replica_leases SET heartbeat_at = now() WHERE replica_id = $1 AND holder = $2`,
      [replicaId, holder],
    );
    return affected > 0;
  }

  async release(replicaId: string, holder: string): Promise<void> {
    await this.db.query(`DELETE FROM replica_leases WHERE replica_id = $1 AND holder = $2`, [replicaId, holder]);
  }
}

/**
 * Makes `SLOTWISE_REPLICA_ID` unique among live processes. Crash replay is per replica id (a restarted replica
 * re-applies its own rows that are not in the stored posterior), so two live processes sharing an id would replay
 * and flush each other's rows (double counts). At start a process claims the id's lease row; if a live process
 * holds it (heartbeat younger than SLOTWISE_REPLICA_LEASE_SECONDS) it waits for the lease to lapse — a restart
 * after a crash — and refuses to start if it does not. Every flush checks the lease in its transaction, so a
 * process that lost it (paused longer than the lease) never adds to the stored statistics again.
 *
 * On the embedded database the data folder is locked to one process, so the lease is taken over at once.
 */
@Injectable()
export class ReplicaLease implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('ReplicaLease');
  /** This process's token in the lease row. */
  readonly holder = randomUUID();
  private timer?: NodeJS.Timeout;
  private lost = false;

  constructor(
    private readonly leases: ReplicaLeaseRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get replicaId(): string {
    return this.config.replicaId;
  }

  /** What a flush passes to the repository to prove it still holds the id. */
  get token(): { replicaId: string; holder: string } {
    return { replicaId: this.config.replicaId, holder: this.holder };
  }

  /** False once another process took the id over: this process must not write rows under it any more. */
  get held(): boolean {
    return !this.lost;
  }

  async onModuleInit(): Promise<void> {
    const ttl = this.config.replicaLeaseSeconds;
    const embedded = !this.config.databaseUrl;
    const deadline = Date.now() + (ttl + 1) * 1000;
    let other = await this.leases.claim(this.replicaId, this.holder, ttl, embedded);
    if (other)
      this.logger.warn(
        `replica id "${this.replicaId}" is held by ${other.host} pid ${other.pid} (heartbeat ${other.age_seconds.toFixed(1)} s ago); waiting up to ${ttl} s for it to lapse`,
      );
    while (other && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      other = await this.leases.claim(this.replicaId, this.holder, ttl, false);
    }
    if (other) {
      throw new ReplicaIdInUseError(
        `SLOTWISE_REPLICA_ID "${this.replicaId}" is in use by a live process (${other.host} pid ${other.pid}, heartbeat ${other.age_seconds.toFixed(1)} s ago): ` +
          `give each replica its own SLOTWISE_REPLICA_ID`,
      );
    }
    this.timer = setInterval(() => void this.heartbeat(), Math.max(500, (ttl * 1000) / 3));
    this.timer.unref();
  }

  private async heartbeat(): Promise<void> {
    if (this.lost) return;
    try {
      if (!(await this.leases.renew(this.replicaId, this.holder))) {
        this.lost = true;
        this.logger.error(
          `lost the lease of replica id "${this.replicaId}" to another process: rank and rewards answer 503 on this process; restart it with its own SLOTWISE_REPLICA_ID`,
        );
      }
    } catch (err) {
      // The database is unreachable: the flush's lease check keeps the statistics right if the lease lapses meanwhile.
      this.logger.warn(`replica lease heartbeat failed: ${(err as Error).message}`);
    }
  }

  /** After the modules' shutdown work (the last flush needs the lease), before the database closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (!this.lost) await this.leases.release(this.replicaId, this.holder).catch(() => undefined);
  }

  /** A flush found the lease gone. */
  markLost(): void {
    if (!this.lost)
      this.logger.error(
        `replica id "${this.replicaId}" is held by another process: this process stops writing under it`,
      );
    this.lost = true;
  }
}
