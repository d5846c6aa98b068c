import { Injectable } from '@nestjs/common';
import {
  adjustPValues,
  DecisionResult,
  GuardrailComparison,
  guardrailBreached,
  Interval,
  MetricDirection,
  minimumDetectableEffect,
  normalQuantile,
  recommendDecision,
  sampleRatioMismatch,
  sampleSizePerArm,
} from '@slotwise/stats';
import { Problem } from '../../common/http/problem';
import { stableStringify } from '../../common/stable-json';
import type { ExperimentEntity } from '../../database/entities/experiment.entity';
import { MetricDefinitionsRepository } from '../ab/metric-definitions.repository';
import { defaultMetricSpec, metricSpecOf, MetricSpec, MetricValuesRepository } from '../ab/metric-values.repository';
import type { ExperimentSettings } from '../experiments/experiment.view';
import { ExperimentsRepository } from '../experiments/experiments.repository';
import { ExplorationService } from '../rank/exploration.service';
import { OpeService } from '../ope/ope.service';
import {
  compare,
  ComparisonResult,
  emptyAggregate,
  markSignificance,
  MetricShape,
  variantStats,
  VariantStats,
} from './report-stats';
import type {
  PowerResultBody,
  RecommendationBody,
  ReportBody,
  SeriesStepBody,
  TimeseriesBody,
} from '@slotwise/contracts';
import { PowerInput, ReportOptionsQuery, TimeseriesQuery } from './reports.schema';
import { MomentAggregate, Population, ReportsRepository, SeriesPoint, UnitsScope } from './reports.repository';

/** Built-in metrics of ranking experiments. */
export const REWARD = 'reward';
export const REWARD_RATE = 'reward_rate';
/** Non-inferiority margin of a guardrail whose metric definition has none (relative: 1 %). */
export const DEFAULT_GUARDRAIL_MARGIN = 0.01;
/** Units seen in several variants above this fraction make the experiment unhealthy. */
export const MAX_MULTIPLE_EXPOSURE_FRACTION = 0.01;
/** Cached reports of running experiments are served while younger than this, and recomputed on this schedule. */
export const REPORT_REFRESH_MS = 300_000;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** At most this many time-series buckets. */
const MAX_SERIES_DAYS = 400;
/** `bucket=auto`: minute buckets for a span up to 6 hours (≤ 360 points), hour buckets up to 7 days (≤ 168), then days. */
const AUTO_MINUTE_SPAN_MS = 6 * HOUR_MS;
const AUTO_HOUR_SPAN_MS = 7 * DAY_MS;
export type Bucket = 'minute' | 'hour' | 'day';
const BUCKET_MS: Record<Bucket, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
/** The traffic rate is measured over at least this span (a burst of exposures in one instant has no rate). */
const MIN_TRAFFIC_SPAN_MS = HOUR_MS;
/** Items in the time series' per-day `selectionShare` (the most shown over the series). */
export const SELECTION_SHARE_ITEMS = 10;

export interface ReportOptions {
  metrics: string[] | null;
  alpha: number;
  cuped: boolean;
  /** null: automatic basis (always-valid while running and short of plan, see recommendationBasis) */
  sequential: boolean | null;
  plannedUnits: number | null;
  plannedEnd: string | null;
  tuningN: number;
  correction: 'holm' | 'bh' | 'none';
  phase: number | null;
  segment: { attribute: string; value: string } | null;
  baseline: string | null;
  mde: number;
  power: number;
  from: string | null;
  to: string | null;
}

export function normalizeOptions(q: Partial<ReportOptionsQuery>): ReportOptions {
  return {
    metrics: q.metrics ?? null,
    alpha: q.alpha ?? 0.05,
    cuped: q.cuped ?? false,
    sequential: q.sequential ?? null,
    plannedUnits: q.plannedUnits ?? null,
    plannedEnd: q.plannedEnd ? new Date(q.plannedEnd).toISOString() : null,
    tuningN: q.tuningN ?? 5000,
    correction: q.correction ?? 'holm',
    phase: q.phase ?? null,
    segment: q.segment ?? null,
    baseline: q.baseline ?? null,
    mde: q.mde ?? 0.05,
    power: q.power ?? 0.8,
    from: q.from ? new Date(q.from).toISOString() : null,
    to: q.to ? new Date(q.to).toISOString() : null,
  };
}

interface MetricPlan {
  key: string;
  role: 'primary' | 'guardrail' | 'secondary' | 'requested';
  source: 'events' | 'reward' | 'reward_rate';
  spec: MetricSpec | null;
  type: string;
  shape: MetricShape;
  direction: MetricDirection;
  guardrailMargin: number | null;
}

interface Context {
  e: ExperimentEntity;
  variants: string[];
  baseline: string;
  phase: number;
  weights: Record<string, number>;
  phaseEnd: Date | null;
  scope: UnitsScope;
  plans: MetricPlan[];
}

export interface MetricReport {
  metric: string;
  role: MetricPlan['role'];
  type: string;
  direction: MetricDirection;
  guardrailMargin?: number;
  variants: VariantStats[];
  comparisons: ComparisonResult[];
}

