import { Injectable } from '@nestjs/common';
import { AUDIT_ENTITY_TYPES, AuditRepository } from './audit.repository';
import { z } from 'zod';

export const auditQuerySchema = z.strictObject({
  entityType: z.enum(AUDIT_ENTITY_TYPES).optional(),
  entityId: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().regex(/^\d+$/, 'must be an audit entry id').optional(),
});
export type AuditQueryInput = z.infer<typeof auditQuerySchema>;

@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async list(query: AuditQueryInput) {
    const rows = await this.audit.list({
      entityType: query.entityType,
      entityId: query.entityId,
      limit: query.limit,
      beforeId: query.before,
    });
    return {
      entries: rows.map((r) => ({
        id: String(r.id),
        at: new Date(r.at).toISOString(),
        actor: { keyId: r.actorId, name: r.actorName },
        action: r.action,
        entityType: r.entityType,
        entityId: r.entityId,
        before: r.before,
        after: r.after,
      })),
    };
  }
}
