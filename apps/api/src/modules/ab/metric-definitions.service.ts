import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { parseOrThrow } from '../../common/validation/zod';
import { AuditRepository } from '../audit/audit.repository';
import { createMetricSchema, MetricDefinitionInput, MetricDefinitionView, MetricPatch } from './ab.schema';
import { MetricDefinitionsRepository } from './metric-definitions.repository';

const definitionOf = ({
  version: _v,
  createdAt: _c,
  updatedAt: _u,
  ...d
}: MetricDefinitionView): MetricDefinitionInput => d;

@Injectable()
export class MetricDefinitionsService {
  constructor(
    private readonly metrics: MetricDefinitionsRepository,
    private readonly audit: AuditRepository,
  ) {}

  async create(input: MetricDefinitionInput, actor: Principal): Promise<MetricDefinitionView> {
    await this.metrics.transaction(async (m) => {
      if (!(await this.metrics.insert(m, input)))
        throw Problem.conflict(`A metric with key "${input.key}" already exists.`, 'duplicate-key');
      await this.audit.append(m, actor, {
        action: 'metric.create',
        entityType: 'metric',
        entityId: input.key,
        before: null,
        after: input,
      });
    });
    return this.get(input.key);
  }

  async list(): Promise<{ metrics: MetricDefinitionView[] }> {
    return { metrics: await this.metrics.list() };
  }

  async get(key: string): Promise<MetricDefinitionView> {
    const found = await this.metrics.findByKey(key);
    if (!found) throw Problem.notFound(`No metric with key "${key}".`);
    return found;
  }

  async patch(key: string, patch: MetricPatch, actor: Principal): Promise<MetricDefinitionView> {
    await this.metrics.transaction(async (m) => {
      const current = await this.metrics.findByKey(key, m);
      if (!current) throw Problem.notFound(`No metric with key "${key}".`);
      const before = definitionOf(current);
      const merged = parseOrThrow(createMetricSchema, { ...before, ...patch });
      if (!(await this.metrics.update(m, merged, current.version))) {
        throw Problem.conflict(
          `Metric "${key}" was changed by someone else; read it again and retry.`,
          'concurrent-change',
        );
      }
      await this.audit.append(m, actor, {
        action: 'metric.update',
        entityType: 'metric',
        entityId: key,
        before,
        after: merged,
      });
    });
    return this.get(key);
  }
}