/** See ReportsService.evaluation. Intervals in metric units (difference treatment − baseline). */
export interface AutomationEvaluation {
  phase: number;
  generatedAt: string;
  srm: { flagged: boolean; pValue: number | null; observed: Record<string, number>; expected: Record<string, number> };
  guardrailBreaches: Array<{
    variant: string;
    metric: string;
    estimate: number | null;
    ci: Interval;
    nonInferiorityMargin: number;
    direction: MetricDirection;
  }>;
  primarySignificant: Array<{
    variant: string;
    metric: string;
    estimate: number | null;
    ci: Interval;
    pValue: number | null;
  }>;
}

/**
 * The guardrail comparisons of treatment `variant` against `baseline` as the recommendation judges them.
 * Always-valid: the mSPRT interval of the difference against the relative margin in metric units,
 * margin·|baseline mean| (sign-correct for negative baselines; no interval when the baseline mean is 0).
 * Fixed-horizon: the relative interval ((t − c)/|c|, sign-correct) against the relative margin.
 */
function guardrailComparisons(
  guardrails: MetricReport[],
  baseline: string,
  variant: string,
  sequential: boolean,
): GuardrailComparison[] {
  return guardrails.map((g) => {
    const gc = g.comparisons.find((x) => x.variant === variant);
    const margin = g.guardrailMargin ?? DEFAULT_GUARDRAIL_MARGIN;
    if (sequential) {
      const gb = g.variants.find((v) => v.variant === baseline)?.mean;
      const scale = gb ? Math.abs(gb) : null;
      return {
        metric: g.metric,
        estimate: gc?.absoluteLift ?? null,
        ci: scale ? (gc?.sequential.ci ?? null) : null,
        direction: g.direction,
        nonInferiorityMargin: scale ? margin * scale : margin,
      };
    }
    return {
      metric: g.metric,
      estimate: gc?.relativeLift ?? null,
      ci: gc?.relativeCi ?? null,
      direction: g.direction,
      nonInferiorityMargin: margin,
    };
  });
}

@Injectable()
export class ReportsService {
  constructor(
    private readonly experiments: ExperimentsRepository,
    private readonly exploration: ExplorationService,
    private readonly metricValues: MetricValuesRepository,
    private readonly metricDefinitions: MetricDefinitionsRepository,
    private readonly repo: ReportsRepository,
    private readonly ope: OpeService,
  ) {}

  private async experiment(key: string): Promise<ExperimentEntity> {
    const e = await this.experiments.findByKey(key);
    if (!e) throw Problem.notFound(`No experiment with key "${key}".`);
    return e;
  }

  /**
   * The report. Running experiments are served from the cache while it is younger than the refresh interval
   * (recomputed on the schedule and on `refresh`); the others are computed on each call.
   */
  async report(key: string, query: Partial<ReportOptionsQuery>): Promise<ReportBody> {
    const e = await this.experiment(key);
    const opts = normalizeOptions(query);
    if (e.status !== 'running') return this.compute(e, opts);
    const optionsKey = stableStringify(opts);
    const hit = await this.repo.cached(e.id, optionsKey);
    if (hit && Date.now() - hit.generatedAt.getTime() < REPORT_REFRESH_MS) return hit.report as ReportBody; // stored by computeAndStore
    return this.computeAndStore(e, opts);
  }

  /** Recompute now (and store when the experiment is running). */
  async refresh(key: string, query: Partial<ReportOptionsQuery>): Promise<ReportBody> {
    const e = await this.experiment(key);
    const opts = normalizeOptions(query);
    return e.status === 'running' ? this.computeAndStore(e, opts) : this.compute(e, opts);
  }

  /** The schedule's work for one cached entry. */
  async recompute(key: string, options: ReportOptions): Promise<void> {
    const e = await this.experiments.findByKey(key);
    if (e && e.status === 'running') await this.computeAndStore(e, options);
  }

  private async computeAndStore(e: ExperimentEntity, opts: ReportOptions): Promise<ReportBody> {
    const started = performance.now();
    const report = await this.compute(e, opts);
    const ms = performance.now() - started;
    report.cache = {
      cachedAt: report.generatedAt,
      refreshSeconds: REPORT_REFRESH_MS / 1000,
      computeMs: Math.round(ms * 10) / 10,
    };
    await this.repo.store(e.id, stableStringify(opts), opts, report, new Date(String(report.generatedAt)), ms);
    return report;
  }

  // ---- the statistics ---------------------------------------------------------------------------------------

