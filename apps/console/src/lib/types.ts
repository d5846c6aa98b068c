/**
 * Shapes the console reads: the API's response contracts (libs/contracts, `z.infer` of the schemas the API's
 * answers are checked against), plus the few views the pages derive from them for display.
 */
import type {
  ConsoleRole,
  consoleUserSchema,
  decisionLogSchema,
  experimentViewSchema,
  opeRunSchema,
  reportSchema,
  shadowValueSchema,
  sessionSchema,
  TimeBucket,
  timeseriesSchema,
} from '@slotwise/contracts';
import type { z } from 'zod';
import { isNum, signedPct } from './format';

export type Role = ConsoleRole;
export type User = z.infer<typeof consoleUserSchema>;
export type Session = z.infer<typeof sessionSchema>;

export type Experiment = z.infer<typeof experimentViewSchema>;
export type Status = Experiment['status'];

export type Report = z.infer<typeof reportSchema>;
export type MetricReport = Report['metrics'][number];
export type Comparison = MetricReport['comparisons'][number];
export type Exploration = NonNullable<Report['exploration']>;
export type Basis = Report['recommendation']['basis'];

export type Timeseries = z.infer<typeof timeseriesSchema>;
export type SeriesStep = Timeseries['days'][number];
export type Bucket = TimeBucket;

export type OpeRun = z.infer<typeof opeRunSchema>;
export type OpeResult = NonNullable<OpeRun['result']>;
export type OffPolicy = NonNullable<Report['offPolicy']>;
export type ShadowValue = z.infer<typeof shadowValueSchema>;

export type DecisionRow = z.infer<typeof decisionLogSchema>['decisions'][number];

/** Units seen in more than one variant (the report's `health.multipleExposures`), or null when there are none. */
export function multipleExposures(report: Report): { units: number; fraction: number | null } | null {
  const m = report.health.multipleExposures;
  return m.units > 0 || m.flagged ? m : null;
}

/** Units in the analysis: the primary metric's units per variant, or the SRM check's observed split. */
export function totalUnits(report: Report): number {
  const m = report.metrics[0];
  if (m) return m.variants.reduce((s, v) => s + v.units, 0);
  return Object.values(report.srm.observed).reduce((s, n) => s + n, 0);
}

/** The bandit page's reward comparison, derived from the report and its time series (nothing else is fetched). */
export interface RewardRace {
  metric: string;
  baseline: string;
  lowerIsBetter: boolean;
  variants: string[];
  /** the variant with the best cumulative mean in the report (null without units) */
  leader: string | null;
  /** the report's comparison of each other variant with the baseline; `aheadSince`: the step label from which the
   * variant's cumulative lift over the baseline stayed favourable up to the last step (null: not ahead now) */
  comparisons: Array<{
    variant: string;
    relativeLift: number | null;
    chance: number | null;
    aheadSince: string | null;
  }>;
  /** per step: each variant's cumulative mean (absent when the step has no statistics for it) */
  steps: Array<{ label: string; means: Record<string, number> }>;
}

/** The primary metric's race between variants (null when the report has no metric). */
export function rewardRace(report: Report, series: Timeseries): RewardRace | null {
  const m = report.metrics.find((x) => x.role === 'primary') ?? report.metrics[0];
  if (!m) return null;
  const lowerIsBetter = m.direction === 'lower-is-better' || m.direction === 'decrease';
  const better = (a: number, b: number) => (lowerIsBetter ? a < b : a > b);
  let leader: string | null = null;
  let best = NaN;
  for (const v of m.variants) {
    if (v.units > 0 && isNum(v.mean) && (leader === null || better(v.mean, best))) {
      leader = v.variant;
      best = v.mean;
    }
  }
  const steps = series.days.map((step) => {
    const sm = step.metrics.find((x) => x.metric === m.metric);
    const means: Record<string, number> = {};
    for (const v of sm?.variants ?? []) if (v.units > 0 && isNum(v.mean)) means[v.variant] = v.mean;
    return { label: stepLabel(step, series.bucket), lifts: sm?.comparisons ?? [], means };
  });
  const comparisons = m.comparisons.map((c) => {
    let aheadSince: string | null = null;
    for (let i = steps.length - 1; i >= 0; i--) {
      const lift = steps[i].lifts.find((x) => x.variant === c.variant)?.absoluteLift;
      if (!isNum(lift) || !better(lift, 0)) break;
      aheadSince = steps[i].label;
    }
    return {
      variant: c.variant,
      relativeLift: c.relativeLift,
      chance: c.bayesian.chanceToBeatBaseline,
      aheadSince,
    };
  });
  return {
    metric: m.metric,
    baseline: report.baseline,
    lowerIsBetter,
    variants: m.variants.map((v) => v.variant),
    leader,
    comparisons,
    steps: steps.map(({ label, means }) => ({ label, means })),
  };
}

export type Verdict = Report['recommendation']['decision'] | 'no-data';

/** The report's ship / roll back / keep running / unhealthy decision in plain words (the API decides; this words it). */
export function recommendation(report: Report): { verdict: Verdict; text: string; details: string[] } {
  const r = report.recommendation;
  if (totalUnits(report) === 0)
    return {
      verdict: 'no-data',
      text: 'No units have been exposed yet: the recommendation appears once traffic arrives.',
      details: [],
    };
  const verdict: Verdict = r.decision;
  // "Ship ts: +4.1% reward, 95% CI +1.2% to +7.0%" when the report names the variant; its reason goes below.
  const metric = report.metrics.find((m) => m.metric === r.metric) ?? report.metrics[0];
  const c = r.variant && metric ? metric.comparisons.find((x) => x.variant === r.variant) : undefined;
  if ((verdict === 'ship' || verdict === 'rollback') && r.variant && c && c.relativeLift !== null) {
    const level = Math.round((1 - report.alpha) * 100);
    const ci = c.relativeCi
      ? `, ${level}% CI ${signedPct(c.relativeCi.lower)} to ${signedPct(c.relativeCi.upper)}`
      : '';
    const head = `${verdict === 'ship' ? 'Ship' : 'Roll back'} ${r.variant}: ${signedPct(c.relativeLift)} ${metric!.metric}${ci}.`;
    return { verdict, text: head, details: [r.reason, ...r.details].filter(Boolean) };
  }
  return { verdict, text: r.reason, details: r.details.filter((d) => !r.reason.includes(d)) };
}

/** Axis label of a series step: the date for days, "MM-DD HH:00" for hours, "HH:MM" (UTC) for minutes. */
export function stepLabel(step: SeriesStep, bucket: Bucket): string {
  if (bucket === 'day') return step.date.slice(0, 10);
  const iso = new Date(step.start).toISOString();
  return bucket === 'hour' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}:00` : iso.slice(11, 16);
}
