import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/access';
import { FieldError, Problem } from '../../common/http/problem';
import { ModelsService } from '../models/models.service';
import { stableStringify } from '../../common/stable-json';
import { parseOrThrow } from '../../common/validation/zod';
import { ExperimentEntity, ExperimentStatus } from '../../database/entities/experiment.entity';
import { VariantEntity } from '../../database/entities/variant.entity';
import { AbStateService } from '../ab/ab-state.service';
import { AuditRepository } from '../audit/audit.repository';
import { LIFECYCLE_EVENT, WebhooksRepository } from '../webhooks';
import { ExperimentEvents } from './experiment-events';
import {
  createExperimentSchema,
  ExperimentDefinition,
  ExperimentPatch,
  ListExperimentsQuery,
} from './experiment.schema';
import { definitionOf, ExperimentView, settingsOf, viewOf } from './experiment.view';
import { ExperimentsRepository } from './experiments.repository';

type LifecycleAction = 'start' | 'pause' | 'stop';

/** Legal lifecycle transitions: the action, the states it may leave, the state it enters. */
const TRANSITIONS: Record<LifecycleAction, { from: ExperimentStatus[]; to: ExperimentStatus }> = {
  start: { from: ['draft', 'paused'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  stop: { from: ['running', 'paused'], to: 'stopped' },
};

/** Changing these while units are being served would invalidate the data already collected. */
const FROZEN_WHILE_LIVE = ['kind', 'assignment', 'features', 'slots'] as const;

@Injectable()
export class ExperimentsService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly audit: AuditRepository,
    private readonly events: ExperimentEvents,
    private readonly abState: AbStateService,
    private readonly models: ModelsService,
    private readonly outbox: WebhooksRepository,
  ) {}

  /** The ranker a ranking experiment names must exist and fit its feature schema (and give embeddings to neural-linear). */
  private async checkRanker(d: ExperimentDefinition): Promise<void> {
    if (d.kind !== 'ranking') return;
    const errors: FieldError[] = [];
    const model = d.ranker.model === 'none' ? null : await this.models.describe(d.ranker.model);
    if (d.ranker.model !== 'none' && !model)
      errors.push({ path: 'ranker.model', message: `no uploaded model ${d.ranker.model} (see GET /v1/models)` });
    if (model) {
      if (model.contextDim !== null && model.contextDim !== d.features.context.length) {
        errors.push({
          path: 'features.context',
          message: `the ranker ${model.ref} takes ${model.contextDim} context features; the experiment has ${d.features.context.length}`,
        });
      }
      if (model.itemDim !== null && model.itemDim !== d.features.item.length) {
        errors.push({
          path: 'features.item',
          message: `the ranker ${model.ref} takes ${model.itemDim} item features; the experiment has ${d.features.item.length}`,
        });
      }
    }
    d.variants.forEach((v, i) => {
      const p = v.policy;
      if (
        p &&
        (p.type === 'thompson' || p.type === 'epsilon-greedy') &&
        p.model === 'neural-linear' &&
        !model?.embeddingDim
      ) {
        errors.push({
          path: `variants[${i}].policy.model`,
          message: 'neural-linear needs a ranker model with an embedding output',
        });
      }
    });
    if (errors.length) throw Problem.validation(errors);
  }

  async create(definition: ExperimentDefinition, actor: Principal): Promise<ExperimentView> {
    await this.checkRanker(definition);
    const entity = toEntity(definition, {
      id: randomUUID(),
      salt: definition.salt ?? randomBytes(8).toString('hex'),
      status: 'draft',
      version: 1,
    });
    await this.experiments.transaction(async (m) => {
      if (await this.experiments.keyExists(m, definition.key))
        throw Problem.conflict(`An experiment with key "${definition.key}" already exists.`, 'duplicate-key');
      try {
        await this.experiments.insert(m, entity);
      } catch (err) {
        if ((err as { code?: string }).code === '23505')
          throw Problem.conflict(`An experiment with key "${definition.key}" already exists.`, 'duplicate-key');
        throw err;
      }
      await this.audit.append(m, actor, {
        action: 'experiment.create',
        entityType: 'experiment',
        entityId: definition.key,
        before: null,
        after: definition,
      });
    });
    return this.get(definition.key);
  }

  async list(query: ListExperimentsQuery): Promise<{ experiments: ExperimentView[]; total: number }> {
    const { rows, total } = await this.experiments.list(query);
    const state = await this.abState.summaries(rows.map((r) => r.id));
    return { experiments: rows.map((r) => ({ ...viewOf(r), ...state.get(r.id) }) as ExperimentView), total };
  }

  /** The definition with its assignment state: current `phase` and `shippedVariant` (A/B engine). */
  async get(key: string): Promise<ExperimentView> {
    const entity = await this.require(key);
    return { ...viewOf(entity), ...(await this.abState.summaries([entity.id])).get(entity.id) } as ExperimentView;
  }

  async patch(key: string, patch: ExperimentPatch, actor: Principal): Promise<ExperimentView> {
    const neighbours = await this.experiments.transaction(async (m) => {
      const current = await this.require(key, m);
      if (current.status === 'stopped')
        throw Problem.conflict(`Experiment "${key}" is stopped and can no longer change.`, 'illegal-transition');
      const before = definitionOf(current);
      const merged = parseOrThrow(createExperimentSchema, { ...before, ...patch });
      await this.checkRanker(merged);
      if (current.status !== 'draft') {
        for (const field of FROZEN_WHILE_LIVE) {
          if (stableStringify(merged[field]) !== stableStringify(before[field])) {
            throw Problem.conflict(
              `"${field}" cannot change once the experiment has started; create a new experiment instead.`,
              'frozen-field',
            );
          }
        }
        const variantKeys = (d: ExperimentDefinition) => d.variants.map((v) => v.key).join(',');
        if (variantKeys(merged) !== variantKeys(before)) {
          throw Problem.conflict(
            'Variants cannot be added, removed or renamed once the experiment has started.',
            'frozen-field',
          );
        }
        // A shadow may be promoted (it then gets traffic in a new phase); a served variant cannot become a shadow:
        // its units would lose their variant mid-experiment.
        const demoted = merged.variants.filter((v, i) => v.shadow && !before.variants[i].shadow).map((v) => v.key);
        if (demoted.length)
          throw Problem.conflict(
            `A served variant cannot become a shadow once the experiment has started (${demoted.join(', ')}).`,
            'frozen-field',
          );
        // A shadow's policy is compared off-policy on the logs it decided beside: it stays as it was until promoted.
        const changed = merged.variants
          .filter(
            (v, i) =>
              before.variants[i].shadow && stableStringify(v.policy) !== stableStringify(before.variants[i].policy),
          )
          .map((v) => v.key);
        if (changed.length)
          throw Problem.conflict(
            `The policy of a shadow variant cannot change once the experiment has started (${changed.join(', ')}); its logged shadow decisions were made with it.`,
            'frozen-field',
          );
      }
      const next = toEntity(merged, {
        id: current.id,
        salt: current.salt,
        status: current.status,
        version: current.version,
      });
      next.startedAt = current.startedAt;
      next.stoppedAt = current.stoppedAt;
      next.createdAt = current.createdAt;
      if (!(await this.experiments.update(m, next, current.version))) {
        throw Problem.conflict(
          `Experiment "${key}" was changed by someone else; read it again and retry.`,
          'concurrent-change',
        );
      }
      await this.audit.append(m, actor, {
        action: 'experiment.update',
        entityType: 'experiment',
        entityId: key,
        before,
        after: merged,
      });
      const promoted = merged.variants
        .filter((v, i) => !v.shadow && before.variants[i]?.key === v.key && before.variants[i].shadow)
        .map((v) => v.key);
      if (promoted.length) {
        await this.audit.append(m, actor, {
          action: 'experiment.shadow_promote',
          entityType: 'experiment',
          entityId: key,
          before: { shadow: promoted },
          after: {
            served: promoted,
            weights: Object.fromEntries(merged.variants.filter((v) => !v.shadow).map((v) => [v.key, v.weight])),
          },
        });
      }
      // Weight changes while live ramp the allocation and start a new phase; layer shares follow traffic.
      return this.abState.onPatch(m, current, before, merged, actor);
    });
    this.events.changed(key);
    for (const k of neighbours) this.events.changed(k);
    return this.get(key);
  }

  async transition(key: string, action: LifecycleAction, actor: Principal): Promise<ExperimentView> {
    const neighbours = await this.experiments.transaction(async (m) =>
      this.applyTransition(m, await this.require(key, m), action, actor),
    );
    this.events.changed(key);
    for (const k of neighbours) this.events.changed(k);
    return this.get(key);
  }

  /**
   * The autoStop option acting (system actor): pauses or stops `key` when it is still running, in one transaction
   * that first calls `claim` (the evaluation's lock; false = another replica is acting, do nothing) and then writes
   * the status, an `experiment.auto_stop` audit entry with `evidence`, and the lifecycle and `experiment.auto_stopped`
   * webhook deliveries. Returns whether this call stopped it.
   */
  async autoStop(
    key: string,
    action: 'pause' | 'stop',
    reason: string,
    evidence: unknown,
    claim: (m: EntityManager) => Promise<boolean>,
  ): Promise<boolean> {
    const neighbours = await this.experiments.transaction(async (m) => {
      if (!(await claim(m))) return null;
      const current = await this.require(key, m);
      if (current.status !== 'running') return null;
      const neighbours = await this.applyTransition(m, current, action, null, { reason, evidence });
      await this.outbox.enqueue(m, 'experiment.auto_stopped', { experiment: key, action, reason, evidence });
      return neighbours;
    });
    if (!neighbours) return false;
    this.events.changed(key);
    for (const k of neighbours) this.events.changed(k);
    return true;
  }

  /** One lifecycle transition inside `m`: status, stamps, A/B state, audit entry and the lifecycle webhook event. */
  private async applyTransition(
    m: EntityManager,
    current: ExperimentEntity,
    action: LifecycleAction,
    actor: Principal | null,
    auto?: { reason: string; evidence: unknown },
  ): Promise<string[]> {
    const key = current.key;
    const rule = TRANSITIONS[action];
    if (!rule.from.includes(current.status)) {
      throw Problem.conflict(
        `Cannot ${action} experiment "${key}" while it is ${current.status} (allowed from: ${rule.from.join(', ')}).`,
        'illegal-transition',
      );
    }
    // Start needs a primary metric and an assignable definition; it fixes the allocation (phase 1) and the
    // layer share. Stop ends the phase and frees the layer share.
    const neighbours =
      action === 'start'
        ? await this.abState.onStart(m, current, definitionOf(current))
        : action === 'stop'
          ? await this.abState.onStop(m, current, definitionOf(current))
          : [];
    const now = new Date();
    const stamps =
      rule.to === 'running' && !current.startedAt
        ? { startedAt: now }
        : rule.to === 'stopped'
          ? { stoppedAt: now }
          : {};
    if (!(await this.experiments.setStatus(m, current.id, rule.from, rule.to, stamps))) {
      throw Problem.conflict(
        `Experiment "${key}" changed state concurrently; read it again and retry.`,
        'concurrent-change',
      );
    }
    await this.audit.append(m, actor, {
      action: auto ? 'experiment.auto_stop' : `experiment.${action}`,
      entityType: 'experiment',
      entityId: key,
      before: { status: current.status },
      after: auto ? { status: rule.to, reason: auto.reason, evidence: auto.evidence } : { status: rule.to },
    });
    await this.outbox.enqueue(m, LIFECYCLE_EVENT[rule.to as 'running' | 'paused' | 'stopped'], {
      experiment: key,
      from: current.status,
      to: rule.to,
      actor: actor ? actor.name : 'system',
    });
    return neighbours;
  }

  /** Serve `variant` to everyone from now on: the experiment stops (if it was not) and remembers the winner. Audited. */
  async ship(key: string, variant: string, actor: Principal): Promise<ExperimentView> {
    const neighbours = await this.experiments.transaction(async (m) => {
      const current = await this.require(key, m);
      const neighbours = await this.abState.onShip(m, current, definitionOf(current), variant);
      if (
        current.status !== 'stopped' &&
        !(await this.experiments.setStatus(m, current.id, ['running', 'paused'], 'stopped', { stoppedAt: new Date() }))
      ) {
        throw Problem.conflict(
          `Experiment "${key}" changed state concurrently; read it again and retry.`,
          'concurrent-change',
        );
      }
      await this.audit.append(m, actor, {
        action: 'experiment.ship',
        entityType: 'experiment',
        entityId: key,
        before: { status: current.status, shippedVariant: null },
        after: { status: 'stopped', shippedVariant: variant },
      });
      await this.outbox.enqueue(m, 'experiment.shipped', { experiment: key, variant, actor: actor.name });
      if (current.status !== 'stopped')
        await this.outbox.enqueue(m, 'experiment.stopped', {
          experiment: key,
          from: current.status,
          to: 'stopped',
          actor: actor.name,
        });
      return neighbours;
    });
    this.events.changed(key);
    for (const k of neighbours) this.events.changed(k);
    return this.get(key);
  }

  private async require(
    key: string,
    manager?: Parameters<ExperimentsRepository['findByKey']>[1],
  ): Promise<ExperimentEntity> {
    const found = await this.experiments.findByKey(key, manager);
    if (!found) throw Problem.notFound(`No experiment with key "${key}".`);
    return found;
  }
}

function toEntity(
  d: ExperimentDefinition,
  fixed: { id: string; salt: string; status: ExperimentStatus; version: number },
): ExperimentEntity {
  const e = new ExperimentEntity();
  Object.assign(e, {
    ...fixed,
    key: d.key,
    name: d.name,
    hypothesis: d.hypothesis,
    kind: d.kind,
    assignment: d.assignment,
    trafficPercent: d.trafficPercent,
    layer: d.layer,
    slots: d.slots ?? null,
    settings: settingsOf(d) as unknown as Record<string, unknown>,
    startedAt: null,
    stoppedAt: null,
  });
  e.variants = d.variants.map((v, position) => {
    const row = new VariantEntity();
    Object.assign(row, {
      id: randomUUID(),
      experimentId: fixed.id,
      key: v.key,
      position,
      weight: v.weight,
      policy: v.policy ?? null,
      shadow: v.shadow,
      config: v.config ?? null,
    });
    return row;
  });
  return e;
}