  private async context(e: ExperimentEntity, opts: ReportOptions, metricsOverride?: string[] | null): Promise<Context> {
    // Shadow variants take no traffic: no units, no comparison, no SRM share (their value is in offPolicy.shadows).
    const variants = [...e.variants]
      .filter((v) => !v.shadow)
      .sort((a, b) => a.position - b.position)
      .map((v) => v.key);
    const baseline = opts.baseline ?? variants[0];
    if (!variants.includes(baseline))
      throw Problem.validation([
        { path: 'query.baseline', message: `"${baseline}" is not a variant of "${e.key}" (${variants.join(', ')})` },
      ]);
    const phases = await this.repo.phases(e.id);
    const current = phases.length ? phases[phases.length - 1].phase : 1;
    const phase = opts.phase ?? current;
    if (phase > current)
      throw Problem.validation([
        {
          path: 'query.phase',
          message: `experiment "${e.key}" has ${current === 1 ? 'one phase' : `phases 1–${current}`}`,
        },
      ]);
    const row = phases.find((p) => p.phase === phase);
    const weights =
      row?.weights ?? Object.fromEntries(e.variants.filter((v) => !v.shadow).map((v) => [v.key, v.weight]));
    const scope: UnitsScope = {
      experimentId: e.id,
      phase,
      decisionsFallback: e.kind === 'ranking',
      ...(opts.from ? { from: new Date(opts.from) } : {}),
      ...(opts.to ? { to: new Date(opts.to) } : {}),
      ...(opts.segment ? { segment: opts.segment } : {}),
    };
    const plans = await this.plans(e, metricsOverride === undefined ? opts.metrics : metricsOverride);
    return { e, variants, baseline, phase, weights, phaseEnd: row?.endedAt ?? null, scope, plans };
  }

  private async plans(e: ExperimentEntity, requested: string[] | null): Promise<MetricPlan[]> {
    const m = (e.settings as unknown as ExperimentSettings).metrics ?? { guardrails: [], secondary: [] };
    const role = new Map<string, MetricPlan['role']>();
    if (m.primary) role.set(m.primary, 'primary');
    for (const g of m.guardrails ?? []) if (!role.has(g)) role.set(g, 'guardrail');
    for (const s of m.secondary ?? []) if (!role.has(s)) role.set(s, 'secondary');
    let keys: string[];
    if (requested) {
      keys = [...new Set(requested)];
    } else {
      keys = [...role.keys()];
      if (e.kind === 'ranking') for (const k of [REWARD, REWARD_RATE]) if (!keys.includes(k)) keys.push(k);
    }
    const plans: MetricPlan[] = [];
    for (const [i, key] of keys.entries()) {
      const r = role.get(key) ?? 'requested';
      if (key === REWARD || key === REWARD_RATE) {
        if (e.kind !== 'ranking') {
          throw Problem.validation([
            {
              path: requested ? `query.metrics[${i}]` : 'metrics',
              message: `"${key}" is a built-in metric of ranking experiments; "${e.key}" is an "${e.kind}" experiment`,
            },
          ]);
        }
        plans.push({
          key,
          role: r,
          source: key,
          spec: null,
          type: key === REWARD ? 'sum' : 'ratio',
          shape: key === REWARD ? 'plain' : 'ratio',
          direction: 'higher-is-better',
          guardrailMargin: null,
        });
        continue;
      }
      const def = await this.metricDefinitions.findByKey(key);
      const spec = def ? metricSpecOf(def) : defaultMetricSpec(key);
      plans.push({
        key,
        role: r,
        source: 'events',
        spec,
        type: spec.type,
        shape: spec.type === 'ratio' || spec.type === 'mean' ? 'ratio' : 'plain',
        direction: def?.direction === 'decrease' ? 'lower-is-better' : 'higher-is-better',
        guardrailMargin: def?.guardrailMargin ?? null,
      });
    }
    return plans;
  }

  private aggregate(ctx: Context, plan: MetricPlan, cuped: boolean): Promise<MomentAggregate[]> {
    if (plan.source === 'events') {
      return this.metricValues.aggregate({
        moments: true,
        experimentId: ctx.e.id,
        phase: ctx.phase,
        metric: plan.spec!,
        ...(ctx.scope.from ? { from: ctx.scope.from } : {}),
        ...(ctx.scope.to ? { to: ctx.scope.to } : {}),
        ...(ctx.scope.segment ? { segment: ctx.scope.segment } : {}),
        cuped: cuped && plan.shape === 'plain',
      }) as Promise<MomentAggregate[]>;
    }
    return this.repo.rewardAggregate(ctx.scope).then((rows) =>
      plan.source === REWARD
        ? rows.map(({ variant, units, sum, sumSquares, moments }) => ({
            variant,
            units,
            sum,
            sumSquares,
            moments: { meanY: moments.meanY, varianceY: moments.varianceY },
          }))
        : rows,
    );
  }

  private analysisEnd(ctx: Context): Date {
    const ends = [Date.now()];
    if (ctx.phaseEnd) ends.push(ctx.phaseEnd.getTime());
    if (ctx.e.stoppedAt) ends.push(new Date(ctx.e.stoppedAt).getTime());
    if (ctx.scope.to) ends.push(ctx.scope.to.getTime());
    return new Date(Math.min(...ends));
  }

