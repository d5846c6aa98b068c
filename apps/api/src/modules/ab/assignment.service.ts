import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Assignment, AssignmentReason, compileExperiment, CompiledExperiment } from '@slotwise/assignment';
import { GroupCommit } from '../../common/group-commit';
import { Problem } from '../../common/http/problem';
import { ExperimentEvents } from '../experiments/experiment-events';
import { definitionOf, ExperimentView, viewOf } from '../experiments/experiment.view';
import { servedVariants } from '../experiments/experiment.schema';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { AssignInput, UnitAttributes } from './ab.schema';
import { AbStateRepository } from './ab-state.repository';
import { assignableOf, placementOf } from './ab-state.service';
import { ExposureRow, ExposuresRepository } from './exposures.repository';
import { LruSet } from './lru';

/** An experiment loaded and compiled for serving. */
export interface ServingExperiment {
  id: string;
  key: string;
  view: ExperimentView;
  status: string;
  assignment: 'hash' | 'external';
  /** Current phase (1 before the first start). */
  phase: number;
  shippedVariant: string | null;
  configs: Map<string, Record<string, unknown> | null>;
  /** Null for external experiments, or when the stored definition does not compile (reported as a 409). */
  compiled: CompiledExperiment | null;
  compileError: string | null;
  loadedAt: number;
}

export type ServingReason = AssignmentReason | 'shipped';

/** What serving learns about one unit. */
export interface ServingAssignment {
  /** The variant to serve: the assigned one, the shipped winner, or null (serve the default experience). */
  variant: string | null;
  /** True when the unit is in the experiment (its exposure is logged, unless `reason` is `forced`). */
  inExperiment: boolean;
  /** Why the unit is out (`not_running`, `targeting`, `layer`, `holdout`, `traffic`, `shipped`), `forced`, or null. */
  reason: ServingReason | null;
  /** The experiment as loaded (definition, status, phase, shipped variant). */
  experiment: ExperimentView;
  /** The variant's config payload (A/B experiments), or null. */
  config: Record<string, unknown> | null;
  /** Current phase: exposures are logged per (experiment, phase, unit). */
  phase: number;
}

/** Entries older than this are reloaded in the background (changes made through another replica). */
const REFRESH_MS = 30_000;
/** Exposures this process remembers having written (per experiment, phase and unit). */
const EXPOSED_CAPACITY = 200_000;
/** Most rows per exposure write; concurrent assignments share a statement. */
const EXPOSURE_BATCH_MAX = 1_000;

/**
 * Assignment for serving (`POST /v1/assign`, and `POST /v1/rank` through {@link assignForServing}).
 *
 * Hot path: compiled experiments are cached in memory (invalidated by ExperimentEvents, refreshed in the background
 * every 30 s for changes made on other replicas), so an assignment reads nothing from the database. The only write
 * is the unit's first exposure in the phase, `INSERT … ON CONFLICT DO NOTHING`, awaited (durable before the answer)
 * and group-committed with the other first exposures of the same event-loop turn or written meanwhile; an LRU set
 * of exposures already written keeps repeat calls from writing at all.
 */
