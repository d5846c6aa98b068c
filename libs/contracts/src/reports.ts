import { z } from 'zod';
import { METRIC_KEY } from './metric-key';

const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');
const num = (message: string) =>
  z
    .string()
    .regex(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i, message)
    .transform(Number);

/** Options shared by the report, its CSV / HTML renderings, the refresh route and the time series. */
const reportOptionsShape = {
  /** Comma-separated metric keys; default: the experiment's primary, guardrails and secondary metrics. */
  metrics: z
    .string()
    .max(2000)
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .regex(
              METRIC_KEY,
              'each metric key must be 1–64 characters of a–z, 0–9, _ . - starting with a letter or digit',
            ),
        )
        .min(1, 'name at least one metric')
        .max(50),
    )
    .optional(),
  alpha: num('must be a number in (0, 0.5]')
    .pipe(z.number().gt(0, 'must be in (0, 0.5]').max(0.5, 'must be in (0, 0.5]'))
    .optional(),
  /** Variance reduction with the pre-exposure covariate (default look-back: the metric's, 14 days). */
  cuped: bool.optional(),
  /**
   * true: judge significance and the recommendation by the always-valid (mSPRT) p-values and intervals; false: by
   * the fixed-horizon tests. Unset: always-valid while the experiment is running and short of its planned size /
   * end, fixed-horizon after (the report's `recommendation.basis` says which).
   */
  sequential: bool.optional(),
  /** Planned total units (both arms, all variants); default: the units needed for `power` at `mde`. */
  plannedUnits: num('must be a positive integer')
    .pipe(z.int('must be a positive integer').min(1, 'must be a positive integer').max(1e12, 'must be at most 1e12'))
    .optional(),
  /** Planned end of the experiment: from then on a running experiment is judged fixed-horizon. */
  plannedEnd: isoDateTime.optional(),
  /** mSPRT tuning N* (total units where the confidence sequence is tightest); default 5,000. */
  tuningN: num('must be a positive number')
    .pipe(z.number().min(10, 'must be at least 10').max(1e9, 'must be at most 1e9'))
    .optional(),
  correction: z.enum(['holm', 'bh', 'none'], { message: 'must be holm, bh or none' }).optional(),
  phase: num('must be a positive integer')
    .pipe(z.int('must be a positive integer').min(1, 'must be a positive integer'))
    .optional(),
  /** `attribute:value` — only units whose exposure attributes hold that value. */
  segment: z
    .string()
    .max(300)
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}:.{1,200}$/, 'must be attribute:value, e.g. country:de')
    .transform((s) => ({ attribute: s.slice(0, s.indexOf(':')), value: s.slice(s.indexOf(':') + 1) }))
    .optional(),
  /** Variant the others are compared with; default the first variant. */
  baseline: z.string().min(1).max(64).optional(),
  /** The effect the experiment is powered for, relative (0.05 = 5 %), for "keep running" estimates. */
  mde: num('must be a number in (0, 10]')
    .pipe(z.number().gt(0, 'must be in (0, 10]').max(10, 'must be in (0, 10]'))
    .optional(),
  power: num('must be a number in (0, 1)')
    .pipe(z.number().gt(0, 'must be in (0, 1)').lt(1, 'must be in (0, 1)'))
    .optional(),
  from: isoDateTime.optional(),
  to: isoDateTime.optional(),
};

const windowCheck = (q: { from?: string; to?: string }, ctx: z.RefinementCtx) => {
  if (q.from && q.to && Date.parse(q.from) >= Date.parse(q.to))
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
};

export const reportQuerySchema = z
  .strictObject({
    ...reportOptionsShape,
    format: z.enum(['json', 'csv'], { message: 'must be json or csv' }).optional(),
  })
  .superRefine(windowCheck);
export type ReportQuery = z.infer<typeof reportQuerySchema>;

export const reportOptionsSchema = z.strictObject(reportOptionsShape).superRefine(windowCheck);
export type ReportOptionsQuery = z.infer<typeof reportOptionsSchema>;

export const timeseriesQuerySchema = z
  .strictObject({
    metrics: reportOptionsShape.metrics,
    alpha: reportOptionsShape.alpha,
    tuningN: reportOptionsShape.tuningN,
    phase: reportOptionsShape.phase,
    segment: reportOptionsShape.segment,
    baseline: reportOptionsShape.baseline,
    from: reportOptionsShape.from,
    to: reportOptionsShape.to,
    /** Width of a step: minute, hour or day; auto (default) picks it from the span (≤ 6 h: minute, ≤ 7 days: hour). */
    bucket: z.enum(['auto', 'minute', 'hour', 'day'], { message: 'must be auto, minute, hour or day' }).optional(),
  })
  .superRefine(windowCheck);
export type TimeseriesQuery = z.infer<typeof timeseriesQuerySchema>;

// ---- POST /v1/stats/power --------------------------------------------------------------------------------------

const finite = (message: string) => z.number({ message }).refine(Number.isFinite, message);

export const powerSchema = z
  .strictObject({
    /** The control metric: a mean with its standard deviation, or a conversion proportion. */
    baseline: z.union(
      [
        z.strictObject({
          mean: finite('must be a finite number'),
          stdDev: finite('must be a positive number').pipe(z.number().gt(0, 'must be a positive number')),
        }),
        z.strictObject({
          proportion: z
            .number({ message: 'must be a number in (0, 1)' })
            .gt(0, 'must be in (0, 1)')
            .lt(1, 'must be in (0, 1)'),
        }),
      ],
      { error: () => 'must be {mean, stdDev} or {proportion}' },
    ),
    /** Solve for the sample size: the minimum detectable effect (relative by default). */
    mde: z.number({ message: 'must be a positive number' }).gt(0, 'must be a positive number').max(1e9).optional(),
    mdeType: z.enum(['relative', 'absolute'], { message: 'must be relative or absolute' }).default('relative'),
    /** Solve for the MDE: the units in the control arm. */
    nControl: z
      .number({ message: 'must be a positive number' })
      .gt(0, 'must be a positive number')
      .max(1e12)
      .optional(),
    alpha: z
      .number({ message: 'must be a number in (0, 0.5]' })
      .gt(0, 'must be in (0, 0.5]')
      .max(0.5, 'must be in (0, 0.5]')
      .default(0.05),
    power: z
      .number({ message: 'must be a number in (0, 1)' })
      .gt(0, 'must be in (0, 1)')
      .lt(1, 'must be in (0, 1)')
      .default(0.8),
    /** Units in treatment per unit in control. */
    ratio: z.number({ message: 'must be a positive number' }).gt(0, 'must be a positive number').max(1000).default(1),
    /** New units per day (both arms), to turn the sample size into days. */
    unitsPerDay: z
      .number({ message: 'must be a positive number' })
      .gt(0, 'must be a positive number')
      .max(1e12)
      .optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.mde === undefined) === (b.nControl === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [b.mde === undefined ? 'mde' : 'nControl'],
        message: 'give exactly one of mde (to solve for the sample size) or nControl (to solve for the MDE)',
      });
    }
    if (b.power <= b.alpha) ctx.addIssue({ code: 'custom', path: ['power'], message: 'must be greater than alpha' });
  });
export type PowerInput = z.infer<typeof powerSchema>;