  async compute(e: ExperimentEntity, opts: ReportOptions): Promise<ReportBody> {
    const generatedAt = new Date().toISOString();
    const ctx = await this.context(e, opts);
    const [population, aggregates, exploration, offPolicy] = await Promise.all([
      this.repo.population(e.id, ctx.phase, e.kind === 'ranking'),
      Promise.all(ctx.plans.map((p) => this.aggregate(ctx, p, opts.cuped))),
      this.exploration.section(e.key, ctx.scope.from ?? null, ctx.scope.to ?? null),
      this.offPolicy(e, opts),
    ]);

    const metrics: MetricReport[] = ctx.plans.map((plan, i) => {
      const byVariant = new Map(aggregates[i].map((a) => [a.variant, a]));
      const aggOf = (v: string) => byVariant.get(v) ?? emptyAggregate(v, plan.shape);
      const variants = ctx.variants.map((v) => variantStats(aggOf(v), plan.shape));
      const comparisons = ctx.variants
        .filter((v) => v !== ctx.baseline)
        .map((v) =>
          compare(aggOf(ctx.baseline), aggOf(v), plan.shape, {
            alpha: opts.alpha,
            tuningN: opts.tuningN,
            direction: plan.direction,
            cuped: opts.cuped,
          }),
        );
      return {
        metric: plan.key,
        role: plan.role,
        type: plan.type,
        direction: plan.direction,
        ...(plan.role === 'guardrail' ? { guardrailMargin: plan.guardrailMargin ?? DEFAULT_GUARDRAIL_MARGIN } : {}),
        variants,
        comparisons,
      };
    });

    // Multiple testing across every metric and variant (each scale its own family of the same comparisons).
    const all = metrics.flatMap((m) => m.comparisons);
    const adjusted = adjustPValues(
      all.map((c) => c.pValue),
      opts.correction,
    );
    const adjustedRel = adjustPValues(
      all.map((c) => c.relativePValue),
      opts.correction,
    );
    const adjustedSeq = adjustPValues(
      all.map((c) => c.sequential.pValue),
      opts.correction,
    );
    all.forEach((c, i) => {
      c.adjustedPValue = adjusted[i];
      c.relativeAdjustedPValue = adjustedRel[i];
      c.sequential.adjustedPValue = adjustedSeq[i];
    });

    // Health.
    const observed = metrics.length
      ? Object.fromEntries(metrics[0].variants.map((v) => [v.variant, v.units]))
      : { ...population.unitsPerVariant };
    const srm = sampleRatioMismatch(observed, ctx.weights);
    const health = this.health(ctx, population, srm.flagged, srm.pValue);
    const basis = this.recommendationBasis(ctx, opts, metrics);
    all.forEach((c) => markSignificance(c, opts.alpha, basis.basis));
    const recommendation = this.recommend(ctx, opts, metrics, srm, population, health.unitsPerDay, basis);

    return {
      experiment: e.key,
      status: e.status,
      kind: e.kind,
      generatedAt,
      alpha: opts.alpha,
      phase: ctx.phase,
      baseline: ctx.baseline,
      window: { from: opts.from, to: opts.to, end: this.analysisEnd(ctx).toISOString() },
      options: {
        correction: opts.correction,
        cuped: opts.cuped,
        sequential: basis.basis === 'always-valid',
        sequentialRequested: opts.sequential,
        plannedUnits: opts.plannedUnits,
        plannedEnd: opts.plannedEnd,
        tuningN: opts.tuningN,
        segment: opts.segment,
        mde: opts.mde,
        power: opts.power,
      },
      srm: {
        observed: srm.observed,
        expected: srm.expected,
        chiSquare: srm.chiSquare,
        degreesOfFreedom: srm.degreesOfFreedom,
        pValue: srm.pValue,
        flagged: srm.flagged,
        threshold: srm.threshold,
        reason: srm.reason,
      },
      health,
      recommendation,
      metrics,
      exploration,
      ...(offPolicy ? { offPolicy } : {}),
    };
  }

  /** Ranking experiments: each variant's policy evaluated off-policy on the other variants' logs (OpeService.crossCheck). */
  private async offPolicy(e: ExperimentEntity, opts: ReportOptions): Promise<ReportBody['offPolicy']> {
    if (e.kind !== 'ranking') return null;
    try {
      return await this.ope.crossCheck(e, { alpha: opts.alpha, from: opts.from, to: opts.to });
    } catch (err) {
      return { error: `the off-policy cross-check failed: ${(err as Error).message}` };
    }
  }

  private health(ctx: Context, population: Population, srmFlagged: boolean, srmP: number | null) {
    const total = Object.values(population.unitsPerVariant).reduce((a, b) => a + b, 0) + population.multipleExposures;
    const fraction = total > 0 ? population.multipleExposures / total : null;
    const analysed = total - population.multipleExposures;
    // Traffic from the exposures' own time span (first to last first-exposure), not from the first exposure to now:
    // exposures imported with past timestamps would otherwise spread a day's traffic over years.
    let unitsPerDay: number | null = null;
    if (population.firstAt && population.lastAt && analysed > 0) {
      const span = Math.max(population.lastAt.getTime() - population.firstAt.getTime(), MIN_TRAFFIC_SPAN_MS);
      unitsPerDay = analysed / (span / DAY_MS);
    }
    const multipleFlagged = fraction !== null && fraction > MAX_MULTIPLE_EXPOSURE_FRACTION;
    return {
      healthy: !srmFlagged && !multipleFlagged,
      srm: { flagged: srmFlagged, pValue: srmP },
      multipleExposures: {
        units: population.multipleExposures,
        totalUnits: total,
        fraction,
        flagged: multipleFlagged,
        maxFraction: MAX_MULTIPLE_EXPOSURE_FRACTION,
      },
      unitsSource: population.source,
      firstExposureAt: population.firstAt?.toISOString() ?? null,
      lastExposureAt: population.lastAt?.toISOString() ?? null,
      unitsPerDay,
    };
  }

