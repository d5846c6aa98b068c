import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** First key of the two-key advisory locks the evaluation takes ("SwAu"); the second is hashtext(experiment id). */
export const AUTOMATION_LOCK_CLASS = 0x53774175;

@Injectable()
export class AutomationRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Keys of running experiments, oldest start first, at most `limit`. */
  async running(limit: number): Promise<string[]> {
    const rows: Array<{ key: string }> = await this.db.query(
      `SELECT key FROM experiments WHERE status = 'running' ORDER BY started_at NULLS LAST, key LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.key);
  }

  /**
   * The evaluation's lock for one experiment, held until `manager`'s transaction ends; false at once (no wait) when
   * another replica holds it — that replica is acting on this experiment, so this one skips it.
   */
  async tryLock(manager: EntityManager, experimentId: string): Promise<boolean> {
    const rows: Array<{ ok: boolean }> = await manager.query(
      `SELECT pg_try_advisory_xact_lock($1::int, hashtext($2::text)) AS ok`,
      [AUTOMATION_LOCK_CLASS, experimentId],
    );
    return rows[0]?.ok === true;
  }

  /** Remembers a finding for (experiment, phase, signal, subject); true only the first time (announce once). */
  async recordSignal(
    manager: EntityManager,
    experimentId: string,
    phase: number,
    signal: string,
    subject: string,
    evidence: unknown,
  ): Promise<boolean> {
    // TypeORM answers INSERT … RETURNING with the rows.
    const rows: unknown[] = await manager.query(
      `INSERT INTO experiment_signals (experiment_id, phase, signal, subject, evidence) VALUES ($1,$2,$3,$4,$5::jsonb) ON CONFLICT DO NOTHING RETURNING 1`,
      [experimentId, phase, signal, subject, JSON.stringify(evidence)],
    );
    return rows.length === 1;
  }
}
