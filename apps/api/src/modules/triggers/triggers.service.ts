import { Injectable } from '@nestjs/common';
import { Rule } from '@slotwise/assignment';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { AuditRepository } from '../audit/audit.repository';
import { FeatureDefinitionsService } from '../features';
import { conditionErrors, conditionFeatures } from './condition';
import { TriggerEvaluator } from './trigger-evaluator';
import { CreateTriggerInput, ListFiringsQuery, PatchTriggerInput } from './triggers.schema';
import { FiringRow, TriggerRow, TriggersRepository } from './triggers.repository';

/** A trigger as the API shows it (`features`: the unit features the condition reads, the values a firing carries). */
export type TriggerView = Omit<TriggerRow, 'createdAt' | 'updatedAt'> & { createdAt: string; updatedAt: string };

const viewOf = (t: TriggerRow): TriggerView => ({
  ...t,
  createdAt: new Date(t.createdAt).toISOString(),
  updatedAt: new Date(t.updatedAt).toISOString(),
});

const firingView = (f: FiringRow) => ({
  id: f.id,
  unitId: f.unitId,
  firedAt: new Date(f.firedAt).toISOString(),
  values: f.values,
});

const audited = (t: Pick<TriggerRow, 'name' | 'condition' | 'cooldownSeconds' | 'enabled'>) => ({
  name: t.name,
  condition: t.condition,
  cooldownSeconds: t.cooldownSeconds,
  enabled: t.enabled,
});

/** `POST/GET/PATCH/DELETE /v1/triggers`: definitions (audited) and their recent firings. */
@Injectable()
export class TriggersService {
  constructor(
    private readonly repo: TriggersRepository,
    private readonly audit: AuditRepository,
    private readonly definitions: FeatureDefinitionsService,
    private readonly evaluator: TriggerEvaluator,
  ) {}

  /** 400 with paths under `condition` when the rule is invalid or names no / unknown / item features; the features read. */
  private async checkCondition(condition: unknown): Promise<string[]> {
    const { byName } = await this.definitions.catalog();
    const errors = conditionErrors(condition, (name) => byName.get(name) ?? null);
    if (errors.length) throw Problem.validation(errors);
    return conditionFeatures(condition as Rule);
  }

  async create(input: CreateTriggerInput, actor: Principal): Promise<TriggerView> {
    const features = await this.checkCondition(input.condition);
    const row = await this.repo.transaction(async (m) => {
      const row = await this.repo.insert(m, {
        id: randomUUID(),
        name: input.name,
        description: input.description,
        condition: input.condition as Rule,
        features,
        cooldownSeconds: input.cooldownSeconds,
        enabled: input.enabled,
      });
      if (!row)
        throw new Problem(
          409,
          `A trigger named "${input.name}" already exists.`,
          [{ path: 'name', message: 'already taken' }],
          'duplicate-key',
        );
      await this.audit.append(m, actor, {
        action: 'trigger.create',
        entityType: 'trigger',
        entityId: row.id,
        before: null,
        after: audited(row),
      });
      return row;
    });
    this.evaluator.forget();
    return viewOf(row);
  }

  async list(): Promise<{ triggers: TriggerView[] }> {
    return { triggers: (await this.repo.list()).map(viewOf) };
  }

  async get(id: string): Promise<TriggerView> {
    return viewOf(await this.require(id));
  }

  /** A changed condition resets every unit to outside (so units inside the new condition fire on their next update). */
  async patch(id: string, patch: PatchTriggerInput, actor: Principal): Promise<TriggerView> {
    const features = patch.condition !== undefined ? await this.checkCondition(patch.condition) : null;
    const row = await this.repo.transaction(async (m) => {
      const current = await this.repo.find(id, m);
      if (!current) throw Problem.notFound(`No trigger ${id}.`);
      const next = {
        description: patch.description ?? current.description,
        condition: features ? (patch.condition as Rule) : current.condition,
        features: features ?? current.features,
        cooldownSeconds: patch.cooldownSeconds ?? current.cooldownSeconds,
        enabled: patch.enabled ?? current.enabled,
      };
      const row = await this.repo.update(m, id, next, current.version);
      if (!row)
        throw Problem.conflict(
          `Trigger ${id} was changed by someone else; read it again and retry.`,
          'concurrent-change',
        );
      if (features && JSON.stringify(current.condition) !== JSON.stringify(row.condition))
        await this.repo.resetInside(m, id);
      await this.audit.append(m, actor, {
        action: 'trigger.update',
        entityType: 'trigger',
        entityId: id,
        before: audited(current),
        after: audited(row),
      });
      return row;
    });
    this.evaluator.forget();
    return viewOf(row);
  }

  async delete(id: string, actor: Principal): Promise<void> {
    await this.repo.transaction(async (m) => {
      const current = await this.repo.find(id, m);
      if (!current || !(await this.repo.delete(m, id))) throw Problem.notFound(`No trigger ${id}.`);
      await this.audit.append(m, actor, {
        action: 'trigger.delete',
        entityType: 'trigger',
        entityId: id,
        before: audited(current),
        after: null,
      });
    });
    this.evaluator.forget();
  }

  async firings(id: string, query: ListFiringsQuery) {
    await this.require(id);
    return { firings: (await this.repo.firings(id, query.limit)).map(firingView) };
  }

  private async require(id: string): Promise<TriggerRow> {
    const t = await this.repo.find(id);
    if (!t) throw Problem.notFound(`No trigger ${id}.`);
    return t;
  }
}
