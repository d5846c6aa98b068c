/** Shapes the console reads: the API's contracts (libs/contracts), plus what the pages derive for display. */
import type { ConsoleRole, consoleUserSchema, RecommendationBody, sessionSchema } from '@slotwise/contracts';
import type { z } from 'zod';
import { isNum, signedPct } from './format';

export type Role = ConsoleRole;
export type User = z.infer<typeof consoleUserSchema>;
export type Session = z.infer<typeof sessionSchema>;

export interface Policy {
  type: 'ranker' | 'thompson' | 'epsilon-greedy' | 'random';
  model?: string;
  epsilon?: number;
}

export interface Variant {
  key: string;
  weight: number;
  policy?: Policy;
  config?: Record<string, unknown>;
}

export type Status = 'draft' | 'running' | 'paused' | 'stopped';

export interface Experiment {
  id: string;
  key: string;
  name: string;
  hypothesis: string;
  kind: 'ranking' | 'ab';
  assignment: 'hash' | 'external';
  trafficPercent: number;
  layer: string | null;
  slots?: number;
  features: { context: string[]; item: string[] };
  ranker: { model: string; shortlist: number };
  variants: Variant[];
  metrics: { primary?: string; guardrails: string[]; secondary: string[] };
  coldStartThreshold: number;
  targeting?: unknown;
  status: Status;
  version: number;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  stoppedAt: string | null;
  shippedVariant?: string | null;
  /** automatic guardrail stop; null / absent: off */
  autoStop?: { action: 'pause' | 'stop'; on: Array<'guardrail' | 'srm'> } | null;
}

export interface Interval {
  lower: number;
  upper: number;
}

export interface VariantStats {
  variant: string;
  units: number;
  sum?: number;
  mean: number;
  stdDev?: number;
}

/** Significance per scale (the report's `significance`); `basis` names the test `significant` copies. */
export interface Significance {
  basis: Basis;
  absolute: boolean;
  relative: boolean | null;
  alwaysValid: boolean;
  agree: boolean | null;
}

export type Basis = 'always-valid' | 'fixed-horizon';

export interface Comparison {
  variant: string;
  baseline: string;
  absoluteLift: number;
  /** null when the control mean is not clearly away from 0 (`relativeLiftReason` says why) */
  relativeLift: number;
  relativeLiftReason?: string | null;
  ci: Interval;
  relativeCi: Interval;
  pValue: number;
  adjustedPValue?: number;
  relativeAdjustedPValue?: number | null;
  significant: boolean;
  significance?: Significance;
  sequential?: { pValue: number; ci: Interval };
  bayesian?: { chanceToBeatBaseline: number; expectedLoss: number };
}

export interface MetricReport {
  metric: string;
  variants: VariantStats[];
  comparisons: Comparison[];
}

export interface Exploration {
  decisions: number;
  slots: number;
  exploreRate: number;
  coldStartRate: number;
  coldItems: number;
  [extra: string]: unknown;
}

export interface Report {
  experiment: string;
  status: string;
  generatedAt: string;
  alpha: number;
  srm?: { observed: Record<string, number>; expected: Record<string, number>; chiSquare: number; pValue: number; flagged: boolean } | null;
  metrics: MetricReport[];
  exploration?: Exploration | null;
  recommendation?: RecommendationBody;
  [extra: string]: unknown;
}

/**
 * The report as the console uses it: `metrics` and `alpha` may be missing while the statistics engine has not
 * landed (the exploration section comes first), so they are defaulted and `hasStatistics` says which it was.
 */
const NO_INTERVAL = { lower: Number.NaN, upper: Number.NaN };

