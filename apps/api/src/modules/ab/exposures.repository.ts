import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { withOrderedShardWrites } from '../../database/citus';

export interface ExposureRow {
  experimentId: string;
  phase: number;
  unitId: string;
  variant: string;
  /** First exposure time. */
  at: Date;
  attributes: Record<string, unknown> | null;
}

/** Rows per statement: arrays bind as six parameters, so this only bounds the statement's work. */
const CHUNK = 10_000;

const columns = (rows: ExposureRow[]) => [
  rows.map((r) => r.experimentId),
  rows.map((r) => r.phase),
  rows.map((r) => r.unitId),
  rows.map((r) => r.variant),
  rows.map((r) => r.at.toISOString()),
  rows.map((r) => (r.attributes ? JSON.stringify(r.attributes) : null)),
];
const UNNEST = `SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[])`;

/**
 * Units whose exposures a statement inserted or moved (its `ins` CTE), queued for the report rollups in the same
 * statement: a unit's rollups count its events from its first exposure on, so they are recomputed.
 */
const ENQUEUE_CHANGED = `INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM ins`;

/** Exposures: one row per (experiment, phase, unit, variant) with the first time it happened. */
@Injectable()
export class ExposuresRepository {
  constructor(private readonly db: DataSource) {}

  /** First-exposure logging for /v1/assign: a row that exists already is left alone. Returns rows written. */
  async logFirst(rows: ExposureRow[], manager: EntityManager = this.db.manager): Promise<number> {
    if (rows.length === 0) return 0;
    return withOrderedShardWrites(this.db, manager, (m) => this.logFirstChunks(rows, m));
  }

  private async logFirstChunks(rows: ExposureRow[], manager: EntityManager): Promise<number> {
    let written = 0;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      const [{ n }]: [{ n: number }] = await manager.query(
        `WITH ins AS (INSERT INTO exposures (experiment_id, phase, unit_id, variant, first_at, attributes) ${UNNEST}
           ON CONFLICT (experiment_id, phase, unit_id, variant) DO NOTHING RETURNING unit_id),
         queued AS (${ENQUEUE_CHANGED})
         SELECT count(*)::int AS n FROM ins`,
        columns(chunk),
      );
      written += n;
    }
    return written;
  }

  /**
   * Imported exposures (external assignment): idempotent per (experiment, phase, unit, variant); a replay with an
   * earlier timestamp moves the first time back, a later one changes nothing. Rows must be unique per key.
   * Returns how many rows were new.
   */
  async importRows(rows: ExposureRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const result: Array<{ inserted: boolean }> = await withOrderedShardWrites(this.db, this.db.manager, (m) =>
      m.query(
        `WITH ins AS (
         INSERT INTO exposures (experiment_id, phase, unit_id, variant, first_at, attributes) ${UNNEST}
         ON CONFLICT (experiment_id, phase, unit_id, variant) DO UPDATE SET first_at = EXCLUDED.first_at
           WHERE EXCLUDED.first_at < exposures.first_at
         RETURNING unit_id, (xmax = 0) AS inserted),
       queued AS (${ENQUEUE_CHANGED})
       SELECT inserted FROM ins`,
        columns(rows),
      ),
    );
    return result.filter((r) => r.inserted).length;
  }

  /** Units exposed per variant in a phase (units seen in two or more variants left out), and those left out. */
  async health(
    experimentId: string,
    phase: number,
  ): Promise<{ unitsPerVariant: Record<string, number>; multipleExposures: number }> {
    const rows: Array<{ variant: string | null; units: number }> = await this.db.query(
      `SELECT variant, count(*)::int AS units FROM (
         SELECT CASE WHEN count(*) = 1 THEN min(variant) END AS variant FROM exposures
         WHERE experiment_id = $1 AND phase = $2 GROUP BY unit_id) u
       GROUP BY variant`,
      [experimentId, phase],
    );
    const unitsPerVariant: Record<string, number> = {};
    let multipleExposures = 0;
    for (const r of rows) {
      if (r.variant === null) multipleExposures = r.units;
      else unitsPerVariant[r.variant] = r.units;
    }
    return { unitsPerVariant, multipleExposures };
  }

  /** Units of the phase seen in more than one variant (kept out of the analysis): the "multiple exposures" health figure. */
  async multipleExposures(experimentId: string, phase: number): Promise<number> {
    return (await this.health(experimentId, phase)).multipleExposures;
  }

  /** Erase one unit's exposures in every experiment; returns rows removed. */
  async eraseUnit(manager: EntityManager, unitId: string): Promise<number> {
    const [{ n }]: [{ n: number }] = await manager.query(
      `WITH d AS (DELETE FROM exposures WHERE unit_id = $1 RETURNING 1), queued AS (INSERT INTO rollup_queue (unit_id) VALUES ($1)) SELECT count(*)::int AS n FROM d`,
      [unitId],
    );
    return n;
  }
}
