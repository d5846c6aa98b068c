import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditEntryEntity } from '../../database/entities/audit-entry.entity';
import type { Principal } from '../../common/auth/access';

/** Every kind of entity the audit log records; `GET /v1/audit?entityType=` accepts exactly these. */
export const AUDIT_ENTITY_TYPES = [
  'experiment',
  'experiment-phase',
  'item',
  'api-key',
  'console-user',
  'feature',
  'webhook',
  'trigger',
  'metric',
  'layer',
  'model',
  'unit-erasure',
] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];

export interface AuditRecord {
  action: string;
  entityType: AuditEntityType;
  entityId: string;
  before: unknown;
  after: unknown;
}

export interface AuditQuery {
  entityType?: string;
  entityId?: string;
  limit: number;
  beforeId?: string;
}

@Injectable()
export class AuditRepository {
  constructor(private readonly db: DataSource) {}

  /** Written in the caller's transaction so a change and its audit entry commit together. */
  async append(manager: EntityManager, actor: Principal | null, record: AuditRecord): Promise<void> {
    await manager.query(
      `INSERT INTO audit_log (at, actor_id, actor_name, action, entity_type, entity_id, before, after) VALUES (now(), $1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)`,
      [
        actor?.keyId ?? null,
        actor ? `${actor.name} (${actor.role})` : 'system',
        record.action,
        record.entityType,
        record.entityId,
        record.before === undefined || record.before === null ? null : JSON.stringify(record.before),
        record.after === undefined || record.after === null ? null : JSON.stringify(record.after),
      ],
    );
  }

  list(query: AuditQuery): Promise<AuditEntryEntity[]> {
    const qb = this.db
      .getRepository(AuditEntryEntity)
      .createQueryBuilder('a')
      .orderBy('a.id', 'DESC')
      .limit(query.limit);
    if (query.entityType) qb.andWhere('a.entity_type = :t', { t: query.entityType });
    if (query.entityId) qb.andWhere('a.entity_id = :e', { e: query.entityId });
    if (query.beforeId) qb.andWhere('a.id < :b', { b: query.beforeId });
    return qb.getMany();
  }
}
