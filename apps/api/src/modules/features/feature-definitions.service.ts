import { Injectable } from '@nestjs/common';
import type { Aggregation, FeatureWindow } from '@slotwise/features';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/access';
import { Problem } from '../../common/http/problem';
import { AuditRepository } from '../audit/audit.repository';
import type { FeatureDefinitionInput, FeatureDefinitionView, FeaturePatch } from './feature.schema';
import { FeaturesRepository } from './features.repository';

/** A definition ready for the hot paths: the window in milliseconds. */
export interface CompiledFeature {
  name: string;
  /**
   * Where its state lives: entity, source and window (`unit:event:click:sliding:1200000`). Features that differ only
   * in aggregation share it (the state holds count, sum and the latest event), so an event writes one row for them.
   */
  stateKey: string;
  entity: 'unit' | 'item';
  source: FeatureDefinitionInput['source'];
  aggregation: Aggregation;
  window: FeatureWindow;
  defaultValue: number;
}

export interface FeatureCatalog {
  byName: Map<string, CompiledFeature>;
  /** event-sourced features per event metric */
  byMetric: Map<string, CompiledFeature[]>;
  rewards: CompiledFeature[];
  impressions: CompiledFeature[];
  all: CompiledFeature[];
}

/** How long a replica trusts its copy of the definitions: a definition made on another replica applies within this. */
export const DEFINITIONS_TTL_MS = 1000;

const stateKeyOf = (d: FeatureDefinitionInput): string =>
  [
    d.entity,
    d.source.type,
    ...(d.source.type === 'event' ? [d.source.metric] : []),
    d.window.type,
    d.window.type === 'sliding' ? d.window.seconds * 1000 : d.window.halfLifeSeconds * 1000,
  ].join(':');

const compile = (d: FeatureDefinitionInput): CompiledFeature => ({
  name: d.name,
  stateKey: stateKeyOf(d),
  entity: d.entity,
  source: d.source,
  aggregation: d.aggregation,
  window:
    d.window.type === 'sliding'
      ? { type: 'sliding', ms: d.window.seconds * 1000 }
      : { type: 'decay', halfLifeMs: d.window.halfLifeSeconds * 1000 },
  defaultValue: d.defaultValue,
});

/** `POST/GET/PATCH /v1/features`: definitions (audited), and the compiled copy the store and rank read. */
@Injectable()
export class FeatureDefinitionsService {
  private cached: { at: number; catalog: FeatureCatalog } | null = null;
  private loading: Promise<FeatureCatalog> | null = null;

  constructor(
    private readonly repo: FeaturesRepository,
    private readonly audit: AuditRepository,
  ) {}

  async create(input: FeatureDefinitionInput, actor: Principal): Promise<FeatureDefinitionView> {
    if (input.source.type === 'event' && !(await this.repo.metricKnown(input.source.metric))) {
      throw Problem.validation([
        {
          path: 'source.metric',
          message: `unknown metric "${input.source.metric}": no metric definition names it and no event carries it`,
        },
      ]);
    }
    await this.repo.transaction(async (m) => {
      if (!(await this.repo.insertDefinition(m, input))) {
        throw new Problem(
          409,
          `A feature named "${input.name}" already exists.`,
          [{ path: 'name', message: 'already taken' }],
          'duplicate-key',
        );
      }
      await this.audit.append(m, actor, {
        action: 'feature.create',
        entityType: 'feature',
        entityId: input.name,
        before: null,
        after: input,
      });
    });
    this.cached = null;
    return this.get(input.name);
  }

  async list(): Promise<{ features: FeatureDefinitionView[] }> {
    return { features: await this.repo.listDefinitions() };
  }

  async get(name: string): Promise<FeatureDefinitionView> {
    const found = await this.repo.findDefinition(name);
    if (!found) throw Problem.notFound(`No feature named "${name}".`);
    return found;
  }

  async patch(name: string, patch: FeaturePatch, actor: Principal): Promise<FeatureDefinitionView> {
    await this.repo.transaction(async (m) => {
      const current = await this.repo.findDefinition(name, m);
      if (!current) throw Problem.notFound(`No feature named "${name}".`);
      const next = {
        defaultValue: patch.defaultValue ?? current.defaultValue,
        description: patch.description ?? current.description,
      };
      if (!(await this.repo.updateDefinition(m, name, next, current.version))) {
        throw Problem.conflict(
          `Feature "${name}" was changed by someone else; read it again and retry.`,
          'concurrent-change',
        );
      }
      await this.audit.append(m, actor, {
        action: 'feature.update',
        entityType: 'feature',
        entityId: name,
        before: { defaultValue: current.defaultValue, description: current.description },
        after: next,
      });
    });
    this.cached = null;
    return this.get(name);
  }

  /**
   * The compiled definitions, reloaded when older than `maxAgeMs` (default {@link DEFINITIONS_TTL_MS}; one load at
   * a time). The queue worker asks for a fresh copy, read through its transaction's `manager`, when an entry names
   * a metric its copy does not know yet.
   */
  async catalog(maxAgeMs = DEFINITIONS_TTL_MS, manager?: EntityManager): Promise<FeatureCatalog> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.catalog;
    if (manager) {
      const catalog = catalogOf((await this.repo.listDefinitions(manager)).map(compile));
      this.cached = { at: now, catalog };
      return catalog;
    }
    this.loading ??= this.repo
      .listDefinitions()
      .then((defs) => {
        const catalog = catalogOf(defs.map(compile));
        this.cached = { at: now, catalog };
        return catalog;
      })
      .finally(() => (this.loading = null));
    return this.loading;
  }
}

function catalogOf(all: CompiledFeature[]): FeatureCatalog {
  const byMetric = new Map<string, CompiledFeature[]>();
  for (const f of all) {
    if (f.source.type !== 'event') continue;
    const list = byMetric.get(f.source.metric) ?? [];
    list.push(f);
    byMetric.set(f.source.metric, list);
  }
  return {
    byName: new Map(all.map((f) => [f.name, f])),
    byMetric,
    rewards: all.filter((f) => f.source.type === 'reward'),
    impressions: all.filter((f) => f.source.type === 'impression'),
    all,
  };
}
