import { Injectable, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { exposedUnitsCtes } from './exposed-units.sql';
import { UnitRollupsRepository } from './unit-rollups.repository';
import type { Capping, MetricDefinitionView, MetricType } from './ab.schema';

/** A metric resolved for computation (from its definition, or the default for an undefined key). */
export interface MetricSpec {
  key: string;
  type: MetricType;
  /** Event metric key of the value (sum, binary), of the numerator (mean: the values; ratio: the numerator). */
  numerator: string;
  /** Ratio: event metric key of the denominator. Null for the other types (mean's denominator is the event count). */
  denominator: string | null;
  /** Events count from first exposure until this many seconds later; null: until the phase / experiment ends. */
  conversionWindowSeconds: number | null;
  /** Applied to the per-unit value (mean and ratio: to the numerator only). Never to binary metrics. */
  capping: Capping | null;
  /** CUPED look-back before first exposure, in days. */
  cupedLookbackDays: number;
}

/** What to aggregate. */
export interface MetricValuesQuery {
  experimentId: string;
  /** Assignment phase (exposures are logged per phase; reports use the latest by default). */
  phase: number;
  metric: MetricSpec;
  /** Only units first exposed at or after `from`. */
  from?: Date;
  /** Only units first exposed before `to`, and only their events before `to` (a report "as of" `to`). */
  to?: Date;
  /**
   * Only units whose stored exposure attributes (the `attributes` given to /v1/assign or /v1/exposures at first
   * exposure) hold `attribute` equal to `value`, compared as text (`attributes ->> attribute = String(value)`).
   */
  segment?: { attribute: string; value: string | number | boolean };
  /** Also aggregate the CUPED covariate (the metric's value in the look-back before first exposure). */
  cuped?: boolean | { lookbackDays: number };
  /** Also return `moments`: means and centred (co)variances computed in SQL (what the report's statistics use). */
  moments?: boolean;
  /** false: read the raw events even where the per-unit rollups apply (the equality test's reference). */
  rollups?: boolean;
  /** false: read the per-unit rollups even where the per-variant statistics apply (the equality test's reference). */
  variantStats?: boolean;
}

/**
 * Means and sample (ddof = 1) variances / covariances of the per-unit values, computed in SQL by avg / var_samp /
 * covar_samp over the per-unit rows. PostgreSQL (≥ 12) accumulates these over float8 with the Youngs–Cramer
 * algorithm, so values like 1e9 ± 1 keep their spread; the naive (Σy² − (Σy)²/n)/(n − 1) from `sumSquares` loses
 * every digit there. Variances are 0 when units < 2.
 */
export interface MetricMoments {
  meanY: number;
  varianceY: number;
  /** ratio / mean metrics: the denominator D */
  meanD?: number;
  varianceD?: number;
  covarianceYD?: number;
  /** ratio / mean metrics: var_samp(Y − R·D) with R = ΣY/ΣD of the variant (the stable delta-method bracket) */
  linearizedVariance?: number;
  /** with `cuped`: the covariate X */
  meanX?: number;
  varianceX?: number;
  covarianceYX?: number;
}

/**
 * Per-variant sufficient statistics of the per-unit metric values: everything a Welch test, the delta method
 * (ratio / mean metrics) and CUPED need, as sums over units. With `n = units` and Y the unit value:
 * mean = sum / n, sample variance = (sumSquares − sum² / n) / (n − 1), and likewise for cross products.
 */
export interface MetricAggregate {
  variant: string;
  /** Units exposed to this variant only (units exposed to several variants are excluded). */
  units: number;
  /** Σ Y and Σ Y². For ratio metrics Y is the numerator; for mean metrics the sum of event values. */
  sum: number;
  sumSquares: number;
  /** Ratio and mean metrics: the denominator D (ratio: Σ of denominator events; mean: the unit's event count). */
  denominator?: { sum: number; sumSquares: number; /** Σ Y·D */ crossProducts: number };
  /** With `cuped`: the pre-exposure covariate X, the same metric (numerator for ratio / mean) in the look-back. */
  covariate?: {
    sum: number;
    sumSquares: number;
    /** Σ Y·X */
    crossProducts: number;
    /** Ratio and mean metrics: the pre-exposure denominator XD and the remaining cross products. */
    denominator?: {
      sum: number;
      sumSquares: number;
      /** Σ X·XD */ crossCovariate: number;
      /** Σ Y·XD */ crossValue: number;
      /** Σ D·X */ crossDenominatorCovariate: number;
      /** Σ D·XD */ crossDenominator: number;
    };
  };
  /** With `moments`: numerically stable means and centred second moments (see MetricMoments). */
  moments?: MetricMoments;
}

/** The default for a metric key without a definition: the sum of its events, no window, no capping. */
export function defaultMetricSpec(key: string): MetricSpec {
  return {
    key,
    type: 'sum',
    numerator: key,
    denominator: null,
    conversionWindowSeconds: null,
    capping: null,
    cupedLookbackDays: 14,
  };
}

export function metricSpecOf(
  d: Pick<
    MetricDefinitionView,
    'key' | 'type' | 'event' | 'numerator' | 'denominator' | 'conversionWindowSeconds' | 'capping' | 'cupedLookbackDays'
  >,
): MetricSpec {
  return {
    key: d.key,
    type: d.type,
    numerator: d.type === 'ratio' ? d.numerator! : (d.event ?? d.key),
    denominator: d.type === 'ratio' ? d.denominator! : null,
    conversionWindowSeconds: d.conversionWindowSeconds,
    capping: d.type === 'binary' ? null : d.capping,
    cupedLookbackDays: d.cupedLookbackDays,
  };
}

type Raw = Record<string, number | string | null>;
const num = (v: number | string | null): number => (v === null ? 0 : Number(v));

/**
 * Per-unit metric values computed IN SQL and aggregated per variant; no event row ever reaches Node.
 *
 * A unit's value is computed over its events of the metric's event key with `first exposure ≤ ts < until`,
 * where `until` = the earliest of first exposure + conversion window, the phase's end, the experiment's stop,
 * and the query's `to`:
 * - `sum`: Σ values (0 when none); `binary`: 1 if any event, else 0;
 * - `mean`: numerator Σ values, denominator the event count (the report takes Σnum/Σden by the delta method);
 * - `ratio`: numerator Σ numerator-event values, denominator Σ denominator-event values.
 * Capping: `fixed` → min(value, cap); `percentile` p → min(value, the p-quantile of all included units' values,
 * pooled over variants, zeros included, linear interpolation as percentile_cont). Units seen in more than one
 * variant in the phase are excluded. CUPED covariate: the same computation over
 * `first exposure − lookback ≤ ts < first exposure` (capped by the same rule; a percentile cap uses the
 * covariate's own quantile).
 *
 * Plan at 1,000,000 units / 10,000,000 events: the phase's exposures come from the exposures primary key
 * (experiment_id, phase, unit_id, variant) in unit order, grouped per unit; each unit's events come from
 * events_metric_unit_ts (metric, unit_id, ts) INCLUDE (value), an index-only range per (metric, unit), or a
 * merge join over the metric's range of the index.
 */
@Injectable()
export class MetricValuesRepository {
  constructor(
    private readonly db: DataSource,
    @Optional() private readonly rollups?: UnitRollupsRepository,
  ) {}

  /**
   * Whether the per-unit rollups can stand in for the raw events: they hold each unit's events from first exposure
   * on with no upper bound and no look-back, so the metric must have no conversion window, the query no `to` and
   * no CUPED, and the phase must still be open (no end, experiment not stopped).
   */
  private async useRollups(q: MetricValuesQuery, cuped: number): Promise<boolean> {
    if (!this.rollups || q.rollups === false || cuped || q.to || q.metric.conversionWindowSeconds !== null)
      return false;
    return this.rollups.phaseOpen(q.experimentId, q.phase);
  }

  /** The metric's definition, or the default (sum of its events) for a key without one. `reward` is the rank module's. */
  async resolveMetric(key: string): Promise<MetricSpec> {
    if (key === 'reward') throw new RangeError('"reward" is computed from rewards by the rank module, not from events');
    const rows: Array<Parameters<typeof metricSpecOf>[0] & Record<string, unknown>> = await this.db.query(
      `SELECT key, type, event, numerator, denominator, conversion_window_seconds AS "conversionWindowSeconds", capping, cuped_lookback_days AS "cupedLookbackDays"
       FROM metric_definitions WHERE key = $1`,
      [key],
    );
    return rows.length ? metricSpecOf(rows[0]) : defaultMetricSpec(key);
  }

  /**
   * The aggregate from the per-variant sufficient statistics (variant_metric_stats, variant_exposure_stats; migration
   * ReportVariantStats1766200000000), O(variants) rows whatever the volume. Used, after draining the rollup queue,
   * where the rollups apply (see useRollups) and the metric is `sum`, `binary` or `mean` with no capping, and the
   * query has no `from` and no `segment`; everything else (ratio metrics: their Σ numerator·denominator crosses two
   * event metrics; capping: a fixed cap is not additive over unit sums, a percentile one needs the units' quantile;
   * filters on units) reads the per-unit rollups or the raw events.
   *
   * The sums are exact decimals (numeric) of the per-unit float8 values, rounded once to float8 here; the per-unit
   * path adds float8s in (variant, unit) order, so the two agree to rounding (≈ 1e-15 relative), not bit for bit.
   * Moments use the exact sums, so the textbook formulas lose nothing (the cancellation Youngs–Cramer avoids in
   * float8 does not occur): var_samp = (n·Σy² − (Σy)²) / (n·(n − 1)), covar_samp = (n·Σyd − Σy·Σd) / (n·(n − 1)),
   * and with R = Σy / Σd, var_samp(y − R·d) = ((Σd)²·Σy² − 2·Σy·Σd·Σyd + (Σy)²·Σd²) / ((Σd)²·(n − 1)), since
   * Σ(y − R·d) = 0 exactly. Each is one numeric division (≥ 16 significant digits), then rounded to float8.
   */
  private async fromVariantStats(q: MetricValuesQuery): Promise<MetricAggregate[]> {
    const m = q.metric;
    // y: the unit value; binary: 1 for units with an event (the rows of the metric's rollups), so Σy = Σy² = units
    const [Y, YY] = m.type === 'binary' ? ['k', 'k'] : ['sy', 'syy'];
    const variance = (a: string, b: string, ab: string) =>
      `CASE WHEN n > 1 THEN ((n * ${ab} - ${a} * ${b}) / (n * (n - 1)))::float8 END`;
    const cols = [
      `${Y}::float8 AS s_y`,
      `${YY}::float8 AS s_yy`,
      `(${Y} / n)::float8 AS m_y`,
      `${variance(Y, Y, YY)} AS v_y`,
    ];
    if (m.type === 'mean')
      cols.push(
        `sd::float8 AS s_d`,
        `sdd::float8 AS s_dd`,
        `syd::float8 AS s_yd`,
        `(sd / n)::float8 AS m_d`,
        `${variance('sd', 'sd', 'sdd')} AS v_d`,
        `${variance('sy', 'sd', 'syd')} AS c_yd`,
        `CASE WHEN n > 1 AND sd <> 0 THEN ((sd * sd * syy - 2 * sy * sd * syd + sy * sy * sdd) / (sd * sd * (n - 1)))::float8 END AS v_lin`,
      );
    const rows: Raw[] = await this.db.query(
      `SELECT variant, units, ${cols.join(', ')}
       FROM (
         SELECT x.variant, x.units::int AS units, x.units::numeric AS n, COALESCE(s.units, 0)::numeric AS k,
                COALESCE(s.value_sum, 0) AS sy, COALESCE(s.value_squares, 0) AS syy, COALESCE(s.count_sum, 0) AS sd,
                COALESCE(s.count_squares, 0) AS sdd, COALESCE(s.value_count_products, 0) AS syd
         FROM variant_exposure_stats x
         LEFT JOIN variant_metric_stats s ON s.experiment_id = x.experiment_id AND s.phase = x.phase AND s.metric = $3 AND s.variant = x.variant
         WHERE x.experiment_id = $1 AND x.phase = $2 AND x.units > 0
       ) v ORDER BY variant`,
      [q.experimentId, q.phase, m.numerator],
    );
    return rows.map((r) => aggregateOf(r, m.type === 'mean', false, q.moments === true));
  }

  async aggregate(q: MetricValuesQuery): Promise<MetricAggregate[]> {
    const m = q.metric;
    const twoPart = m.type === 'ratio' || m.type === 'mean';
    const cuped = q.cuped ? (typeof q.cuped === 'object' ? q.cuped.lookbackDays : m.cupedLookbackDays) : 0;
    const params: unknown[] = [];
    /** Bind a value, returning its placeholder (only bound values appear in the statement). */
    const $ = (value: unknown, type: string): string => {
      params.push(value);
      return `$${params.length}::${type}`;
    };
    const numerator = $(m.numerator, 'text');
    const denominator = m.type === 'ratio' ? $(m.denominator, 'text') : 'NULL';
    const windowSeconds = $(m.conversionWindowSeconds, 'float8');
    const rollup = await this.useRollups(q, cuped);
    // Every write committed before this call is then in the rollups (bounded batches, usually already done).
    if (rollup) await this.rollups!.drain();
    if (rollup && q.variantStats !== false && !q.from && !q.segment && !m.capping && m.type !== 'ratio')
      return this.fromVariantStats(q);
    const post = `ev.ts >= w.first_at`;
    const pre = `ev.ts < w.first_at`;
    const valueOf = (when: string) =>
      m.type === 'binary'
        ? `(CASE WHEN count(ev.ts) FILTER (WHERE ev.metric = ${numerator} AND ${when}) > 0 THEN 1 ELSE 0 END)::float8`
        : `COALESCE(sum(ev.value ORDER BY ev.ts, ev.value) FILTER (WHERE ev.metric = ${numerator} AND ${when}), 0)::float8`;
    const denominatorOf = (when: string) =>
      m.type === 'mean'
        ? `count(ev.ts) FILTER (WHERE ev.metric = ${numerator} AND ${when})::float8`
        : `COALESCE(sum(ev.value ORDER BY ev.ts, ev.value) FILTER (WHERE ev.metric = ${denominator} AND ${when}), 0)::float8`;

    const unitCols = [`${valueOf(post)} AS y`];
    if (twoPart) unitCols.push(`${denominatorOf(post)} AS d`);
    if (cuped) {
      unitCols.push(`${valueOf(pre)} AS xc`);
      if (twoPart) unitCols.push(`${denominatorOf(pre)} AS xd`);
    }
    // The same per-unit values from the rollups (Σ value in the same (ts, value) order, and the count).
    const rollupCols = [
      m.type === 'binary'
        ? `(CASE WHEN COALESCE(rn.event_count, 0) > 0 THEN 1 ELSE 0 END)::float8 AS y`
        : `COALESCE(rn.value_sum, 0)::float8 AS y`,
    ];
    if (m.type === 'mean') rollupCols.push(`COALESCE(rn.event_count, 0)::float8 AS d`);
    if (m.type === 'ratio') rollupCols.push(`COALESCE(rd.value_sum, 0)::float8 AS d`);

    let capped = 'SELECT * FROM u';
    if (m.capping?.type === 'fixed') {
      const cap = $(m.capping.value, 'float8');
      capped = `SELECT variant, unit_id, LEAST(y, ${cap}) AS y${twoPart ? ', d' : ''}${cuped ? `, LEAST(xc, ${cap}) AS xc` : ''}${cuped && twoPart ? ', xd' : ''} FROM u`;
    } else if (m.capping?.type === 'percentile') {
      const p = $(m.capping.percentile, 'float8');
      capped = `SELECT variant, unit_id, LEAST(y, caps.cy) AS y${twoPart ? ', d' : ''}${cuped ? ', LEAST(xc, caps.cx) AS xc' : ''}${cuped && twoPart ? ', xd' : ''}
        FROM u CROSS JOIN (SELECT percentile_cont(${p}) WITHIN GROUP (ORDER BY y) AS cy${cuped ? `, percentile_cont(${p}) WITHIN GROUP (ORDER BY xc) AS cx` : ''} FROM u) caps`;
    }

    const out = [`variant`, `count(*)::int AS units`, `sum(y) AS s_y`, `sum(y * y) AS s_yy`];
    if (twoPart) out.push(`sum(d) AS s_d`, `sum(d * d) AS s_dd`, `sum(y * d) AS s_yd`);
    if (cuped) out.push(`sum(xc) AS s_x`, `sum(xc * xc) AS s_xx`, `sum(y * xc) AS s_yx`);
    if (cuped && twoPart)
      out.push(
        `sum(xd) AS s_xd`,
        `sum(xd * xd) AS s_xdxd`,
        `sum(xc * xd) AS s_xxd`,
        `sum(y * xd) AS s_yxd`,
        `sum(d * xc) AS s_dx`,
        `sum(d * xd) AS s_dxd`,
      );
    if (q.moments) {
      out.push(`avg(y) AS m_y`, `var_samp(y) AS v_y`);
      // r: the variant's ratio ΣY/ΣD (a window over the variant), so var_samp(y − r·d) is the delta-method bracket
      // σ²_Y − 2Rσ_YD + R²σ²_D without its cancellation when Y ≈ R·D per unit
      if (twoPart)
        out.push(`avg(d) AS m_d`, `var_samp(d) AS v_d`, `covar_samp(y, d) AS c_yd`, `var_samp(y - r * d) AS v_lin`);
      if (cuped) out.push(`avg(xc) AS m_x`, `var_samp(xc) AS v_x`, `covar_samp(y, xc) AS c_yx`);
    }

    const scope = rollup ? { e: $(q.experimentId, 'uuid'), phase: $(q.phase, 'int') } : null;
    const units = scope
      ? `SELECT w.variant, w.unit_id, ${rollupCols.join(', ')}
        FROM w LEFT JOIN unit_metric_rollups rn
          ON rn.experiment_id = ${scope.e} AND rn.phase = ${scope.phase} AND rn.metric = ${numerator} AND rn.variant = w.variant AND rn.unit_id = w.unit_id
        ${m.type === 'ratio' ? `LEFT JOIN unit_metric_rollups rd ON rd.experiment_id = ${scope.e} AND rd.phase = ${scope.phase} AND rd.metric = ${denominator} AND rd.variant = w.variant AND rd.unit_id = w.unit_id` : ''}`
      : `SELECT w.variant, w.unit_id, ${unitCols.join(', ')}
        FROM w LEFT JOIN events ev
          ON ev.metric = ANY(${$(m.type === 'ratio' ? [m.numerator, m.denominator] : [m.numerator], 'text[]')}) AND ev.unit_id = w.unit_id
         AND ev.ts >= w.first_at - make_interval(secs => ${$(cuped * 86_400, 'float8')}) AND ev.ts < w.until
        GROUP BY w.variant, w.unit_id`;
    // Float sums depend on the order of their terms: every aggregate over units reads them in (variant, unit) order
    // in the "C" collation (the window too), so the figures are the same whichever plan or source (raw events or
    // rollups) produced the rows. From the rollups that order comes from the indexes (a merge join of the exposure
    // and metric rollups, no sort); from the raw tables it is a sort.
    const sql = `
      WITH ${exposedUnitsCtes($, { ...q, rollups: rollup }, windowSeconds)},
      u AS (${units}),
      c AS (${capped})${
        q.moments && twoPart
          ? `,
      cr AS (
        SELECT c.*, sum(y) OVER v / NULLIF(sum(d) OVER v, 0) AS r FROM c
        WINDOW v AS (PARTITION BY variant ORDER BY unit_id COLLATE "C" ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
      )`
          : ''
      }
      SELECT ${out.join(', ')} FROM (SELECT * FROM ${q.moments && twoPart ? 'cr' : 'c'} ORDER BY variant COLLATE "C", unit_id COLLATE "C") o GROUP BY variant ORDER BY variant COLLATE "C"`;
    const rows: Raw[] = await this.db.query(sql, params);
    return rows.map((r) => aggregateOf(r, twoPart, cuped > 0, q.moments === true));
  }
}

/**
 * A result row of the aggregate SQL (columns s_y, s_yy, s_d …; m_y, v_y … with moments) as a MetricAggregate; both
 * the per-unit and the per-variant-statistics statements name their columns so.
 */
function aggregateOf(r: Raw, twoPart: boolean, cuped: boolean, moments: boolean): MetricAggregate {
  const a: MetricAggregate = {
    variant: String(r.variant),
    units: num(r.units),
    sum: num(r.s_y),
    sumSquares: num(r.s_yy),
  };
  if (twoPart) a.denominator = { sum: num(r.s_d), sumSquares: num(r.s_dd), crossProducts: num(r.s_yd) };
  if (cuped) {
    a.covariate = { sum: num(r.s_x), sumSquares: num(r.s_xx), crossProducts: num(r.s_yx) };
    if (twoPart) {
      a.covariate.denominator = {
        sum: num(r.s_xd),
        sumSquares: num(r.s_xdxd),
        crossCovariate: num(r.s_xxd),
        crossValue: num(r.s_yxd),
        crossDenominatorCovariate: num(r.s_dx),
        crossDenominator: num(r.s_dxd),
      };
    }
  }
  if (moments) {
    a.moments = { meanY: num(r.m_y), varianceY: num(r.v_y) };
    if (twoPart)
      Object.assign(a.moments, {
        meanD: num(r.m_d),
        varianceD: num(r.v_d),
        covarianceYD: num(r.c_yd),
        linearizedVariance: num(r.v_lin),
      });
    if (cuped) Object.assign(a.moments, { meanX: num(r.m_x), varianceX: num(r.v_x), covarianceYX: num(r.c_yx) });
  }
  return a;
}
