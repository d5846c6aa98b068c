import { Injectable, Logger } from '@nestjs/common';
import { modelFromSnapshot, type BanditModel, type ModelSnapshot } from '@slotwise/bandit';
import { createHash, randomUUID } from 'node:crypto';
import { FieldError, Problem } from '../../common/http/problem';
import type { Principal } from '../../common/auth/access';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import type { PolicySpec } from '../experiments/experiment.schema';
import type { ExperimentSettings } from '../experiments/experiment.view';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { CatalogCache } from '../items/catalog-cache';
import { ModelsService } from '../models/models.service';
import { banditCandidate } from '../rank/candidates';
import { buildVariant, modelSpecFor } from '../rank/experiment-runtime';
import { toVector } from '../rank/feature-resolver';
import { RankEngine } from '../rank/rank-engine';
import { OpeAccumulator, type TargetKind } from './ope-evaluator';
import { LogFilter, NewImportedDecision, OpeRepository, type ShadowDecisionView } from './ope.repository';
import {
  MAX_IMPORT_CANDIDATES,
  OPE_ESTIMATORS,
  type ImportDecisionsInput,
  type OpeRequest,
  type OpeResult,
  type OpeRunView,
  type ShadowDecisionsQuery,
  type ShadowQuery,
} from './ope.schema';
import { ShadowService, type ShadowValue } from './shadow.service';

/** Most variants the report's cross-check evaluates (pairs grow quadratically). */
export const CROSS_CHECK_MAX_VARIANTS = 5;
/** Monte-Carlo draws per decision for Thompson targets in the cross-check. */
const CROSS_CHECK_DRAWS = 100;

export interface OffPolicyPair {
  target: string;
  logs: string;
  estimator: string;
  value: number;
  ci: { lower: number; upper: number; level: number };
  stdErr: number;
  n: number;
  effectiveSampleSize: number;
  warnings: string[];
  /** the target's own on-policy value (mean reward per slot on its own logs) and interval */
  onPolicy: { value: number; ci: { lower: number; upper: number; level: number } } | null;
  /** does the off-policy interval contain the on-policy value */
  covers: boolean | null;
  statement: string;
}

/** The report's `offPolicy` section. */
export interface OffPolicySection {
  estimator: 'dr';
  alpha: number;
  posterior: string;
  variants: Array<{
    variant: string;
    value: number;
    ci: { lower: number; upper: number; level: number };
    stdErr: number;
    n: number;
  }>;
  pairs: OffPolicyPair[];
  /** shadow variants (no traffic) evaluated on the served logs they decided beside */
  shadows: ShadowValue[];
  warnings: string[];
  /** when this section was computed and from which data (decisions, rewards, shadow rows): cached until it changes */
  computedAt: string;
  dataVersion: string;
}

/** Cross-check sections kept per (experiment definition, options, data version); the oldest goes first. */
const CROSS_CHECK_CACHE_SIZE = 64;

const fmt = (x: number): string => x.toPrecision(4);

/** Decisions read per page: memory stays bounded by the page, not the log. */
const PAGE = 500;
/** POST waits this long for the run: a short run answers 200 with its result, a longer one 202 with its job. */
export const OPE_SYNC_WAIT_MS = 2000;

interface PreparedTarget {
  kind: TargetKind;
  posterior: string;
  method: OpeResult['actionDistribution'];
}

