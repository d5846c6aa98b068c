import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Capping, MetricDefinitionInput, MetricDefinitionView, MetricType } from './ab.schema';

interface RawMetric {
  key: string;
  name: string;
  description: string;
  type: MetricType;
  event: string | null;
  numerator: string | null;
  denominator: string | null;
  conversion_window_seconds: number | null;
  capping: Capping | null;
  direction: 'increase' | 'decrease';
  guardrail_margin: number | null;
  cuped_lookback_days: number;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const viewOf = (r: RawMetric): MetricDefinitionView => ({
  key: r.key,
  name: r.name,
  description: r.description,
  type: r.type,
  event: r.event,
  numerator: r.numerator,
  denominator: r.denominator,
  conversionWindowSeconds: r.conversion_window_seconds,
  capping: r.capping,
  direction: r.direction,
  guardrailMargin: r.guardrail_margin,
  cupedLookbackDays: r.cuped_lookback_days,
  version: r.version,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

const params = (d: MetricDefinitionInput) => [
  d.key,
  d.name,
  d.description,
  d.type,
  d.event,
  d.numerator,
  d.denominator,
  d.conversionWindowSeconds,
  d.capping ? JSON.stringify(d.capping) : null,
  d.direction,
  d.guardrailMargin,
  d.cupedLookbackDays,
];

@Injectable()
export class MetricDefinitionsRepository {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async findByKey(key: string, manager: EntityManager = this.db.manager): Promise<MetricDefinitionView | null> {
    const rows: RawMetric[] = await manager.query(`SELECT * FROM metric_definitions WHERE key = $1`, [key]);
    return rows.length ? viewOf(rows[0]) : null;
  }

  async list(): Promise<MetricDefinitionView[]> {
    const rows: RawMetric[] = await this.db.query(`SELECT * FROM metric_definitions ORDER BY key`);
    return rows.map(viewOf);
  }

  /** False when the key is taken. */
  async insert(manager: EntityManager, d: MetricDefinitionInput): Promise<boolean> {
    const rows: unknown[] = await manager.query(
      `INSERT INTO metric_definitions (key, name, description, type, event, numerator, denominator, conversion_window_seconds, capping, direction, guardrail_margin, cuped_lookback_days)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10,$11,$12) ON CONFLICT (key) DO NOTHING RETURNING key`,
      params(d),
    );
    return rows.length === 1;
  }

  /** Optimistic update: succeeds only if nobody changed the row since `expectedVersion` was read. */
  async update(manager: EntityManager, d: MetricDefinitionInput, expectedVersion: number): Promise<boolean> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE metric_definitions SET name=$2, description=$3, type=$4, event=$5, numerator=$6, denominator=$7, conversion_window_seconds=$8,
              capping=$9::jsonb, direction=$10, guardrail_margin=$11, cuped_lookback_days=$12, version = version + 1, updated_at = now()
       WHERE key = $1 AND version = $13 RETURNING key`,
      [...params(d), expectedVersion],
    );
    return rows.length === 1;
  }
}
