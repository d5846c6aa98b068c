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
import { type Quarantine, ServingState } from './serving-state';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import type { PolicySpec } from '../experiments/experiment.schema';
import type { ExperimentSettings } from '../experiments/experiment.view';

/** One variant's serving state: its policy and, for a posterior policy, the posterior's serving state. */
export class VariantRuntime {
  /** The posterior and what the next flush must write (null: a policy without a posterior). */
  readonly serving: ServingState | null;
  /** Stored snapshot version this replica last saw (another replica wrote when it differs). */
  storedVersion = 0;
  /** When this replica last learnt the stored version (a flush, a load, a version check): Date.now() ms. */
  syncedAt = Date.now();
  private _policy: SlatePolicy;
  /** Flushes and reloads of this variant run one at a time (a reload during a flush would drop the delta in flight). */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;

  constructor(
    readonly key: string,
    readonly spec: PolicySpec,
    policyConfig: PolicyConfig,
    model: AnyModel | null,
    readonly propensityDraws: number,
    /** thompson `propensities: "deferred"`: Monte-Carlo propensities after the answer */
    readonly deferPropensities = false,
  ) {
    // The policy reads the model object: a replaced model (rebuild, quarantine) gets a new policy.
    this.serving = model
      ? new ServingState(model, (m) => (this._policy = createPolicy(policyConfig, m as BanditModel)))
      : null;
    this._policy = createPolicy(policyConfig, model as BanditModel | null);
  }

  get model(): AnyModel | null {
    return this.serving?.model ?? null;
  }
  get policy(): SlatePolicy {
    return this._policy;
  }
  /** Set when the posterior cannot serve (non-finite or not positive definite): rank answers 503 for this variant. */
  get quarantine(): Quarantine | null {
    return this.serving?.quarantine ?? null;
  }

  /** Runs `task` after every earlier task of this variant has settled. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.queue.then(task, task).finally(() => this.queued--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Whether a flush or reload of this variant is queued or running (it takes the stored version when it ends). */
  get busy(): boolean {
    return this.queued > 0;
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
export function modelSpecFor(
  spec: PolicySpec,
  dims: { contextDim: number; itemDim: number; embeddingDim: number | null },
): ModelSpec | null {
  if (spec.type !== 'thompson' && spec.type !== 'epsilon-greedy') return null;
  const prior = { lambda: spec.lambda, a0: spec.a0, b0: spec.b0, ...(spec.noise ? { noise: spec.noise } : {}) };
  switch (spec.model) {
    case 'beta':
      return { type: 'beta' };
    case 'linear':
      return { type: 'linear', contextDim: dims.contextDim, itemDim: dims.itemDim, ...prior };
    case 'hybrid':
      return {
        type: 'hybrid',
        contextDim: dims.contextDim,
        itemDim: dims.itemDim,
        ...prior,
        ...(spec.itemLambda ? { itemLambda: spec.itemLambda } : {}),
      };
    case 'neural-linear':
      if (!dims.embeddingDim) throw new Error('neural-linear needs a ranker model with an embedding output');
      return { type: 'neural-linear', embeddingDim: dims.embeddingDim, ...prior };
  }
}

export function buildVariant(
  key: string,
  spec: PolicySpec,
  modelSpec: ModelSpec | null,
  stored: ModelSnapshot | null,
): VariantRuntime {
  let model: AnyModel | null = null;
  if (modelSpec) {
    model = createModel(modelSpec);
    // A stored snapshot from the same configuration continues the posterior; otherwise start from the prior.
    if (stored) model = modelFromSnapshot(stored);
  }
  const policyConfig = (
    spec.type === 'thompson'
      ? { type: 'thompson', model: spec.model }
      : spec.type === 'epsilon-greedy'
        ? { type: 'epsilon-greedy', epsilon: spec.epsilon, model: spec.model }
        : { type: spec.type }
  ) as PolicyConfig;
  const draws = spec.type === 'thompson' ? spec.propensityDraws : DEFAULT_PROPENSITY_DRAWS;
  return new VariantRuntime(
    key,
    spec,
    policyConfig,
    model,
    draws,
    spec.type === 'thompson' && spec.propensities === 'deferred',
  );
}

/** The bandit's view of a shortlisted candidate. */
export type BanditCandidate = Candidate & { features: Float64Array };
