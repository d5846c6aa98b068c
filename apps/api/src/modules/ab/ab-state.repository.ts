import { Injectable } from '@nestjs/common';
import type { Allocation, BucketRange } from '@slotwise/assignment';
import { DataSource, EntityManager } from 'typeorm';

/** One assignment phase of an experiment: the variant bucket ranges in force and the weights they came from. */
export interface PhaseRow {
  phase: number;
  allocation: Allocation;
  weights: Record<string, number>;
  startedAt: Date;
  endedAt: Date | null;
}

/** A layer of mutually exclusive experiments, as stored (see libs/assignment `Layer`). */
export interface LayerRow {
  key: string;
  salt: string;
  hashVersion: 1;
  holdoutPercent: number;
  holdout: BucketRange[];
  /** Experiment key → its layer bucket ranges (only experiments that hold buckets: running or paused). */
  experiments: Allocation;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What serving needs besides the experiment row itself. */
export interface ServingState {
  phase: PhaseRow | null;
  shippedVariant: string | null;
  layer: LayerRow | null;
}

interface RawPhase {
  phase: number;
  allocation: Allocation;
  weights: Record<string, number>;
  started_at: Date;
  ended_at: Date | null;
}
interface RawLayer {
  key: string;
  salt: string;
  hash_version: number;
  holdout_percent: number;
  holdout: BucketRange[];
  experiments: Allocation;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const phaseOf = (r: RawPhase): PhaseRow => ({
  phase: r.phase,
  allocation: r.allocation,
  weights: r.weights,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});
const layerOf = (r: RawLayer): LayerRow => ({
  key: r.key,
  salt: r.salt,
  hashVersion: 1,
  holdoutPercent: r.holdout_percent,
  holdout: r.holdout,
  experiments: r.experiments,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Phases, layers and shipped variants: the assignment state kept beside the experiment definition. */
@Injectable()
export class AbStateRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async currentPhase(experimentId: string, manager: EntityManager = this.db.manager): Promise<PhaseRow | null> {
    const rows: RawPhase[] = await manager.query(
      `SELECT phase, allocation, weights, started_at, ended_at FROM experiment_phases WHERE experiment_id = $1 ORDER BY phase DESC LIMIT 1`,
      [experimentId],
    );
    return rows.length ? phaseOf(rows[0]) : null;
  }

  async phases(experimentId: string): Promise<PhaseRow[]> {
    const rows: RawPhase[] = await this.db.query(
      `SELECT phase, allocation, weights, started_at, ended_at FROM experiment_phases WHERE experiment_id = $1 ORDER BY phase`,
      [experimentId],
    );
    return rows.map(phaseOf);
  }

  async insertPhase(
    manager: EntityManager,
    experimentId: string,
    phase: number,
    allocation: Allocation,
    weights: Record<string, number>,
  ): Promise<void> {
    await manager.query(`UPDATE experiment_phases SET ended_at = now() WHERE experiment_id = $1 AND ended_at IS NULL`, [
      experimentId,
    ]);
    await manager.query(
      `INSERT INTO experiment_phases (experiment_id, phase, allocation, weights, started_at) VALUES ($1, $2, $3::jsonb, $4::jsonb, now())`,
      [experimentId, phase, JSON.stringify(allocation), JSON.stringify(weights)],
    );
  }

  async endPhase(manager: EntityManager, experimentId: string): Promise<void> {
    await manager.query(`UPDATE experiment_phases SET ended_at = now() WHERE experiment_id = $1 AND ended_at IS NULL`, [
      experimentId,
    ]);
  }

  /** Current phase number (1 before the first start) and shipped variant of several experiments, by id. */
  async summaries(
    experimentIds: string[],
    manager: EntityManager = this.db.manager,
  ): Promise<Map<string, { phase: number; shippedVariant: string | null }>> {
    const out = new Map<string, { phase: number; shippedVariant: string | null }>();
    if (experimentIds.length === 0) return out;
    const rows: Array<{ id: string; phase: number; shipped_variant: string | null }> = await manager.query(
      `SELECT e.id, COALESCE((SELECT max(p.phase) FROM experiment_phases p WHERE p.experiment_id = e.id), 1) AS phase, e.shipped_variant
       FROM experiments e WHERE e.id = ANY($1::uuid[])`,
      [experimentIds],
    );
    for (const r of rows) out.set(r.id, { phase: r.phase, shippedVariant: r.shipped_variant });
    return out;
  }

  /** Everything serving needs in one round trip. */
  async servingState(experimentId: string, layerKey: string | null): Promise<ServingState> {
    const rows: Array<{ shipped_variant: string | null; phase: RawPhase | null; layer: RawLayer | null }> =
      await this.db.query(
        `SELECT e.shipped_variant,
              (SELECT to_jsonb(p) FROM (SELECT phase, allocation, weights, started_at, ended_at FROM experiment_phases
                 WHERE experiment_id = e.id ORDER BY phase DESC LIMIT 1) p) AS phase,
              (SELECT to_jsonb(l) FROM layers l WHERE l.key = $2) AS layer
       FROM experiments e WHERE e.id = $1`,
        [experimentId, layerKey],
      );
    if (!rows.length) return { phase: null, shippedVariant: null, layer: null };
    const r = rows[0];
    const phase = r.phase
      ? phaseOf({
          ...r.phase,
          started_at: new Date(r.phase.started_at),
          ended_at: r.phase.ended_at ? new Date(r.phase.ended_at) : null,
        })
      : null;
    const layer = r.layer
      ? layerOf({ ...r.layer, created_at: new Date(r.layer.created_at), updated_at: new Date(r.layer.updated_at) })
      : null;
    return { phase, shippedVariant: r.shipped_variant, layer };
  }

  async setShipped(manager: EntityManager, experimentId: string, variant: string): Promise<void> {
    await manager.query(
      `UPDATE experiments SET shipped_variant = $2, shipped_at = now(), version = version + 1, updated_at = now() WHERE id = $1`,
      [experimentId, variant],
    );
  }

  /** The layer row locked for update, created (salt = key, no holdout) when missing. */
  async lockLayer(manager: EntityManager, key: string, create: boolean): Promise<LayerRow | null> {
    if (create)
      await manager.query(`INSERT INTO layers (key, salt) VALUES ($1, $1) ON CONFLICT (key) DO NOTHING`, [key]);
    const rows: RawLayer[] = await manager.query(`SELECT * FROM layers WHERE key = $1 FOR UPDATE`, [key]);
    return rows.length ? layerOf(rows[0]) : null;
  }

  async saveLayer(
    manager: EntityManager,
    layer: Pick<LayerRow, 'key' | 'salt' | 'holdoutPercent' | 'holdout' | 'experiments'>,
  ): Promise<void> {
    await manager.query(
      `UPDATE layers SET salt = $2, holdout_percent = $3, holdout = $4::jsonb, experiments = $5::jsonb, version = version + 1, updated_at = now() WHERE key = $1`,
      [layer.key, layer.salt, layer.holdoutPercent, JSON.stringify(layer.holdout), JSON.stringify(layer.experiments)],
    );
  }

  async getLayer(key: string): Promise<LayerRow | null> {
    const rows: RawLayer[] = await this.db.query(`SELECT * FROM layers WHERE key = $1`, [key]);
    return rows.length ? layerOf(rows[0]) : null;
  }

  async listLayers(): Promise<LayerRow[]> {
    const rows: RawLayer[] = await this.db.query(`SELECT * FROM layers ORDER BY key`);
    return rows.map(layerOf);
  }
}