export function normaliseReport(raw: unknown): Report & { hasStatistics: boolean } {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const metrics = Array.isArray(r.metrics)
    ? (r.metrics as Record<string, unknown>[]).map((m) => ({
        metric: String(m.metric ?? ''),
        variants: Array.isArray(m.variants) ? (m.variants as VariantStats[]) : [],
        // Intervals may be null while a variant has too few units: keep the row, show dashes.
        comparisons: Array.isArray(m.comparisons)
          ? (m.comparisons as Comparison[]).filter(Boolean).map((c) => ({ ...c, ci: c.ci ?? NO_INTERVAL, relativeCi: c.relativeCi ?? NO_INTERVAL }))
          : [],
      }))
    : [];
  return {
    ...(r as Partial<Report>),
    experiment: String(r.experiment ?? ''),
    status: String(r.status ?? ''),
    generatedAt: String(r.generatedAt ?? new Date().toISOString()),
    alpha: isNum(r.alpha) ? r.alpha : 0.05,
    srm: r.srm && typeof r.srm === 'object' && isNum((r.srm as Record<string, unknown>).pValue) ? (r.srm as Report['srm']) : null,
    metrics,
    exploration: r.exploration && typeof r.exploration === 'object' ? (r.exploration as Exploration) : null,
    hasStatistics: Array.isArray(r.metrics),
  };
}

/** Units seen in more than one variant, wherever the report puts it (`health.multipleExposures`, `multipleExposures`). */
export function multipleExposures(report: Report): { units: number; fraction?: number } | null {
  const health = (report.health ?? {}) as Record<string, unknown>;
  const raw = health.multipleExposures ?? report.multipleExposures;
  if (isNum(raw)) return raw > 0 ? { units: raw } : null;
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    const units = [r.units, r.count, r.multipleExposureUnits].find(isNum);
    const fraction = [r.fraction, r.rate].find(isNum);
    if (units !== undefined && units > 0) return { units, fraction };
    if (r.flagged === true) return { units: units ?? 0, fraction };
  }
  return null;
}

export function totalUnits(report: Report): number {
  const m = report.metrics[0];
  if (m) return m.variants.reduce((s, v) => s + (v.units ?? 0), 0);
  return Object.values(report.srm?.observed ?? {}).reduce((s, n) => s + n, 0);
}

export type Verdict = 'ship' | 'rollback' | 'keep-running' | 'unhealthy' | 'no-data';

/**
 * The recommendation in plain words: the report's own when it has one (`recommendation.decision` + `reason`),
 * else derived from the primary metric's comparisons.
 */
/** Which inference the recommendation (and the significance stars) used, and why; null for reports without it. */
export function recommendationBasis(report: Report): { basis: Basis; reason: string | null } | null {
  const r = report.recommendation;
  return r ? { basis: r.basis, reason: r.basisReason } : null;
}

export function recommendation(report: Report, _primary?: string): { verdict: Verdict; text: string; details: string[] } {
  const r = report.recommendation;
  if (!r || totalUnits(report) === 0) return { verdict: 'no-data', text: 'No units have been exposed yet: the recommendation appears once traffic arrives.', details: [] };
  const verdict: Verdict = r.decision;
  // "Ship ts: +4.1% reward, 95% CI +1.2% to +7.0%" when the report names the variant; its reason goes below.
  const metric = report.metrics.find((m) => m.metric === r.metric) ?? report.metrics[0];
  const c = r.variant && metric ? metric.comparisons.find((x) => x.variant === r.variant) : undefined;
  if ((verdict === 'ship' || verdict === 'rollback') && r.variant && c && isNum(c.relativeLift)) {
    const level = Math.round((1 - report.alpha) * 100);
    const ci = isNum(c.relativeCi.lower) && isNum(c.relativeCi.upper) ? `, ${level}% CI ${signedPct(c.relativeCi.lower)} to ${signedPct(c.relativeCi.upper)}` : '';
    const head = `${verdict === 'ship' ? 'Ship' : 'Roll back'} ${r.variant}: ${signedPct(c.relativeLift)} ${metric!.metric}${ci}.`;
    return { verdict, text: head, details: [r.reason, ...r.details].filter(Boolean) };
  }
  return { verdict, text: r.reason, details: r.details.filter((d) => !r.reason.includes(d)) };
}

