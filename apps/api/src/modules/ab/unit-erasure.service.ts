import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/access';
import { shardOrderedTransaction } from '../../database/citus';
import { AuditRepository } from '../audit/audit.repository';
import { AssignmentService } from './assignment.service';
import { EventsRepository } from './events.repository';
import { ExposuresRepository } from './exposures.repository';

/** Erases one kind of a unit's rows inside the erasure transaction; returns how many rows it removed. */
export type UnitEraser = (manager: EntityManager, unitId: string) => Promise<number>;

/**
 * `DELETE /v1/units/{unitId}`: erase a unit's personal data in one transaction. Exposures (the unit's
 * assignments) and events are built in; other modules add theirs with {@link register} — the rank module
 * registers the decisions' unit link (`decisions.unit_id`) there, e.g. in its service's `onModuleInit`:
 * `erasure.register('decisions', (m, unitId) => decisions.unlinkUnit(m, unitId))`.
 * The audit entry carries a random erasure id and the counts, never the unit id.
 */
@Injectable()
export class UnitErasureService {
  private readonly erasers = new Map<string, UnitEraser>();

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditRepository,
    private readonly assignment: AssignmentService,
    exposures: ExposuresRepository,
    events: EventsRepository,
  ) {
    this.register('exposures', (m, u) => exposures.eraseUnit(m, u));
    this.register('events', (m, u) => events.eraseUnit(m, u));
  }

  register(name: string, eraser: UnitEraser): void {
    if (this.erasers.has(name)) throw new Error(`a unit eraser named "${name}" is already registered`);
    this.erasers.set(name, eraser);
  }

  async erase(unitId: string, actor: Principal): Promise<{ erasureId: string; erased: Record<string, number> }> {
    const erasureId = randomUUID();
    // Shard-ordered on Citus: the erasers delete on several shards (trigger firings on all of them) before the audit
    // row goes to a reference table, which Citus refuses after a parallel multi-shard statement in the transaction.
    const erased = await shardOrderedTransaction(this.db, async (m) => {
      const counts: Record<string, number> = {};
      for (const [name, eraser] of this.erasers) counts[name] = await eraser(m, unitId);
      await this.audit.append(m, actor, {
        action: 'unit.erase',
        entityType: 'unit-erasure',
        entityId: erasureId,
        before: null,
        after: { erased: counts },
      });
      return counts;
    });
    this.assignment.forgetUnit(unitId);
    return { erasureId, erased };
  }
}
