import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Tables rewritten on every model flush (the whole posterior row, megabytes of TOAST for a wide model): vacuumed
 * often, the rest of the database less often (see {@link EmbeddedVacuumWorker}).
 */
export const HOT_TABLES = ['model_state', 'model_item_state'] as const;

/** Database maintenance statements (VACUUM runs outside any transaction). */
@Injectable()
export class MaintenanceRepository {
  constructor(private readonly db: DataSource) {}

  /** `VACUUM` of the named tables, or of the whole database when none are named. */
  async vacuum(tables: readonly string[] = []): Promise<void> {
    await this.db.query(tables.length ? `VACUUM ${tables.map((t) => `"${t}"`).join(', ')}` : 'VACUUM');
  }

  /** Bytes the named table takes with its TOAST and indexes. */
  async totalRelationBytes(table: string): Promise<number> {
    const [row] = (await this.db.query(`SELECT pg_total_relation_size($1::regclass)::int8 AS bytes`, [
      table,
    ])) as Array<{
      bytes: string;
    }>;
    return Number(row.bytes);
  }
}