export type Bucket = 'minute' | 'hour' | 'day';

/** One step (minute, hour or day: the series' `bucket`) of the time series, normalised from `points` / `days` / `series`. */
export interface SeriesPoint {
  date: string;
  /** start of the step (ISO) and its width */
  start: string;
  bucket: Bucket;
  comparisons: { metric: string; variant: string; baseline?: string; relativeLift: number | null; lower: number | null; upper: number | null }[];
  exploration: { exploreRate?: number; coldStartRate?: number; decisions?: number } | null;
  selectionShare: Record<string, number> | null;
}

export function normaliseSeries(raw: unknown): SeriesPoint[] {
  if (!raw || typeof raw !== 'object') return [];
  const r = raw as Record<string, unknown>;
  const rows = (Array.isArray(raw) ? raw : (r.points ?? r.days ?? r.series ?? r.timeseries ?? [])) as Record<string, unknown>[];
  if (!Array.isArray(rows)) return [];
  const bucket: Bucket = r.bucket === 'minute' || r.bucket === 'hour' ? r.bucket : 'day';
  return rows
    .map((p) => {
      const date = String(p.date ?? p.day ?? p.at ?? p.t ?? '');
      const start = String(p.start ?? date);
      const comparisons: SeriesPoint['comparisons'] = [];
      const metrics = (Array.isArray(p.metrics) ? p.metrics : []) as Record<string, unknown>[];
      for (const m of metrics) {
        for (const c of (Array.isArray(m.comparisons) ? m.comparisons : []) as Record<string, unknown>[]) {
          const ci = (c.relativeCi ?? {}) as Record<string, unknown>;
          comparisons.push({
            metric: String(m.metric ?? ''),
            variant: String(c.variant ?? ''),
            baseline: c.baseline ? String(c.baseline) : undefined,
            relativeLift: isNum(c.relativeLift) ? c.relativeLift : null,
            lower: isNum(ci.lower) ? ci.lower : null,
            upper: isNum(ci.upper) ? ci.upper : null,
          });
        }
      }
      // Prefer the day's own rates (`exploration.day`) over the cumulative ones.
      const whole = (p.exploration ?? null) as Record<string, unknown> | null;
      const ex = whole && whole.day && typeof whole.day === 'object' ? (whole.day as Record<string, unknown>) : whole;
      const share = (p.selectionShare ?? p.itemShare ?? null) as Record<string, number> | null;
      return {
        date,
        start,
        bucket,
        comparisons,
        exploration: ex ? { exploreRate: isNum(ex.exploreRate) ? ex.exploreRate : undefined, coldStartRate: isNum(ex.coldStartRate) ? ex.coldStartRate : undefined, decisions: isNum(ex.decisions) ? ex.decisions : undefined } : null,
        selectionShare: share && typeof share === 'object' ? share : null,
      };
    })
    .filter((p) => p.date);
}

/** Axis label of a series step: the date for days, "MM-DD HH:00" for hours, "HH:MM" (UTC) for minutes. */
export function stepLabel(p: SeriesPoint): string {
  if (p.bucket === 'day') return p.date.slice(0, 10);
  const t = new Date(p.start);
  if (Number.isNaN(t.getTime())) return p.date.slice(0, 10);
  const iso = t.toISOString();
  return p.bucket === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00` : iso.slice(11, 16);
}

/** "day" / "hour" / "minute" in words, for chart notes. */
export const BUCKET_WORD: Record<Bucket, string> = { day: 'day', hour: 'hour', minute: 'minute' };

export interface DecisionSlot {
  position: number;
  itemId: string;
  score?: number;
  propensity?: number;
  explored?: boolean;
  coldStart?: boolean;
  explanation?: Record<string, unknown>;
}

export interface DecisionRow {
  decisionId: string;
  at?: string;
  createdAt?: string;
  unitId?: string;
  variant?: string | null;
  slots: DecisionSlot[];
}