  private primaryOf(ctx: Context, metrics: MetricReport[]): MetricReport | undefined {
    const primaryKey = (ctx.e.settings as unknown as ExperimentSettings).metrics?.primary;
    return metrics.find((m) => m.metric === primaryKey) ?? metrics.find((m) => m.role === 'primary') ?? metrics[0];
  }

  /**
   * Which inference the significance flags and the recommendation use. A running experiment is watched (its report
   * is recomputed and read while data arrives), so a fixed-horizon test read at every look inflates the false
   * positive rate (Johari et al. 2017): it is judged by the always-valid intervals until it reaches its planned
   * size (`plannedUnits`, default the units the primary metric needs for `power` at `mde`) or its planned end
   * (`plannedEnd`). A stopped / paused / draft experiment gets its single fixed-horizon analysis. `sequential=true`
   * or `false` overrides.
   */
  private recommendationBasis(
    ctx: Context,
    opts: ReportOptions,
    metrics: MetricReport[],
  ): { basis: 'always-valid' | 'fixed-horizon'; basisReason: string; plannedUnits: number | null } {
    const primary = this.primaryOf(ctx, metrics);
    const units = primary ? primary.variants.reduce((a, v) => a + v.units, 0) : 0;
    let plannedUnits = opts.plannedUnits ?? null;
    if (plannedUnits === null && primary) {
      // the fixed-horizon design size: n·(se/se*)² for the comparison that needs the most units
      const base = primary.variants.find((v) => v.variant === ctx.baseline);
      const z = normalQuantile(1 - opts.alpha / 2) + normalQuantile(opts.power);
      for (const c of primary.comparisons) {
        const t = primary.variants.find((v) => v.variant === c.variant);
        const n = (base?.units ?? 0) + (t?.units ?? 0);
        const mde = base?.mean ? opts.mde * Math.abs(base.mean) : null;
        if (c.standardError && mde && n > 0) {
          const pair = Math.ceil(n * (c.standardError / (mde / z)) ** 2);
          const total = Math.ceil((pair * units) / n);
          plannedUnits = Math.max(plannedUnits ?? 0, total);
        }
      }
    }
    if (opts.sequential !== null && opts.sequential !== undefined) {
      return {
        basis: opts.sequential ? 'always-valid' : 'fixed-horizon',
        basisReason: `sequential=${opts.sequential} was requested`,
        plannedUnits,
      };
    }
    if (ctx.e.status !== 'running') {
      return {
        basis: 'fixed-horizon',
        basisReason: `the experiment is ${ctx.e.status}: the data are final, so the fixed-horizon test applies`,
        plannedUnits,
      };
    }
    if (opts.plannedEnd && Date.now() >= Date.parse(opts.plannedEnd)) {
      return {
        basis: 'fixed-horizon',
        basisReason: `the planned end (${opts.plannedEnd}) has been reached`,
        plannedUnits,
      };
    }
    if (plannedUnits !== null && units >= plannedUnits) {
      return {
        basis: 'fixed-horizon',
        basisReason: `the planned sample size (${plannedUnits} units) has been reached (${units} units)`,
        plannedUnits,
      };
    }
    return {
      basis: 'always-valid',
      basisReason: `the experiment is running and being watched${plannedUnits !== null ? ` (${units} of ${plannedUnits} planned units)` : ''}: decisions use the always-valid (mSPRT) intervals, which stay valid at every look`,
      plannedUnits,
    };
  }