@Injectable()
export class AssignmentService implements OnModuleDestroy {
  private readonly log = new Logger(AssignmentService.name);
  private readonly cache = new Map<string, ServingExperiment>();
  private readonly loading = new Map<string, Promise<ServingExperiment | null>>();
  /** Bumped per key on invalidation, so a load that raced with a change is not cached. */
  private readonly generation = new Map<string, number>();
  private readonly exposed = new LruSet(EXPOSED_CAPACITY);
  private readonly exposureWrites = new GroupCommit<{ row: ExposureRow; key: string }>(
    (batch) => this.writeExposures(batch),
    EXPOSURE_BATCH_MAX,
  );
  private readonly unsubscribe: () => void;

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly state: AbStateRepository,
    private readonly exposures: ExposuresRepository,
    events: ExperimentEvents,
  ) {
    this.unsubscribe = events.onChanged((key) => this.invalidate(key));
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe();
    await this.exposureWrites.drain();
  }

  /** Drop an experiment from the cache (the next call reloads it). */
  invalidate(key: string): void {
    this.generation.set(key, (this.generation.get(key) ?? 0) + 1);
    this.cache.delete(key);
    this.loading.delete(key);
  }

  /**
   * Assign `unitId` to the experiment `experimentKey` and log its first exposure in the current phase.
   * Not running: `variant: null, reason: 'not_running'` (or the shipped winner with `reason: 'shipped'`).
   * Throws Problem 404 for an unknown experiment, 409 for an experiment assigned externally.
   */
  async assignForServing(
    experimentKey: string,
    unitId: string,
    attributes: UnitAttributes = {},
  ): Promise<ServingAssignment> {
    const exp = await this.load(experimentKey);
    if (!exp) throw Problem.notFound(`No experiment with key "${experimentKey}".`);
    const base = { experiment: exp.view, phase: exp.phase };
    if (exp.shippedVariant) {
      return {
        ...base,
        variant: exp.shippedVariant,
        inExperiment: false,
        reason: 'shipped',
        config: exp.configs.get(exp.shippedVariant) ?? null,
      };
    }
    if (exp.status !== 'running')
      return { ...base, variant: null, inExperiment: false, reason: 'not_running', config: null };
    if (exp.assignment === 'external') {
      throw Problem.conflict(
        `Experiment "${experimentKey}" is assigned outside Slotwise; send its exposures to POST /v1/exposures.`,
        'external-assignment',
      );
    }
    if (!exp.compiled)
      throw Problem.conflict(`Experiment "${experimentKey}" cannot assign: ${exp.compileError}`, 'invalid-definition');
    const a: Assignment = exp.compiled.assign(unitId, attributes);
    if (a.inExperiment && a.variant !== null && a.reason !== 'forced') {
      await this.logExposure(exp, unitId, a.variant, attributes);
    }
    return {
      ...base,
      variant: a.variant,
      inExperiment: a.inExperiment,
      reason: a.reason,
      config: a.variant ? (exp.configs.get(a.variant) ?? null) : null,
    };
  }

  /** `POST /v1/assign`. */
  async assign(input: AssignInput): Promise<{
    experiment: string;
    variant: string | null;
    config: Record<string, unknown> | null;
    inExperiment: boolean;
    reason?: string;
  }> {
    const r = await this.assignForServing(input.experiment, input.unitId, input.attributes);
    return {
      experiment: input.experiment,
      variant: r.variant,
      config: r.config,
      inExperiment: r.inExperiment,
      ...(r.reason ? { reason: r.reason } : {}),
    };
  }

  /** The serving view of an experiment (cached), or null when it does not exist. Used by exposure imports. */
  async load(key: string): Promise<ServingExperiment | null> {
    const hit = this.cache.get(key);
    if (hit) {
      if (Date.now() - hit.loadedAt > REFRESH_MS && !this.loading.has(key))
        void this.reload(key).catch((err) => this.log.warn(`reload of "${key}" failed: ${String(err)}`));
      return hit;
    }
    return this.loading.get(key) ?? this.reload(key);
  }

  /** Forget exposures remembered for a unit (after erasure, its next assignment must write again). */
  forgetUnit(unitId: string): void {
    const suffix = `|${unitId}`;
    this.exposed.deleteWhere((k) => k.endsWith(suffix));
  }

  private reload(key: string): Promise<ServingExperiment | null> {
    const gen = this.generation.get(key) ?? 0;
    const p = this.fetch(key).finally(() => {
      if (this.loading.get(key) === p) this.loading.delete(key);
    });
    this.loading.set(key, p);
    return p.then((exp) => {
      if ((this.generation.get(key) ?? 0) === gen) {
        if (exp) this.cache.set(key, exp);
        else this.cache.delete(key);
      }
      return exp;
    });
  }

  private async fetch(key: string): Promise<ServingExperiment | null> {
    const entity = await this.experiments.findByKey(key);
    if (!entity) return null;
    const d = definitionOf(entity);
    const st = await this.state.servingState(entity.id, d.layer);
    let compiled: CompiledExperiment | null = null;
    let compileError: string | null = null;
    if (d.assignment === 'hash') {
      try {
        compiled = compileExperiment(assignableOf(entity, d, st.phase, placementOf(st.layer, d.key)));
      } catch (err) {
        compileError = (err as Error).message;
      }
    }
    const phase = st.phase?.phase ?? 1;
    return {
      id: entity.id,
      key,
      view: { ...viewOf(entity), phase, shippedVariant: st.shippedVariant },
      status: entity.status,
      assignment: d.assignment,
      phase,
      shippedVariant: st.shippedVariant,
      // served variants only: shadow variants are never assigned nor reported as exposures
      configs: new Map(servedVariants(d.variants).map((v) => [v.key, v.config ?? null])),
      compiled,
      compileError,
      loadedAt: Date.now(),
    };
  }

  private logExposure(
    exp: ServingExperiment,
    unitId: string,
    variant: string,
    attributes: UnitAttributes,
  ): Promise<void> {
    const key = `${exp.id}|${exp.phase}|${variant}|${unitId}`;
    if (this.exposed.has(key)) return Promise.resolve();
    const row: ExposureRow = {
      experimentId: exp.id,
      phase: exp.phase,
      unitId,
      variant,
      at: new Date(),
      attributes: Object.keys(attributes).length ? attributes : null,
    };
    return this.exposureWrites.submit({ row, key });
  }

  private async writeExposures(batch: Array<{ row: ExposureRow; key: string }>): Promise<void> {
    // One row per key: two concurrent first calls of a unit share the write.
    await this.exposures.logFirst([...new Map(batch.map((p) => [p.key, p.row])).values()]);
    for (const p of batch) this.exposed.add(p.key);
  }
}
