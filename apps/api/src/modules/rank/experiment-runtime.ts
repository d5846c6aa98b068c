import {
  type AnyModel,
  type BanditModel,
  type Candidate,
  type ModelSnapshot,
  type ModelSpec,
  type PolicyConfig,
  type SlatePolicy,
  createModel,
  createPolicy,
  DEFAULT_PROPENSITY_DRAWS,
  modelFromSnapshot,
} from '@slotwise/bandit';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import type { PolicySpec } from '../experiments/experiment.schema';
import type { ExperimentSettings } from '../experiments/experiment.view';

/** A taken delta whose flush failed in a way that may or may not have committed (the engine finds out before retrying). */
export interface InDoubtFlush {
  delta: ModelSnapshot;
  decisionIds: string[];
  rewardSeqs: string[];
}

/** One variant's serving state: its policy, its posterior (if any) and what the next flush must write. */
export class VariantRuntime {
  /** Decisions and rewards whose effect is in the model but not yet in the stored snapshot. */
  pendingDecisionIds: string[] = [];
  pendingRewardSeqs: string[] = [];
  /** Stored snapshot version this replica last saw (another replica wrote when it differs). */
  storedVersion = 0;
  /** When this replica last learnt the stored version (a flush, a load, a version check): Date.now() ms. */
  syncedAt = Date.now();
  /** Set when the posterior cannot serve (non-finite or not positive definite): rank answers 503 for this variant. */
  quarantine: { reason: string; since: Date } | null = null;
  inDoubt: InDoubtFlush | null = null;
  private _model: AnyModel | null;
  private _policy: SlatePolicy;
  /** Flushes and reloads of this variant run one at a time (a reload during a flush would drop the delta in flight). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly key: string,
    readonly spec: PolicySpec,
    private readonly policyConfig: PolicyConfig,
    model: AnyModel | null,
    readonly propensityDraws: number,
    /** thompson `propensities: "deferred"`: Monte-Carlo propensities after the answer */
    readonly deferPropensities = false,
  ) {
    this._model = model;
    this._policy = createPolicy(policyConfig, model as BanditModel | null);
  }

  get model(): AnyModel | null {
    return this._model;
  }
  get policy(): SlatePolicy {
    return this._policy;
  }

  /** Replaces the posterior (a rebuild from a clean reload) and the policy that reads it. */
  setModel(model: AnyModel): void {
    this._model = model;
    this._policy = createPolicy(this.policyConfig, model as BanditModel);
  }

  get hasPending(): boolean {
    return this.pendingDecisionIds.length > 0 || this.pendingRewardSeqs.length > 0;
  }

  /** Runs `task` after every earlier task of this variant has settled. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Everything `rank` needs about one experiment, kept in memory between requests. */
export class ExperimentRuntime {
  readonly variants = new Map<string, VariantRuntime>();
  /** Shown slots per item in this experiment: an item is cold below `coldStartThreshold`. */
  impressions = new Map<string, number>();
  entity!: ExperimentEntity;
  settings!: ExperimentSettings;

  constructor(entity: ExperimentEntity) {
    this.update(entity);
  }

  get id(): string {
    return this.entity.id;
  }
  get key(): string {
    return this.entity.key;
  }

  /** Takes a changed definition without touching the posteriors (assignment itself is the A/B engine's). */
  update(entity: ExperimentEntity): void {
    this.entity = entity;
    this.settings = entity.settings as unknown as ExperimentSettings;
  }

  featureNames(): { context: string[]; item: string[] } {
    return { context: this.settings.features.context, item: this.settings.features.item };
  }

  isCold(itemId: string): boolean {
    return (this.impressions.get(itemId) ?? 0) < this.settings.coldStartThreshold;
  }
}

/** The posterior model a policy needs, built from the experiment's feature schema (and the ranker's embedding width). */
export function modelSpecFor(spec: PolicySpec, dims: { contextDim: number; itemDim: number; embeddingDim: number | null }): ModelSpec | null {
  if (spec.type !== 'thompson' && spec.type !== 'epsilon-greedy') return null;
  const prior = { lambda: spec.lambda, a0: spec.a0, b0: spec.b0, ...(spec.noise ? { noise: spec.noise } : {}) };
  switch (spec.model) {
    case 'beta':
      return { type: 'beta' };
    case 'linear':
      return { type: 'linear', contextDim: dims.contextDim, itemDim: dims.itemDim, ...prior };
    case 'hybrid':
      return { type: 'hybrid', contextDim: dims.contextDim, itemDim: dims.itemDim, ...prior, ...(spec.itemLambda ? { itemLambda: spec.itemLambda } : {}) };
    case 'neural-linear':
      if (!dims.embeddingDim) throw new Error('neural-linear needs a ranker model with an embedding output');
      return { type: 'neural-linear', embeddingDim: dims.embeddingDim, ...prior };
  }
}

export function buildVariant(key: string, spec: PolicySpec, modelSpec: ModelSpec | null, stored: ModelSnapshot | null): VariantRuntime {
  let model: AnyModel | null = null;
  if (modelSpec) {
    model = createModel(modelSpec);
    // A stored snapshot from the same configuration continues the posterior; otherwise start from the prior.
    if (stored) model = modelFromSnapshot(stored);
  }
  const policyConfig = (
    spec.type === 'thompson' ? { type: 'thompson', model: spec.model } : spec.type === 'epsilon-greedy' ? { type: 'epsilon-greedy', epsilon: spec.epsilon, model: spec.model } : { type: spec.type }
  ) as PolicyConfig;
  const draws = spec.type === 'thompson' ? spec.propensityDraws : DEFAULT_PROPENSITY_DRAWS;
  return new VariantRuntime(key, spec, policyConfig, model, draws, spec.type === 'thompson' && spec.propensities === 'deferred');
}

/** The bandit's view of a shortlisted candidate. */
export type BanditCandidate = Candidate & { features: Float64Array };