  /** Ship / roll back / keep running / unhealthy, per treatment variant (libs/stats recommendDecision), then overall. */
  private recommend(
    ctx: Context,
    opts: ReportOptions,
    metrics: MetricReport[],
    srm: { flagged: boolean; pValue: number | null },
    population: Population,
    unitsPerDay: number | null,
    basisInfo: { basis: 'always-valid' | 'fixed-horizon'; basisReason: string; plannedUnits: number | null },
  ): RecommendationBody {
    const primary = this.primaryOf(ctx, metrics);
    const guardrails = metrics.filter((m) => m.role === 'guardrail' && m !== primary);
    const multipleExposure = {
      units: population.multipleExposures,
      totalUnits: Object.values(population.unitsPerVariant).reduce((a, b) => a + b, 0) + population.multipleExposures,
      maxFraction: MAX_MULTIPLE_EXPOSURE_FRACTION,
    };
    const sequential = basisInfo.basis === 'always-valid';
    const base = {
      metric: primary?.metric ?? null,
      alpha: opts.alpha,
      power: opts.power,
      mde: opts.mde,
      unitsPerDay,
      basis: basisInfo.basis,
      basisReason: basisInfo.basisReason,
      plannedUnits: basisInfo.plannedUnits,
    };
    if (!primary) {
      const d = recommendDecision({ primary: { metric: '(none)', estimate: null, ci: null }, srm, multipleExposure });
      return {
        ...base,
        decision: d.decision,
        variant: null,
        reason:
          d.decision === 'unhealthy'
            ? d.reason
            : 'Keep running: the report has no metric to judge (set metrics.primary).',
        details: d.details,
        requiredUnits: null,
        extraUnits: null,
        estimatedDays: null,
        variants: [],
      };
    }
    const baselineStats = primary.variants.find((v) => v.variant === ctx.baseline);
    const perVariant = primary.comparisons.map((c) => {
      const t = primary.variants.find((v) => v.variant === c.variant);
      const ci: Interval | null = sequential ? c.sequential.ci : c.ci;
      const mdeAbs = baselineStats?.mean ? opts.mde * Math.abs(baselineStats.mean) : null;
      const gs = guardrailComparisons(guardrails, ctx.baseline, c.variant, sequential);
      const d: DecisionResult = recommendDecision({
        alpha: opts.alpha,
        power: opts.power,
        primary: {
          metric: primary.metric,
          estimate: c.absoluteLift,
          ci,
          direction: primary.direction,
          standardError: c.standardError,
          units: (baselineStats?.units ?? 0) + (t?.units ?? 0),
          minimumDetectableEffect: mdeAbs,
        },
        guardrails: gs,
        srm,
        multipleExposure,
        traffic: unitsPerDay
          ? {
              unitsPerDay:
                (unitsPerDay * ((baselineStats?.units ?? 0) + (t?.units ?? 0))) /
                Math.max(
                  1,
                  primary.variants.reduce((a, v) => a + v.units, 0),
                ),
            }
          : null,
      });
      return {
        variant: c.variant,
        decision: d.decision,
        reason: d.reason,
        details: d.details,
        requiredUnits: d.requiredUnits,
        extraUnits: d.extraUnits,
        estimatedDays: d.extraDays,
        lift: c.absoluteLift,
      };
    });
    const pick = (() => {
      if (!perVariant.length) return null;
      if (perVariant.some((v) => v.decision === 'unhealthy'))
        return perVariant.find((v) => v.decision === 'unhealthy')!;
      const ships = perVariant.filter((v) => v.decision === 'ship');
      const sign = primary.direction === 'lower-is-better' ? -1 : 1;
      if (ships.length) return ships.sort((a, b) => sign * ((b.lift ?? 0) - (a.lift ?? 0)))[0];
      if (perVariant.every((v) => v.decision === 'rollback')) return perVariant[0];
      const running = perVariant.filter((v) => v.decision === 'keep-running');
      if (!running.length) return perVariant[0];
      return running.sort((a, b) => (b.estimatedDays ?? Infinity) - (a.estimatedDays ?? Infinity))[0];
    })();
    if (!pick)
      return {
        ...base,
        decision: 'keep-running',
        variant: null,
        reason: 'Keep running: the experiment has a single variant.',
        details: [],
        requiredUnits: null,
        extraUnits: null,
        estimatedDays: null,
        variants: [],
      };
    const decision = pick.decision;
    const reason = perVariant.length > 1 && decision !== 'unhealthy' ? `${pick.variant}: ${pick.reason}` : pick.reason;
    return {
      ...base,
      decision,
      variant: decision === 'ship' || decision === 'rollback' ? pick.variant : null,
      reason,
      details: pick.details,
      requiredUnits: pick.requiredUnits,
      extraUnits: pick.extraUnits,
      estimatedDays: pick.estimatedDays,
      variants: perVariant.map(({ lift: _l, ...v }) => v),
    };
  }

  /**
   * What the scheduled automation acts on, for `e` (normally running): its current phase judged on the always-valid
   * (mSPRT) basis whatever its planned size, with the recommendation's own guardrail rule — SRM, guardrails whose
   * always-valid interval lies entirely beyond the non-inferiority margin (margin·|baseline mean|), and primary
   * comparisons significant on the always-valid p-value (after the report's multiple-testing correction).
   */
  async evaluation(e: ExperimentEntity): Promise<AutomationEvaluation> {
    const report = await this.compute(e, { ...normalizeOptions({}), sequential: true });
    const metrics = report.metrics as MetricReport[];
    const srm = report.srm as AutomationEvaluation['srm'];
    const ctx = { baseline: String(report.baseline) };
    const primaryKey = (e.settings as unknown as ExperimentSettings).metrics?.primary;
    const primary =
      metrics.find((m) => m.metric === primaryKey) ?? metrics.find((m) => m.role === 'primary') ?? metrics[0];
    const guardrails = metrics.filter((m) => m.role === 'guardrail' && m !== primary);
    const breaches: AutomationEvaluation['guardrailBreaches'] = [];
    const significant: AutomationEvaluation['primarySignificant'] = [];
    for (const c of primary?.comparisons ?? []) {
      for (const g of guardrailComparisons(guardrails, ctx.baseline, c.variant, true)) {
        if (guardrailBreached(g))
          breaches.push({
            variant: c.variant,
            metric: g.metric,
            estimate: g.estimate,
            ci: g.ci!,
            nonInferiorityMargin: g.nonInferiorityMargin,
            direction: g.direction ?? 'higher-is-better',
          });
      }
      if (c.significance?.alwaysValid && c.sequential.ci) {
        significant.push({
          variant: c.variant,
          metric: primary!.metric,
          estimate: c.absoluteLift,
          ci: c.sequential.ci,
          pValue: c.sequential.adjustedPValue ?? c.sequential.pValue,
        });
      }
    }
    return {
      phase: Number(report.phase),
      generatedAt: String(report.generatedAt),
      srm,
      guardrailBreaches: breaches,
      primarySignificant: significant,
    };
  }

