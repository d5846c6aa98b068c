import { Inject, Injectable } from '@nestjs/common';
import { createRng, MAX_FEATURE_MAGNITUDE, type Rng, type SlateDecision } from '@slotwise/bandit';
import { historyMatrix } from '@slotwise/features';
import { RankerInputError, topN } from '@slotwise/ranker';
import { randomInt, randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { FieldError, Problem } from '../../common/http/problem';
import { AssignmentService } from '../ab/assignment.service';
import type { UnitAttributes } from '../ab/ab.schema';
import { UnitErasureService } from '../ab/unit-erasure.service';
import { CatalogCache, CatalogFeatures } from '../items/catalog-cache';
import { FEATURE_RANGE_MESSAGE } from '../items/item.schema';
import { FeatureStoreService, type RankFeatureFill } from '../features';
import { ModelsService } from '../models/models.service';
import { DecisionHooks } from './decision-hooks';
import { DecisionsRepository } from './decisions.repository';
import { DeferredPropensities } from './deferred-propensities';
import { BanditCandidate, ExperimentRuntime } from './experiment-runtime';
import { toVector } from './feature-resolver';
import type { DecisionHistory, StoredShortlist } from './model-state.repository';
import { RankEngine } from './rank-engine';
import { RankedSlot, RankRequest, RankResponse } from './rank.schema';

interface ScoredCandidates {
  context: Float64Array;
  /** item features per candidate, schema order */
  features: Float64Array[];
  rankerScores: Float32Array;
  embeddings?: Float32Array;
  embeddingDim?: number;
  /** stored feature values filled in (feature store), null when the schema names none */
  stored: RankFeatureFill | null;
  /** a sequence ranker's history input: the unit's last K interacted items, newest first, and their feature rows */
  history?: DecisionHistory;
}

@Injectable()
export class RankService {
  constructor(
    private readonly engine: RankEngine,
    private readonly catalog: CatalogCache,
    private readonly models: ModelsService,
    private readonly decisions: DecisionsRepository,
    private readonly assignment: AssignmentService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    erasure: UnitErasureService,
    private readonly features: FeatureStoreService,
    private readonly hooks: DecisionHooks,
    private readonly deferred: DeferredPropensities,
  ) {
    erasure.register('decisions', (manager, unitId) => this.decisions.unlinkUnit(manager, unitId));
    this.seeds = config.decisionSeed === undefined ? null : createRng(config.decisionSeed);
  }

  /** Where decision seeds come from: the OS, or one seeded sequence when SLOTWISE_DECISION_SEED is set. */
  private readonly seeds: Rng | null;

  async rank(req: RankRequest): Promise<RankResponse> {
    const runtime = await this.engine.runtime(req.experiment);
    const k = Math.min(req.slots ?? runtime.entity.slots ?? 5, req.candidates.length);
    // Stored features (feature store) are read while the variant is assigned, not after (null: the schema names none).
    const fill = this.storedFeatures(runtime, req);
    // The A/B engine decides the variant (targeting, traffic, layers, phases, ship) and logs the first exposure.
    const assignment = await this.assignment.assignForServing(
      req.experiment,
      req.unitId,
      (req.attributes ?? {}) as UnitAttributes,
    );
    const served = assignment.inExperiment || assignment.reason === 'shipped' ? assignment.variant : null;
    if (!served) return this.baseline(runtime, req, k, assignment.reason ?? 'not_in_experiment', fill);
    const variant = runtime.variants.get(served)!;
    // 503 for a quarantined posterior; an idle replica first takes what other replicas stored meanwhile.
    await this.engine.readyToDecide(runtime, variant);

    const scored = await this.score(runtime, req, fill);
    const shortlistSize = Math.min(runtime.settings.ranker.shortlist, req.candidates.length);
    const shortlist = topN(scored.rankerScores, shortlistSize);
    const candidates: BanditCandidate[] = shortlist.map((i) => ({
      id: req.candidates[i].id,
      features: scored.features[i],
      rankerScore: scored.rankerScores[i],
      ...(scored.embeddings
        ? { embedding: scored.embeddings.subarray(i * scored.embeddingDim!, (i + 1) * scored.embeddingDim!) }
        : {}),
    }));

    const seed = this.seeds ? this.seeds.int(2 ** 31 - 1) : randomInt(0, 2 ** 31 - 1);
    // Inline propensities go to the worker thread when it runs (decided as deferred, then awaited below): same numbers.
    const offload = !variant.deferPropensities && this.deferred.offloading;
    const decision = variant.policy.decide(
      {
        context: scored.context,
        candidates,
        slots: k,
        propensityDraws: variant.propensityDraws,
        explain: req.explain ? { names: runtime.featureNames(), top: 5 } : false,
        deferPropensities: variant.deferPropensities || offload,
      },
      createRng(seed),
    );
    if (offload && decision.deferredPropensities) {
      const props = await this.deferred.compute(decision.deferredPropensities, decision.propensityJob);
      decision.slots.forEach((s, j) => (s.propensity = props[j]));
      delete decision.deferredPropensities;
      delete decision.propensityJob;
    }
    const decisionId = randomUUID();
    const modelVersion = this.modelVersion(runtime, variant.key);
    const cold = decision.slots.map((s) => runtime.isCold(s.itemId));
    const stored: StoredShortlist = {
      ids: candidates.map((c) => c.id),
      rankerScores: candidates.map((c) => c.rankerScore!),
      features: candidates.map((c) => Array.from(c.features)),
      ...(scored.embeddings
        ? {
            embeddings: Object.fromEntries(
              decision.slots.map((s) => [String(s.index), Array.from(candidates[s.index].embedding!)]),
            ),
          }
        : {}),
      ...(scored.history ? { history: scored.history } : {}),
    };
    await this.decisions.insert({
      id: decisionId,
      experimentId: runtime.id,
      variantKey: variant.key,
      unitId: req.unitId,
      seed,
      modelVersion,
      policy: variant.spec,
      context: Array.from(scored.context),
      shortlist: stored,
      candidateCount: req.candidates.length,
      replica: this.config.replicaId,
      slots: decision.slots.map((s, j) => ({
        position: s.position,
        itemId: s.itemId,
        shortlistIndex: s.index,
        score: finite(s.score),
        propensity: finite(s.propensity),
        explored: s.explored,
        coldStart: cold[j],
      })),
    });
    // propensities: "deferred" — computed and written after the answer (the decision above is already durable)
    if (decision.deferredPropensities)
      this.deferred.enqueue(
        decisionId,
        decision.slots.map((s) => s.itemId),
        decision.deferredPropensities,
        decision.propensityJob,
      );
    // Durable: now the shown slots count as observations with the default reward 0 (corrected when rewards arrive).
    variant.serving?.recordDecision(
      decisionId,
      scored.context,
      decision.slots.map((s) => ({ candidate: candidates[s.index], slot: s.position - 1 })),
    );
    // Observers of durable decisions (shadow variants): they defer their own work off this request.
    this.hooks.after(runtime, () => ({ runtime, decisionId, seed, context: scored.context, candidates, k }));
    for (const s of decision.slots) runtime.impressions.set(s.itemId, (runtime.impressions.get(s.itemId) ?? 0) + 1);
    // Feature store: the shown slots feed impression-sourced features (no I/O when none is defined).
    await this.features.recordImpressions(
      req.unitId,
      decision.slots.map((s) => s.itemId),
      Date.now(),
    );

    return {
      decisionId,
      experiment: runtime.key,
      variant: variant.key,
      modelVersion,
      slots: this.slotsOf(decision, candidates, cold, runtime, req.explain),
      ...(req.explain && scored.stored
        ? {
            storedFeatures: storedFeaturesShown(
              scored.stored,
              decision.slots.map((s) => s.itemId),
            ),
          }
        : {}),
      ...(req.explain && scored.history ? { history: scored.history } : {}),
    };
  }

  private slotsOf(
    decision: SlateDecision,
    candidates: BanditCandidate[],
    cold: boolean[],
    runtime: ExperimentRuntime,
    explain: boolean,
  ): RankedSlot[] {
    return decision.slots.map((s, j) => {
      const slot: RankedSlot = {
        position: s.position,
        itemId: s.itemId,
        score: finite(s.score),
        propensity: finite(s.propensity),
        explored: s.explored,
        coldStart: cold[j],
      };
      if (explain) {
        slot.explanation = {
          rankerScore: finite(candidates[s.index].rankerScore ?? null),
          posteriorMean: finite(s.mean),
          drawnScore: finite(s.score),
          standardDeviation: finite(s.sd),
          greedyItemId: s.greedyItemId,
          explored: s.explored,
          coldStart: cold[j],
          impressions: runtime.impressions.get(s.itemId) ?? 0,
          contributions: (s.explanation ?? []).slice(0, 5),
        };
      }
      return slot;
    });
  }

  /** The ranker version and the posterior's stored version: enough to tell which model answered. */
  private modelVersion(runtime: ExperimentRuntime, variantKey: string): string {
    const v = runtime.variants.get(variantKey);
    return `${runtime.settings.ranker.model}+${v?.spec.type ?? 'none'}${v?.model ? `:${v.model.type}@${v.storedVersion}` : ''}`;
  }

  /** Features resolved (request, else catalog), then the ranker's scores for every candidate in one batch. */
  private async score(
    runtime: ExperimentRuntime,
    req: RankRequest,
    storedFeatures: Promise<RankFeatureFill | null>,
  ): Promise<ScoredCandidates> {
    const names = runtime.featureNames();
    const errors: FieldError[] = [];
    // Stored features (feature store) named by the schema fill in under what the request or the catalog sends.
    const fill = await storedFeatures;
    const context = toVector(fill ? fill.mergeContext(req.context) : req.context, names.context, 'context', errors);
    const needCatalog =
      names.item.length > 0 ? req.candidates.filter((c) => c.features === undefined).map((c) => c.id) : [];
    const catalog = needCatalog.length
      ? await this.catalog.vectors(needCatalog, names.item)
      : new Map<string, CatalogFeatures>();
    const features = req.candidates.map((c, i) => {
      if (c.features !== undefined || names.item.length === 0)
        return toVector(
          fill ? fill.mergeItem(c.id, c.features) : c.features,
          names.item,
          `candidates[${i}].features`,
          errors,
        );
      const stored = catalog.get(c.id);
      if (!stored?.features) {
        errors.push({
          path: `candidates[${i}].features`,
          message: `missing: "${c.id}" is not in the catalog, so send its features`,
        });
        return new Float64Array(names.item.length);
      }
      // the cached vector is shared: everything downstream only reads candidate features
      return (
        stored.vector ??
        toVector(
          fill ? fill.mergeItem(c.id, stored.features) : stored.features,
          names.item,
          `candidates[${i}].features`,
          errors,
        )
      );
    });
    // A shown slot becomes an observation: values that would overflow the posterior's sums are refused before any write.
    tooLarge(context, names.context, Array.isArray(req.context) ? 'context' : 'context.', errors);
    features.forEach((f, i) =>
      tooLarge(
        f,
        names.item,
        `candidates[${i}].features${Array.isArray(req.candidates[i].features) ? '' : '.'}`,
        errors,
      ),
    );
    if (errors.length) throw Problem.validation(errors.slice(0, 50));
    const n = req.candidates.length;
    const scorer = await this.models.scorer(runtime.settings.ranker.model);
    const d = names.item.length;
    const items = new Float32Array(n * d);
    features.forEach((f, i) => items.set(f, i * d));
    const history = scorer.metadata.historyLength
      ? await this.historyInput(req, scorer.metadata.historyLength, names.item, features)
      : undefined;
    let result;
    try {
      result = await scorer.score(Float32Array.from(context), items, n, history?.matrix);
    } catch (err) {
      if (err instanceof RankerInputError)
        throw Problem.conflict(
          `The ranker ${runtime.settings.ranker.model} cannot score this experiment's features: ${err.message}`,
          'misconfigured',
        );
      throw err;
    }
    return {
      context,
      features,
      rankerScores: result.scores,
      embeddings: result.embeddings,
      embeddingDim: result.embeddingDim,
      stored: fill,
      ...(history ? { history: { itemIds: history.itemIds, features: history.rows } } : {}),
    };
  }

  /**
   * A sequence ranker's history input (feature store): the unit's last k interacted items, each described by its
   * features in this request (a candidate), else in the catalog; an item with neither is a zero row, like padding.
   */
  private async historyInput(
    req: RankRequest,
    k: number,
    itemNames: readonly string[],
    features: Float64Array[],
  ): Promise<{ itemIds: string[]; rows: number[][]; matrix: Float32Array }> {
    const itemIds = await this.features.history(req.unitId, k);
    const sent = new Map<string, Float64Array>(req.candidates.map((c, i) => [c.id, features[i]]));
    const others = itemIds.filter((id) => !sent.has(id));
    const catalog =
      others.length && itemNames.length
        ? await this.catalog.vectors(others, itemNames)
        : new Map<string, CatalogFeatures>();
    const vectorOf = (id: string) => sent.get(id) ?? catalog.get(id)?.vector ?? undefined;
    // Logged at full precision (as the decision's other features are); the model is fed float32.
    const rows = itemIds.map((id) => Array.from(vectorOf(id) ?? new Float64Array(itemNames.length)));
    return { itemIds, rows, matrix: historyMatrix(itemIds, k, itemNames.length, vectorOf) };
  }

  /**
   * The stored feature values the experiment's schema names, read at this moment (started before the assignment so
   * the two overlap). A failure surfaces where it is awaited (score); until then it is not an unhandled rejection.
   */
  private storedFeatures(runtime: ExperimentRuntime, req: RankRequest): Promise<RankFeatureFill | null> {
    const fill = this.features.forRank(
      runtime.featureNames(),
      req.unitId,
      req.candidates.map((c) => c.id),
      Date.now(),
    );
    fill.catch(() => undefined);
    return fill;
  }

  /** Not serving this unit (experiment not running, or the unit is outside it): the baseline order, never an error page. */
  private async baseline(
    runtime: ExperimentRuntime,
    req: RankRequest,
    k: number,
    reason: string,
    fill: Promise<RankFeatureFill | null>,
  ): Promise<RankResponse> {
    let order: number[];
    try {
      order = topN((await this.score(runtime, req, fill)).rankerScores, k);
    } catch {
      order = req.candidates.slice(0, k).map((_, i) => i);
    }
    return {
      decisionId: null,
      experiment: runtime.key,
      variant: null,
      modelVersion: runtime.settings.ranker.model,
      reason,
      slots: order.map((i, j) => ({
        position: j + 1,
        itemId: req.candidates[i].id,
        score: null,
        propensity: null,
        explored: false,
        coldStart: false,
      })),
    };
  }
}

function tooLarge(v: Float64Array, names: readonly string[], prefix: string, errors: FieldError[]): void {
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]) > MAX_FEATURE_MAGNITUDE) {
      errors.push({
        path: prefix.endsWith('.') ? `${prefix}${names[i]}` : `${prefix}[${i}]`,
        message: `${FEATURE_RANGE_MESSAGE} (larger values overflow the posterior statistics)`,
      });
    }
  }
}

/** `explain: true`: the stored feature values this decision used, by name (context, and the shown items'). */
function storedFeaturesShown(stored: RankFeatureFill, shown: string[]): NonNullable<RankResponse['storedFeatures']> {
  return {
    context: stored.context,
    items: Object.fromEntries(shown.filter((id) => stored.items.has(id)).map((id) => [id, stored.items.get(id)!])),
  };
}

function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
