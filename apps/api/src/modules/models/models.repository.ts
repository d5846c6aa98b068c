import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface RankerModelRow {
  id: string;
  name: string;
  version: number;
  signature: Record<string, unknown>;
  metadata: Record<string, unknown>;
  sha256: string;
  sizeBytes: number;
  createdAt: Date;
  createdBy: string | null;
}

const COLUMNS = `id, name, version, signature, metadata, sha256, octet_length(bytes) AS "sizeBytes", created_at AS "createdAt", created_by AS "createdBy"`;

@Injectable()
export class ModelsRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Inserts the next version of `name` (or `version` when given); null when that version exists. */
  async insert(
    manager: EntityManager,
    model: {
      name: string;
      version?: number;
      signature: unknown;
      metadata: unknown;
      bytes: Buffer;
      sha256: string;
      createdBy: string;
    },
  ): Promise<RankerModelRow | null> {
    // Serialise concurrent uploads of one name so "next version" is unique.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ranker_models:' || $1))`, [model.name]);
    // The next version in its own statement (under the lock above), not a subquery in VALUES: Citus refuses
    // subqueries in an INSERT (ranker_models is a reference table there).
    let version = model.version;
    if (version === undefined || version === null) {
      const [{ next }]: [{ next: number }] = await manager.query(
        `SELECT COALESCE(MAX(version), 0)::int + 1 AS next FROM ranker_models WHERE name = $1`,
        [model.name],
      );
      version = next;
    }
    const rows: RankerModelRow[] = await manager.query(
      `INSERT INTO ranker_models (name, version, signature, metadata, bytes, sha256, created_by)
       VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7)
       ON CONFLICT (name, version) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        model.name,
        version,
        JSON.stringify(model.signature),
        JSON.stringify(model.metadata),
        model.bytes,
        model.sha256,
        model.createdBy,
      ],
    );
    return rows[0] ?? null;
  }

  list(): Promise<RankerModelRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM ranker_models ORDER BY name, version`);
  }

  find(name: string, version: number): Promise<RankerModelRow | null> {
    return this.db
      .query(`SELECT ${COLUMNS} FROM ranker_models WHERE name = $1 AND version = $2`, [name, version])
      .then((r: RankerModelRow[]) => r[0] ?? null);
  }

  async loadBytes(
    name: string,
    version: number,
  ): Promise<{ bytes: Buffer; signature: Record<string, unknown> } | null> {
    const rows: Array<{ bytes: Buffer; signature: Record<string, unknown> }> = await this.db.query(
      `SELECT bytes, signature FROM ranker_models WHERE name = $1 AND version = $2`,
      [name, version],
    );
    return rows[0] ?? null;
  }
}