  // ---- time series ------------------------------------------------------------------------------------------

  async timeseries(key: string, query: TimeseriesQuery): Promise<TimeseriesBody> {
    const e = await this.experiment(key);
    const opts = normalizeOptions(query);
    const ctx = await this.context(e, opts);
    const population = await this.repo.population(e.id, ctx.phase, e.kind === 'ranking');
    const empty = {
      experiment: e.key,
      status: e.status,
      generatedAt: new Date().toISOString(),
      alpha: opts.alpha,
      phase: ctx.phase,
      baseline: ctx.baseline,
      metrics: ctx.plans.map((p) => p.key),
    };
    const firstAt =
      ctx.scope.from && population.firstAt && ctx.scope.from > population.firstAt ? ctx.scope.from : population.firstAt;
    if (!firstAt) return { ...empty, bucket: query.bucket && query.bucket !== 'auto' ? query.bucket : 'day', days: [] };
    const end = this.analysisEnd(ctx);
    // A young experiment would show one dot per day: pick the step from the span (or take the requested one).
    const span = end.getTime() - firstAt.getTime();
    const bucket: Bucket =
      query.bucket && query.bucket !== 'auto'
        ? query.bucket
        : span <= AUTO_MINUTE_SPAN_MS
          ? 'minute'
          : span <= AUTO_HOUR_SPAN_MS
            ? 'hour'
            : 'day';
    const width = BUCKET_MS[bucket];
    const start = new Date(Math.floor(firstAt.getTime() / width) * width);
    const days = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / width));
    if (days > MAX_SERIES_DAYS) {
      throw Problem.validation([
        {
          path: query.bucket && query.bucket !== 'auto' ? 'query.bucket' : 'query.from',
          message: `the series would have ${days} ${bucket} steps (at most ${MAX_SERIES_DAYS}); narrow it with from / to${bucket === 'day' ? '' : ' or choose a wider bucket'}`,
        },
      ]);
    }
    const [points, explorationDays, shareDays] = await Promise.all([
      Promise.all(
        ctx.plans.map((p) =>
          this.repo.seriesPoints(ctx.scope, p.source === 'events' ? p.spec! : p.source, start, days, width / 1000),
        ),
      ),
      e.kind === 'ranking' ? this.repo.explorationByDay(e.id, start, days, width / 1000) : Promise.resolve(null),
      e.kind === 'ranking'
        ? this.repo.selectionShareByDay(e.id, start, days, width / 1000, SELECTION_SHARE_ITEMS)
        : Promise.resolve(null),
    ]);
    // The latest cumulative statistics per metric and variant (SQL returns a row only for steps with a change).
    const running = ctx.plans.map((plan) => new Map(ctx.variants.map((v) => [v, emptyAggregate(v, plan.shape)])));
    const previous = ctx.plans.map(() => new Map<string, { pValue: number | null; ci: Interval | null }>());
    const byStep = (rows: SeriesPoint[]) => {
      const m = new Map<number, SeriesPoint[]>();
      for (const r of rows) m.set(r.k, [...(m.get(r.k) ?? []), r]);
      return m;
    };
    const pointSteps = points.map(byStep);
    const explore = {
      total: { decisions: 0, slots: 0, explored: 0, cold: 0 },
      variants: new Map<string, { decisions: number; slots: number; explored: number; cold: number }>(),
    };
    const rate = (a: number, b: number) => (b > 0 ? a / b : null);
    const out: SeriesStepBody[] = [];
    for (let k = 0; k < days; k++) {
      const dayStart = new Date(start.getTime() + k * width);
      const dayEnd = new Date(Math.min(dayStart.getTime() + width, end.getTime()));
      const metricsOut = ctx.plans.map((plan, i) => {
        for (const d of pointSteps[i].get(k) ?? []) {
          if (!running[i].has(d.variant)) continue;
          const agg: MomentAggregate = {
            variant: d.variant,
            units: d.units,
            sum: d.sum,
            sumSquares: 0,
            moments: d.moments,
          };
          if (plan.shape === 'ratio') agg.denominator = { sum: d.denominatorSum, sumSquares: 0, crossProducts: 0 };
          else agg.moments = { meanY: d.moments.meanY, varianceY: d.moments.varianceY };
          running[i].set(d.variant, agg);
        }
        const agg = (v: string): MomentAggregate => running[i].get(v)!;
        const variants = ctx.variants.map((v) => {
          const s = variantStats(agg(v), plan.shape);
          return { variant: v, units: s.units, mean: s.mean, stdDev: s.stdDev };
        });
        const comparisons = ctx.variants
          .filter((v) => v !== ctx.baseline)
          .map((v) => {
            const c = compare(agg(ctx.baseline), agg(v), plan.shape, {
              alpha: opts.alpha,
              tuningN: opts.tuningN,
              direction: plan.direction,
              cuped: false,
              previous: previous[i].get(v) ?? null,
            });
            if (c.sequential.pValue !== null || c.sequential.ci)
              previous[i].set(v, { pValue: c.sequential.pValue, ci: c.sequential.ci });
            return {
              variant: c.variant,
              baseline: c.baseline,
              absoluteLift: c.absoluteLift,
              ci: c.ci,
              relativeLift: c.relativeLift,
              relativeLiftReason: c.relativeLiftReason,
              relativeCi: c.relativeCi,
              pValue: c.pValue,
              sequential: { pValue: c.sequential.pValue, ci: c.sequential.ci },
              chanceToBeatBaseline: c.bayesian.chanceToBeatBaseline,
              reason: c.reason,
            };
          });
        return { metric: plan.key, variants, comparisons };
      });
      const units = Object.fromEntries(ctx.variants.map((v) => [v, running[0]?.get(v)?.units ?? 0]));
      const day: SeriesStepBody = {
        date: dayStart.toISOString().slice(0, 10),
        start: dayStart.toISOString(),
        end: dayEnd.toISOString(),
        units,
        metrics: metricsOut,
      };
      if (explorationDays) {
        const today = { decisions: 0, slots: 0, explored: 0, cold: 0 };
        for (const r of explorationDays.filter((x) => x.k === k)) {
          const v = explore.variants.get(r.variant) ?? { decisions: 0, slots: 0, explored: 0, cold: 0 };
          for (const f of ['decisions', 'slots', 'explored', 'cold'] as const) {
            v[f] += r[f];
            today[f] += r[f];
            explore.total[f] += r[f];
          }
          explore.variants.set(r.variant, v);
        }
        const t = explore.total;
        day.exploration = {
          decisions: t.decisions,
          slots: t.slots,
          exploreRate: rate(t.explored, t.slots),
          coldStartRate: rate(t.cold, t.slots),
          day: {
            decisions: today.decisions,
            slots: today.slots,
            exploreRate: rate(today.explored, today.slots),
            coldStartRate: rate(today.cold, today.slots),
          },
          variants: [...explore.variants.entries()].map(([variant, v]) => ({
            variant,
            decisions: v.decisions,
            slots: v.slots,
            exploreRate: rate(v.explored, v.slots),
            coldStartRate: rate(v.cold, v.slots),
          })),
        };
      }
      // Ranking experiments: {itemId: share of this day's shown slots} for the series' most shown items ({} on a day without slots).
      if (shareDays)
        day.selectionShare = Object.fromEntries(shareDays.filter((x) => x.k === k).map((x) => [x.itemId, x.share]));
      out.push(day);
    }
    return { ...empty, bucket, start: start.toISOString(), end: end.toISOString(), days: out };
  }

  // ---- power -------------------------------------------------------------------------------------------------

  power(input: PowerInput): PowerResultBody {
    const baseline =
      'proportion' in input.baseline
        ? { proportion: input.baseline.proportion }
        : { mean: input.baseline.mean, stdDev: input.baseline.stdDev };
    if (input.mde !== undefined) {
      const r = sampleSizePerArm({
        baseline,
        mde: input.mde,
        mdeType: input.mdeType,
        alpha: input.alpha,
        power: input.power,
        ratio: input.ratio,
      });
      if (r.reason)
        throw Problem.validation([
          {
            path: input.mdeType === 'relative' && r.reason.includes('baseline') ? 'baseline' : 'mde',
            message: r.reason,
          },
        ]);
      const days = input.unitsPerDay && r.totalRounded !== null ? Math.ceil(r.totalRounded / input.unitsPerDay) : null;
      return {
        solveFor: 'sampleSize',
        method: 'two-sided z-test (statsmodels NormalIndPower)',
        mdeType: input.mdeType,
        ...r,
        days,
      };
    }
    const r = minimumDetectableEffect({
      baseline,
      nControl: input.nControl!,
      ratio: input.ratio,
      alpha: input.alpha,
      power: input.power,
    });
    if (r.reason) throw Problem.validation([{ path: 'baseline', message: r.reason }]);
    return {
      solveFor: 'mde',
      method: 'two-sided z-test (statsmodels NormalIndPower)',
      nControl: input.nControl!,
      nTreatment: input.nControl! * input.ratio,
      ...r,
    };
  }
}