@Injectable()
export class OpeService {
  private readonly logger = new Logger('OpeService');
  /** Runs in flight in this process (tests and shutdown can wait for them). */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly repo: OpeRepository,
    private readonly engine: RankEngine,
    private readonly models: ModelsService,
    private readonly catalog: CatalogCache,
    private readonly shadows: ShadowService,
  ) {}

  /** Computed cross-check sections by (experiment id, definition version, options, data version). */
  private readonly crossChecks = new Map<string, OffPolicySection>();
  /** How many cross-checks were computed (not served from the cache) since start. */
  crossCheckComputations = 0;

  /** `GET …/ope/shadows/{variant}/decisions`: the shadow's slates beside the served ones, newest first. */
  async shadowDecisions(
    key: string,
    variant: string,
    q: ShadowDecisionsQuery,
  ): Promise<{ decisions: ShadowDecisionView[]; nextBefore: string | null }> {
    const e = await this.ranking(key);
    if (!e.variants.some((v) => v.key === variant && v.shadow)) {
      throw Problem.notFound(
        `"${variant}" is not a shadow variant of "${key}" (shadows: ${
          e.variants
            .filter((v) => v.shadow)
            .map((v) => v.key)
            .join(', ') || 'none'
        }).`,
      );
    }
    const decisions = await this.repo.shadowDecisions(e.id, variant, q.before ?? null, q.limit);
    return { decisions, nextBefore: decisions.length === q.limit ? decisions[decisions.length - 1].at : null };
  }

  /** `GET …/ope/shadows`: each shadow variant's estimated value on the served logs, over time. */
  async shadowValues(
    key: string,
    q: ShadowQuery,
  ): Promise<{ experiment: string; alpha: number; shadows: ShadowValue[] }> {
    const e = await this.ranking(key);
    return {
      experiment: key,
      alpha: q.alpha,
      shadows: await this.shadows.values(e, { alpha: q.alpha, from: q.from ?? null, to: q.to ?? null, clip: q.clip }),
    };
  }

  /**
   * Starts an evaluation: validated up front (4xx with paths), stored as a run, executed in this process. Resolves
   * with the finished run when it takes under {@link OPE_SYNC_WAIT_MS}, else with the running job.
   */
  async start(key: string, req: OpeRequest, actor: Principal | null): Promise<{ done: boolean; run: OpeRunView }> {
    const e = await this.ranking(key);
    const filter = this.filterOf(e, req);
    const total = await this.repo.count(filter);
    if (total === 0)
      throw Problem.validation([
        {
          path: 'logs',
          message: `no logged decisions${req.logs.variant ? ` of variant "${req.logs.variant}"` : ''} in this window`,
        },
      ]);
    const target = await this.prepareTarget(e, req);
    const id = randomUUID();
    await this.repo.insertRun({ id, experimentId: e.id, request: req, createdBy: actor?.name ?? null });
    const job = this.execute(id, e, filter, total, target, req);
    this.running.set(id, job);
    void job.finally(() => this.running.delete(id));
    const done = await Promise.race([
      job.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), OPE_SYNC_WAIT_MS).unref()),
    ]);
    return { done, run: (await this.run(key, id))! };
  }

  /** Evaluates synchronously (no stored run): the report's cross-check uses it. */
  async evaluate(e: ExperimentEntity, req: OpeRequest): Promise<OpeResult> {
    const filter = this.filterOf(e, req);
    const target = await this.prepareTarget(e, req);
    return this.compute(e, filter, target, req, async () => undefined);
  }

  async run(key: string, id: string): Promise<OpeRunView | null> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    const row = await this.repo.run(e.id, id);
    return row ? { ...row, experiment: key } : null;
  }

  async runs(key: string): Promise<{ runs: OpeRunView[] }> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    return { runs: (await this.repo.runs(e.id, 100)).map((r) => ({ ...r, experiment: key })) };
  }

  /** Resolves when every run started in this process has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  private async execute(
    id: string,
    e: ExperimentEntity,
    filter: LogFilter,
    total: number,
    target: PreparedTarget,
    req: OpeRequest,
  ): Promise<void> {
    try {
      const result = await this.compute(e, filter, target, req, (done) =>
        this.repo.progress(id, Math.min(0.99, done / total)),
      );
      await this.repo.finish(id, { result });
    } catch (err) {
      const error =
        err instanceof Problem
          ? { detail: err.detail, errors: err.errors }
          : err instanceof RangeError
            ? { detail: err.message }
            : { detail: 'the evaluation failed' };
      if (!(err instanceof Problem) && !(err instanceof RangeError))
        this.logger.error(`OPE run ${id} failed: ${(err as Error).stack ?? String(err)}`);
      await this.repo.finish(id, { error }).catch(() => undefined);
    }
  }

  private async compute(
    e: ExperimentEntity,
    filter: LogFilter,
    target: PreparedTarget,
    req: OpeRequest,
    progress: (done: number) => Promise<void>,
  ): Promise<OpeResult> {
    const settings = e.settings as unknown as ExperimentSettings;
    const acc = new OpeAccumulator(target.kind, e.slots ?? 1, settings.features.context.length, req.seed);
    let after = '0';
    for (;;) {
      const page = await this.repo.page(filter, after, PAGE);
      for (const d of page) await acc.add(d);
      if (page.length < PAGE) break;
      after = page[page.length - 1].seq;
      await progress(acc.decisions);
    }
    if (acc.rounds === 0)
      throw Problem.validation([
        { path: 'logs', message: 'the logged decisions in this window have no slots with a propensity' },
      ]);
    const result = acc.evaluate({ estimators: req.estimators ?? OPE_ESTIMATORS, alpha: req.alpha, clip: req.clip });
    return { ...result, posterior: target.posterior, actionDistribution: target.method };
  }

  /**
   * The report's cross-check: each variant's policy evaluated (DR; SNIPS when no reward model could be fitted) on
   * every other variant's logs, next to its own on-policy value. The target is replayed as it was: a variant with a
   * posterior starts from its prior and learns, in log order, from its own logged slots and their rewards, so each
   * evaluated decision sees the posterior the variant had then — the same changing policy that produced its
   * randomized A/B value. At most {@link CROSS_CHECK_MAX_VARIANTS} variants.
   */
  async crossCheck(
    e: ExperimentEntity,
    options: { alpha: number; from: string | null; to: string | null },
  ): Promise<OffPolicySection> {
    // The section is a deterministic function of the definition, the options and the logged data (replays from the
    // prior, seeded draws): an unchanged log answers from the cache; a new decision, reward or shadow row recomputes.
    const dataVersion = await this.repo.dataVersion(e.id);
    const cacheKey = JSON.stringify([e.id, e.version, options.alpha, options.from, options.to, dataVersion]);
    const cached = this.crossChecks.get(cacheKey);
    if (cached) return cached;
    const section = await this.computeCrossCheck(e, options, dataVersion);
    this.crossCheckComputations++;
    this.crossChecks.set(cacheKey, section);
    if (this.crossChecks.size > CROSS_CHECK_CACHE_SIZE) this.crossChecks.delete(this.crossChecks.keys().next().value!);
    return section;
  }

  private async computeCrossCheck(
    e: ExperimentEntity,
    options: { alpha: number; from: string | null; to: string | null },
    dataVersion: string,
  ): Promise<OffPolicySection> {
    const settings = e.settings as unknown as ExperimentSettings;
    // shadow variants have no logs of their own: they are evaluated on the served logs (`shadows`)
    const variants = e.variants.filter((v) => v.policy && !v.shadow);
    const section: OffPolicySection = {
      estimator: 'dr',
      alpha: options.alpha,
      posterior:
        "each variant's posterior replayed from its prior through its own logged slots and rewards, in log order (time-matched)",
      variants: [],
      pairs: [],
      shadows: await this.shadows.values(e, options),
      warnings: [],
      computedAt: new Date().toISOString(),
      dataVersion,
    };
    if (variants.length < 2) return section;
    if (variants.length > CROSS_CHECK_MAX_VARIANTS) {
      section.warnings.push(`Not computed: more than ${CROSS_CHECK_MAX_VARIANTS} variants (use POST /ope per pair).`);
      return section;
    }
    const ranker = settings.ranker.model === 'none' ? null : await this.models.describe(settings.ranker.model);
    const dims = {
      contextDim: settings.features.context.length,
      itemDim: settings.features.item.length,
      embeddingDim: ranker?.embeddingDim ?? null,
    };
    const onPolicy = new Map<string, OffPolicySection['variants'][number]>();
    for (const target of variants) {
      for (const logs of variants) {
        if (logs.key === target.key) continue;
        const spec = target.policy as PolicySpec;
        let model: BanditModel | null;
        try {
          model = buildVariant(target.key, spec, modelSpecFor(spec, dims), null).model;
        } catch (err) {
          section.warnings.push(`${target.key}: ${(err as Error).message}`);
          break;
        }
        const kind: TargetKind =
          spec.type === 'thompson'
            ? { type: 'thompson', model: model!, draws: CROSS_CHECK_DRAWS }
            : spec.type === 'epsilon-greedy'
              ? { type: 'epsilon-greedy', epsilon: spec.epsilon, model: model! }
              : { type: spec.type };
        const acc = new OpeAccumulator(kind, e.slots ?? 1, dims.contextDim, 1);
        const filter: LogFilter = {
          experimentId: e.id,
          variantKeys: [target.key, logs.key],
          from: options.from,
          to: options.to,
        };
        let after = '0';
        for (;;) {
          const page = await this.repo.page(filter, after, PAGE);
          for (const d of page) {
            if (d.variantKey === logs.key) await acc.add(d);
            else if (model)
              for (const s of d.slots)
                model.observe(d.context, banditCandidate(d.shortlist, s.shortlistIndex), s.reward, s.position - 1);
          }
          if (page.length < PAGE) break;
          after = page[page.length - 1].seq;
        }
        if (acc.rounds < 2) continue;
        if (!onPolicy.has(logs.key)) onPolicy.set(logs.key, { variant: logs.key, ...acc.onPolicy(options.alpha) });
        const r = acc.evaluate({ estimators: ['dr', 'snips'], alpha: options.alpha });
        const est = r.estimates.find((x) => x.estimator === 'dr') ?? r.estimates.find((x) => x.estimator === 'snips')!;
        section.pairs.push({
          target: target.key,
          logs: logs.key,
          estimator: est.estimator,
          value: est.value,
          ci: est.ci,
          stdErr: est.stdErr,
          n: r.n,
          effectiveSampleSize: r.effectiveSampleSize,
          warnings: r.warnings,
          onPolicy: null,
          covers: null,
          statement: '',
        });
      }
    }
    section.variants = [...onPolicy.values()];
    for (const p of section.pairs) {
      const own = onPolicy.get(p.target) ?? null;
      p.onPolicy = own ? { value: own.value, ci: own.ci } : null;
      if (!own) {
        p.statement = `No on-policy value for "${p.target}" (it has no logged slots in this window) to compare with.`;
        continue;
      }
      p.covers = p.ci.lower <= own.value && own.value <= p.ci.upper;
      const est = `${p.estimator.toUpperCase()} estimate of "${p.target}" on "${p.logs}"'s logs is ${fmt(p.value)} (${Math.round(p.ci.level * 100)}% CI ${fmt(p.ci.lower)} to ${fmt(p.ci.upper)})`;
      p.statement = p.covers
        ? `Agrees with the A/B result: the ${est} and covers "${p.target}"'s own on-policy value ${fmt(own.value)}.`
        : `Disagrees with the A/B result: the ${est} and misses "${p.target}"'s own on-policy value ${fmt(own.value)}.`;
    }
    return section;
  }

  private async ranking(key: string): Promise<ExperimentEntity> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    if (e.kind !== 'ranking')
      throw Problem.badRequest(
        `Experiment "${key}" is an A/B experiment; off-policy evaluation needs logged ranking decisions.`,
        [{ path: 'experiment', message: 'is not a ranking experiment' }],
      );
    return e;
  }

  private filterOf(e: ExperimentEntity, req: OpeRequest): LogFilter {
    if (req.logs.variant !== undefined && !e.variants.some((v) => v.key === req.logs.variant)) {
      throw Problem.validation([
        {
          path: 'logs.variant',
          message: `"${req.logs.variant}" is not a variant of ${e.key} (${e.variants.map((v) => v.key).join(', ')})`,
        },
      ]);
    }
    return {
      experimentId: e.id,
      variantKeys: req.logs.variant === undefined ? null : [req.logs.variant],
      from: req.logs.from ?? null,
      to: req.logs.to ?? null,
    };
  }

  /**
   * The target's action-distribution source. Posterior (documented in the response's `posterior`): `{variant}` →
   * that variant's current posterior as this replica holds it (one fixed snapshot for the whole log); a policy
   * spec → its model's prior (nothing learned); ranker and random need none.
   */
  private async prepareTarget(e: ExperimentEntity, req: OpeRequest): Promise<PreparedTarget> {
    const p = req.policy;
    const settings = e.settings as unknown as ExperimentSettings;
    const exact = { method: 'exact' as const, draws: 0 };
    if ('ranker' in p) {
      const m = await this.models.describe(p.ranker);
      if (!m) throw Problem.validation([{ path: 'policy.ranker', message: `no uploaded model ${p.ranker}` }]);
      const errors: FieldError[] = [];
      if (m.contextDim !== null && m.contextDim !== settings.features.context.length)
        errors.push({
          path: 'policy.ranker',
          message: `takes ${m.contextDim} context features; this experiment's schema has ${settings.features.context.length}`,
        });
      if (m.itemDim !== null && m.itemDim !== settings.features.item.length)
        errors.push({
          path: 'policy.ranker',
          message: `takes ${m.itemDim} item features; this experiment's schema has ${settings.features.item.length}`,
        });
      if (errors.length) throw Problem.validation(errors);
      const scorer = await this.models.scorer(p.ranker);
      const d = settings.features.item.length;
      return {
        kind: {
          type: 'ranker',
          scores: async (row) => {
            const n = row.shortlist.ids.length;
            const items = new Float32Array(n * d);
            row.shortlist.features.forEach((f, i) => items.set(f, i * d));
            return (await scorer.score(Float32Array.from(row.context), items, n)).scores;
          },
        },
        posterior: `none (ranker ${p.ranker}, greedy by its scores)`,
        method: exact,
      };
    }
    let spec: PolicySpec;
    let model: BanditModel | null;
    let posterior: string;
    if ('variant' in p) {
      const v = e.variants.find((x) => x.key === p.variant);
      if (!v)
        throw Problem.validation([
          {
            path: 'policy.variant',
            message: `"${p.variant}" is not a variant of ${e.key} (${e.variants.map((x) => x.key).join(', ')})`,
          },
        ]);
      spec = v.policy as PolicySpec;
      const runtime = await this.engine.runtime(e.key);
      const live = runtime.variants.get(v.key)?.model ?? null;
      // A copy: evaluation must not see (or race with) the serving posterior's later updates.
      model = live ? modelFromSnapshot(live.snapshot() as ModelSnapshot) : null;
      posterior = live
        ? `variant "${v.key}": its current posterior (stored version ${runtime.variants.get(v.key)!.storedVersion} plus this replica's pending updates), fixed for the whole log`
        : 'none';
    } else {
      spec = p;
      const ranker = settings.ranker.model === 'none' ? null : await this.models.describe(settings.ranker.model);
      let modelSpec;
      try {
        modelSpec = modelSpecFor(spec, {
          contextDim: settings.features.context.length,
          itemDim: settings.features.item.length,
          embeddingDim: ranker?.embeddingDim ?? null,
        });
      } catch (err) {
        throw Problem.validation([{ path: 'policy.model', message: (err as Error).message }]);
      }
      model = buildVariant('target', spec, modelSpec, null).model;
      posterior = model ? `the prior of a fresh ${model.type} model (nothing learned)` : 'none';
    }
    switch (spec.type) {
      case 'ranker':
        return { kind: { type: 'ranker' }, posterior: 'none (greedy by the logged ranker scores)', method: exact };
      case 'random':
        return { kind: { type: 'random' }, posterior: 'none (uniform over the shortlist)', method: exact };
      case 'epsilon-greedy':
        return { kind: { type: 'epsilon-greedy', epsilon: spec.epsilon, model: model! }, posterior, method: exact };
      case 'thompson':
        return {
          kind: { type: 'thompson', model: model!, draws: req.draws },
          posterior,
          method: { method: 'monte-carlo', draws: req.draws },
        };
    }
  }

  /**
   * Imports decisions logged by another system into an `assignment: "external"` ranking experiment. Validated as a
   * whole (every error with its path, nothing stored on error); idempotent by decision id (a decision imported
   * again is counted as a duplicate and changes nothing).
   */
  async importDecisions(
    key: string,
    body: ImportDecisionsInput,
  ): Promise<{ received: number; imported: number; duplicates: number }> {
    const e = await this.ranking(key);
    if (e.assignment !== 'external')
      throw Problem.conflict(
        `Experiment "${key}" is assigned by Slotwise; its decisions are logged by /v1/rank. Import needs assignment "external".`,
        'not-external',
      );
    const settings = e.settings as unknown as ExperimentSettings;
    const names = settings.features;
    const variants = new Set(e.variants.map((v) => v.key));
    const shadows = new Set(e.variants.filter((v) => v.shadow).map((v) => v.key));
    const slots = e.slots ?? 1;
    const seen = new Set<string>();
    const errors: FieldError[] = [];
    // Decisions that name no candidates chose from the catalog as it was at their time (items created no later).
    const catalogTimes = await this.catalogAt(body.decisions.filter((d) => !d.candidates).map((d) => d.timestamp));
    const candidatesOf = (
      d: ImportDecisionsInput['decisions'][number],
      at: string,
    ): NonNullable<ImportDecisionsInput['decisions'][number]['candidates']> => {
      if (d.candidates) return d.candidates;
      const t = Date.parse(d.timestamp);
      const items = catalogTimes.items.filter((c) => Date.parse(c.createdAt) <= t);
      if (catalogTimes.truncated && items.length === catalogTimes.items.length) {
        errors.push({
          path: `${at}.candidates`,
          message: `required: the catalog at ${d.timestamp} has more than ${MAX_IMPORT_CANDIDATES} items; send the decision's candidates`,
        });
        return [];
      }
      if (!items.length)
        errors.push({
          path: `${at}.candidates`,
          message: `required: the catalog was empty at ${d.timestamp}; send the decision's candidates`,
        });
      return items.map((c) => ({ id: c.id }));
    };
    const candidateLists = body.decisions.map((d, i) => candidatesOf(d, `decisions[${i}]`));
    const needCatalog = names.item.length
      ? [...new Set(candidateLists.flatMap((list) => list.filter((c) => c.features === undefined).map((c) => c.id)))]
      : [];
    const catalog = needCatalog.length ? await this.catalog.vectors(needCatalog, names.item) : new Map();
    const rows: NewImportedDecision[] = body.decisions.map((d, i) => {
      const at = `decisions[${i}]`;
      const candidates = candidateLists[i];
      if (seen.has(d.decisionId))
        errors.push({ path: `${at}.decisionId`, message: `"${d.decisionId}" appears twice in this request` });
      seen.add(d.decisionId);
      if (!variants.has(d.variant))
        errors.push({
          path: `${at}.variant`,
          message: `"${d.variant}" is not a variant of ${key} (${[...variants].join(', ')})`,
        });
      else if (shadows.has(d.variant))
        errors.push({ path: `${at}.variant`, message: `"${d.variant}" is a shadow variant: it serves no decisions` });
      const context = toVector(d.context, names.context, `${at}.context`, errors);
      const index = new Map<string, number>();
      const features = candidates.map((c, j) => {
        if (index.has(c.id))
          errors.push({ path: `${at}.candidates[${j}].id`, message: `duplicate candidate "${c.id}"` });
        index.set(c.id, j);
        if (c.features !== undefined || names.item.length === 0)
          return Array.from(toVector(c.features, names.item, `${at}.candidates[${j}].features`, errors));
        const stored = catalog.get(c.id)?.vector;
        if (!stored)
          errors.push({
            path: `${at}.candidates[${j}].features`,
            message: `missing: "${c.id}" is not in the catalog (or lacks a schema feature), so send its features`,
          });
        return stored ? Array.from(stored as ArrayLike<number>) : new Array<number>(names.item.length).fill(0);
      });
      const positions = new Set<number>();
      const shown = new Set<string>();
      const slotRows = d.slots.map((s, j) => {
        if (positions.has(s.position))
          errors.push({
            path: `${at}.slots[${j}].position`,
            message: `position ${s.position} appears twice in this decision`,
          });
        positions.add(s.position);
        if (s.position > slots)
          errors.push({ path: `${at}.slots[${j}].position`, message: `the experiment has ${slots} slots` });
        if (shown.has(s.itemId))
          errors.push({ path: `${at}.slots[${j}].itemId`, message: `"${s.itemId}" is shown twice in this decision` });
        shown.add(s.itemId);
        const shortlistIndex = index.get(s.itemId);
        if (shortlistIndex === undefined && candidates.length) {
          errors.push({
            path: `${at}.slots[${j}].itemId`,
            message: d.candidates
              ? `"${s.itemId}" is not among the decision's candidates`
              : `"${s.itemId}" was not in the catalog at ${d.timestamp}`,
          });
        }
        return {
          position: s.position,
          itemId: s.itemId,
          shortlistIndex: shortlistIndex ?? 0,
          propensity: s.propensity,
          reward: s.reward,
        };
      });
      return {
        id: importedDecisionUuid(e.id, d.decisionId),
        externalId: d.decisionId,
        experimentId: e.id,
        variantKey: d.variant,
        unitId: d.unitId ?? null,
        createdAt: d.timestamp,
        context: Array.from(context),
        shortlist: {
          ids: candidates.map((c) => c.id),
          rankerScores: candidates.map((c) => c.rankerScore ?? (null as unknown as number)),
          features,
        },
        slots: slotRows,
      };
    });
    if (errors.length) {
      // in request order (the catalog's errors were found before the per-decision checks); sort is stable
      const index = (e: FieldError) => Number(/^decisions\[(\d+)\]/.exec(e.path)?.[1] ?? 0);
      throw Problem.validation(errors.sort((a, b) => index(a) - index(b)).slice(0, 100));
    }
    const inserted = await this.repo.insertImported(rows);
    return { received: rows.length, imported: inserted.length, duplicates: rows.length - inserted.length };
  }

  /** The catalog items created up to the latest of `times`, oldest first; `truncated` when there were more than the cap. */
  private async catalogAt(
    times: string[],
  ): Promise<{ items: Array<{ id: string; createdAt: string }>; truncated: boolean }> {
    if (!times.length) return { items: [], truncated: false };
    const latest = times.reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
    const items = await this.repo.catalogAt(latest, MAX_IMPORT_CANDIDATES + 1);
    return items.length > MAX_IMPORT_CANDIDATES
      ? { items: items.slice(0, MAX_IMPORT_CANDIDATES), truncated: true }
      : { items, truncated: false };
  }
}

/** A stable UUID for (experiment, external decision id): the primary key makes re-imports no-ops (RFC 4122 §4.3 layout over SHA-1). */
export function importedDecisionUuid(experimentId: string, decisionId: string): string {
  const h = createHash('sha1').update(`${experimentId}\u0000${decisionId}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
