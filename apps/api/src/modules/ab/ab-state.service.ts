import { Injectable } from '@nestjs/common';
import {
  Allocation,
  countsFromWeights,
  diffAllocations,
  Layer,
  layerPlacement,
  LayerPlacement,
  planLayer,
  rampVariants,
  rangesSize,
  validateAssignable,
} from '@slotwise/assignment';
import type { AssignableExperiment } from '@slotwise/assignment';
import { EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/access';
import { FieldError, Problem } from '../../common/http/problem';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import { AuditRepository } from '../audit/audit.repository';
import { ExperimentEvents } from '../experiments/experiment-events';
import { servedVariants, type ExperimentDefinition } from '../experiments/experiment.schema';
import { PutLayerInput } from './ab.schema';
import { AbStateRepository, LayerRow, PhaseRow } from './ab-state.repository';

/** Statuses in which an experiment holds its layer buckets and its allocation is live. */
const LIVE = new Set(['running', 'paused']);

export interface LayerView {
  key: string;
  salt: string;
  hashVersion: number;
  holdoutPercent: number;
  holdout: { start: number; end: number }[];
  /** Experiment key → share of the layer's units (percent) and its layer bucket ranges. */
  experiments: Record<string, { percent: number; ranges: { start: number; end: number }[] }>;
  freePercent: number;
  version: number;
  updatedAt: string;
}

// Shadow variants take no traffic: weights, buckets and allocations are the served variants' only.
type WeightedVariants = { variants: ReadonlyArray<{ key: string; weight: number; shadow?: boolean }> };
const weightsOf = (d: WeightedVariants): Record<string, number> =>
  Object.fromEntries(servedVariants(d.variants).map((v) => [v.key, v.weight]));
const bucketsOf = (d: WeightedVariants): string =>
  countsFromWeights(servedVariants(d.variants).map((v) => v.weight)).join(',');

function toLayer(row: LayerRow): Layer {
  return {
    key: row.key,
    salt: row.salt,
    hashVersion: row.hashVersion,
    holdout: row.holdout,
    experiments: row.experiments,
  };
}

/**
 * The definition as libs/assignment reads it. In a layer the experiment's `trafficPercent` is its share of the
 * layer (its layer bucket ranges), so the assignable traffic is 100 % of that slice.
 */
export function assignableOf(
  entity: Pick<ExperimentEntity, 'key' | 'status' | 'salt'>,
  d: Pick<ExperimentDefinition, 'trafficPercent' | 'variants' | 'targeting' | 'layer' | 'assignment'>,
  phase: PhaseRow | null,
  layer: LayerPlacement | null,
): AssignableExperiment {
  const layered = d.layer !== null && d.assignment === 'hash';
  const current =
    phase &&
    bucketsOf({ variants: d.variants }) ===
      bucketsOf({ variants: Object.entries(phase.weights).map(([key, weight]) => ({ key, weight })) });
  return {
    key: entity.key,
    status: entity.status,
    salt: entity.salt,
    trafficPercent: layered ? 100 : d.trafficPercent,
    variants: servedVariants(d.variants).map((v) => ({ key: v.key, weight: v.weight })),
    ...(current ? { allocation: phase.allocation } : {}),
    targeting: (d.targeting ?? null) as AssignableExperiment['targeting'],
    layer: layered ? (layer ?? { key: d.layer!, ranges: [] }) : null,
  };
}

/**
 * Lifecycle hooks of the A/B engine, called by ExperimentsService inside its transactions: the variant
 * allocation and phase on start and on weight changes (minimal-move ramps), layer placement on start / traffic
 * change / stop, and shipping. Each hook returns the keys of other experiments whose assignment changed (layer
 * neighbours), which the caller announces through ExperimentEvents after commit.
 */
@Injectable()
export class AbStateService {
  constructor(
    private readonly state: AbStateRepository,
    private readonly audit: AuditRepository,
    private readonly events: ExperimentEvents,
  ) {}

  /** Start (from draft or paused): a primary metric and an assignable definition are required. */
  async onStart(m: EntityManager, entity: ExperimentEntity, d: ExperimentDefinition): Promise<string[]> {
    const errors: FieldError[] = [];
    if (!d.metrics.primary) errors.push({ path: 'metrics.primary', message: 'a primary metric is required to start' });
    errors.push(...validateAssignable(assignableOf({ ...entity, status: 'running' }, d, null, null)));
    if (errors.length > 0) {
      throw new Problem(
        409,
        `Experiment "${d.key}" cannot start: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
        errors,
        'not-startable',
      );
    }
    const phase = await this.state.currentPhase(entity.id, m);
    if (!phase)
      await this.state.insertPhase(m, entity.id, 1, rampVariants(undefined, servedVariants(d.variants)), weightsOf(d));
    if (d.layer !== null && d.assignment === 'hash') return this.placeInLayer(m, d.layer, d.key, d.trafficPercent);
    return [];
  }

  /**
   * A definition change. While live (running or paused): the layer cannot change; a change of the variant
   * split ramps the stored allocation (minimal moves) and starts a new phase (audited); a traffic change of a
   * layered experiment re-plans its layer share.
   */
  async onPatch(
    m: EntityManager,
    entity: ExperimentEntity,
    before: ExperimentDefinition,
    after: ExperimentDefinition,
    actor: Principal,
  ): Promise<string[]> {
    if (!LIVE.has(entity.status)) return [];
    if (after.layer !== before.layer)
      throw Problem.conflict(
        '"layer" cannot change once the experiment has started; create a new experiment instead.',
        'frozen-field',
      );
    if (after.assignment === 'hash') {
      const phase = await this.state.currentPhase(entity.id, m);
      if (phase && bucketsOf(after) !== bucketsOf(before)) {
        const allocation = rampVariants(phase.allocation, servedVariants(after.variants));
        const moved = diffAllocations(phase.allocation, allocation);
        await this.state.insertPhase(m, entity.id, phase.phase + 1, allocation, weightsOf(after));
        await this.audit.append(m, actor, {
          action: 'experiment.phase',
          entityType: 'experiment-phase',
          entityId: after.key,
          before: { phase: phase.phase, weights: phase.weights, allocation: phase.allocation },
          after: {
            phase: phase.phase + 1,
            weights: weightsOf(after),
            allocation,
            moved: moved.changes,
            reassignedBuckets: moved.reassigned,
          },
        });
      }
    }
    if (after.layer !== null && after.assignment === 'hash' && after.trafficPercent !== before.trafficPercent) {
      return this.placeInLayer(m, after.layer, after.key, after.trafficPercent);
    }
    return [];
  }

  /** Stop: the phase ends and the experiment gives its layer buckets back. */
  async onStop(m: EntityManager, entity: ExperimentEntity, d: ExperimentDefinition): Promise<string[]> {
    await this.state.endPhase(m, entity.id);
    return d.layer !== null ? this.removeFromLayer(m, d.layer, d.key) : [];
  }

  /** Ship a variant: validated against the definition; the caller stops the experiment and audits. */
  async onShip(
    m: EntityManager,
    entity: ExperimentEntity,
    d: ExperimentDefinition,
    variant: string,
  ): Promise<string[]> {
    if (!servedVariants(d.variants).some((v) => v.key === variant)) {
      const shadow = d.variants.some((v) => v.key === variant);
      throw Problem.validation([
        {
          path: 'variant',
          message: shadow
            ? `"${variant}" is a shadow variant: promote it (PATCH shadow: false) and let it earn its result first`
            : `is not a variant of "${d.key}" (${d.variants.map((v) => v.key).join(', ')})`,
        },
      ]);
    }
    const current = (await this.state.summaries([entity.id], m)).get(entity.id);
    if (current?.shippedVariant)
      throw Problem.conflict(`Experiment "${d.key}" already shipped "${current.shippedVariant}".`, 'already-shipped');
    if (entity.status === 'draft')
      throw Problem.conflict(
        `Experiment "${d.key}" never ran; start it or change its definition instead.`,
        'illegal-transition',
      );
    await this.state.setShipped(m, entity.id, variant);
    return entity.status === 'stopped' ? [] : this.onStop(m, entity, d);
  }

  async summaries(ids: string[]): Promise<Map<string, { phase: number; shippedVariant: string | null }>> {
    return this.state.summaries(ids);
  }

  // ---- layers -------------------------------------------------------------------------------------------------

  async getLayer(key: string): Promise<LayerView> {
    const row = await this.state.getLayer(key);
    if (!row) throw Problem.notFound(`No layer with key "${key}".`);
    return layerView(row);
  }

  async listLayers(): Promise<{ layers: LayerView[] }> {
    return { layers: (await this.state.listLayers()).map(layerView) };
  }

  /** Create or change a layer's holdout (and, while empty, its salt). Audited; re-plans with minimal moves. */
  async putLayer(key: string, input: PutLayerInput, actor: Principal): Promise<LayerView> {
    const notify = await this.state.transaction(async (m) => {
      const row = (await this.state.lockLayer(m, key, true))!;
      const members = Object.keys(row.experiments);
      const salt = input.salt ?? row.salt;
      if (salt !== row.salt && members.length > 0) {
        throw Problem.conflict(
          `The salt of layer "${key}" cannot change while experiments hold buckets in it (${members.join(', ')}).`,
          'frozen-field',
        );
      }
      const next = this.plan(row, { salt, holdoutPercent: input.holdoutPercent });
      await this.state.saveLayer(m, {
        key,
        salt,
        holdoutPercent: input.holdoutPercent,
        holdout: next.holdout,
        experiments: next.experiments,
      });
      await this.audit.append(m, actor, {
        action: 'layer.update',
        entityType: 'layer',
        entityId: key,
        before: { salt: row.salt, holdoutPercent: row.holdoutPercent, holdout: row.holdout },
        after: { salt, holdoutPercent: input.holdoutPercent, holdout: next.holdout },
      });
      return members;
    });
    for (const k of notify) this.events.changed(k);
    return this.getLayer(key);
  }

  private plan(
    row: LayerRow,
    change: { salt?: string; holdoutPercent?: number; experiment?: { key: string; percent: number | null } },
  ): Layer {
    const experiments = Object.entries(row.experiments).map(([k, r]) => ({ key: k, percent: rangesSize(r) / 100 }));
    if (change.experiment) {
      const i = experiments.findIndex((e) => e.key === change.experiment!.key);
      if (change.experiment.percent === null) {
        if (i >= 0) experiments.splice(i, 1);
      } else if (i >= 0) experiments[i].percent = change.experiment.percent;
      else experiments.push({ key: change.experiment.key, percent: change.experiment.percent });
    }
    const holdoutPercent = change.holdoutPercent ?? row.holdoutPercent;
    const need = holdoutPercent + experiments.reduce((a, e) => a + e.percent, 0);
    if (Math.round(need * 100) > 10_000) {
      const others = experiments.filter((e) => e.key !== change.experiment?.key).reduce((a, e) => a + e.percent, 0);
      throw Problem.conflict(
        `Layer "${row.key}" is full: the holdout (${holdoutPercent} %) and its experiments would need ${need.toFixed(2)} % of its units` +
          (change.experiment
            ? `; ${Math.max(0, 100 - holdoutPercent - others).toFixed(2)} % is free for "${change.experiment.key}"`
            : '') +
          '.',
        'layer-full',
      );
    }
    return planLayer(toLayer(row), { key: row.key, salt: change.salt ?? row.salt, holdoutPercent, experiments });
  }

  /** Give `experimentKey` a share of the layer (creating the layer when missing); returns the neighbours to notify. */
  private async placeInLayer(
    m: EntityManager,
    layerKey: string,
    experimentKey: string,
    percent: number,
  ): Promise<string[]> {
    const row = (await this.state.lockLayer(m, layerKey, true))!;
    const next = this.plan(row, { experiment: { key: experimentKey, percent } });
    await this.state.saveLayer(m, { ...row, holdout: next.holdout, experiments: next.experiments });
    return Object.keys(row.experiments).filter((k) => k !== experimentKey);
  }

  private async removeFromLayer(m: EntityManager, layerKey: string, experimentKey: string): Promise<string[]> {
    const row = await this.state.lockLayer(m, layerKey, false);
    if (!row || !row.experiments[experimentKey]) return [];
    const { [experimentKey]: _gone, ...experiments } = row.experiments;
    await this.state.saveLayer(m, { ...row, experiments });
    return [];
  }
}

/** This experiment's placement in its layer, or null when it holds no buckets there. */
export function placementOf(layer: LayerRow | null, experimentKey: string): LayerPlacement | null {
  if (!layer || !layer.experiments[experimentKey]) return null;
  return layerPlacement(toLayer(layer), experimentKey);
}

function layerView(row: LayerRow): LayerView {
  const experiments: LayerView['experiments'] = {};
  let used = rangesSize(row.holdout);
  for (const [k, r] of Object.entries(row.experiments as Allocation)) {
    experiments[k] = { percent: rangesSize(r) / 100, ranges: r };
    used += rangesSize(r);
  }
  return {
    key: row.key,
    salt: row.salt,
    hashVersion: row.hashVersion,
    holdoutPercent: row.holdoutPercent,
    holdout: row.holdout,
    experiments,
    freePercent: (10_000 - used) / 100,
    version: row.version,
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}
