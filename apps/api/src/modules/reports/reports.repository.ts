import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { exposedUnitsCtes } from '../ab/exposed-units.sql';
import { UnitRollupsRepository } from '../ab/unit-rollups.repository';
import type { MetricAggregate, MetricMoments, MetricSpec } from '../ab/metric-values.repository';

/**
 * Rank's reward reaches a unit's metric value up to this long BEFORE its first exposure time: exposures are stamped
 * by the API process's clock and decisions by the database's, so a unit's first decision can carry an earlier
 * timestamp than its exposure by the clock skew between the two. (A unit's decisions never precede its exposure:
 * rank logs the exposure, awaited, before it writes the decision.)
 */
export const REWARD_SKEW_SECONDS = 60;

export interface PhaseInfo {
  phase: number;
  weights: Record<string, number>;
  startedAt: Date;
  endedAt: Date | null;
}

export interface Population {
  /** Units per variant, units seen in several variants left out (all units of the phase, no filters). */
  unitsPerVariant: Record<string, number>;
  multipleExposures: number;
  /** First and last first-exposure times of the analysed units (null when none). */
  firstAt: Date | null;
  lastAt: Date | null;
  /** Where the units came from: the exposure log, or (ranking experiments without exposures) the decision log. */
  source: 'exposures' | 'decisions' | 'none';
}

export interface UnitsScope {
  experimentId: string;
  phase: number;
  /** Ranking experiments: take units from the decision log when the phase has no exposures. */
  decisionsFallback: boolean;
  from?: Date;
  to?: Date;
  segment?: { attribute: string; value: string };
}

/**
 * A variant's statistics as of the end of time-series bucket k (index since `start`), cumulative over buckets 0…k.
 * Present only for buckets in which something changed for the variant (a unit entered or a value changed).
 */
export interface SeriesPoint {
  variant: string;
  k: number;
  units: number;
  /** Σ Y and (ratio / mean metrics) Σ D over the variant's units */
  sum: number;
  denominatorSum: number;
  /** means and centred (co)variances of Y and D (ddof = 1; 0 when units < 2) */
  moments: MetricMoments;
}

/** Aggregates with the numerically stable moments the statistics use. */
export type MomentAggregate = MetricAggregate & { moments: MetricMoments };

export interface ExplorationDay {
  variant: string;
  k: number;
  decisions: number;
  slots: number;
  explored: number;
  cold: number;
}

/** One item's share of one day's shown slots (day index k since `start`). */
export interface SelectionShareDay {
  k: number;
  itemId: string;
  slots: number;
  share: number;
}

export interface CachedReport {
  report: Record<string, unknown>;
  generatedAt: Date;
  computeMs: number;
}

type Raw = Record<string, string | number | null | Date>;
const n = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Bind helper: pushes a value and returns its typed placeholder. */
class Params {
  readonly values: unknown[] = [];
  $(value: unknown, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }
}

/**
 * The report's own SQL: units of a phase (exposures, or the decision log for ranking experiments without
 * exposures), the built-in `reward` / `reward_rate` metrics of ranking experiments, per-day deltas of the sufficient
 * statistics for the time series, per-day exploration figures, and the report cache. Event metrics of the report
 * itself come from the A/B engine's MetricValuesRepository. Nothing here returns a row per unit or per event.
 */
@Injectable()
export class ReportsRepository {
  constructor(
    private readonly db: DataSource,
    private readonly rollups: UnitRollupsRepository,
  ) {}

  async phases(experimentId: string): Promise<PhaseInfo[]> {
    const rows: Array<{ phase: number; weights: Record<string, number>; started_at: Date; ended_at: Date | null }> =
      await this.db.query(
        `SELECT phase, weights, started_at, ended_at FROM experiment_phases WHERE experiment_id = $1 ORDER BY phase`,
        [experimentId],
      );
    return rows.map((r) => ({
      phase: r.phase,
      weights: r.weights,
      startedAt: new Date(r.started_at),
      endedAt: r.ended_at ? new Date(r.ended_at) : null,
    }));
  }

  /** The analysed units of the phase (see exposedUnitsCtes). */
  private unitsSql(p: Params, s: UnitsScope, windowSeconds = 'NULL::float8'): string {
    return exposedUnitsCtes((value, type) => p.$(value, type), s, windowSeconds);
  }

  /**
   * Health of the phase's assignment: units per variant, multiple exposures, first / last exposure time. Read, after
   * draining the rollup queue, from the per-variant unit counts (variant_exposure_stats) and two partial indexes of
   * the exposure rollups (ReportVariantStats1766200000000), O(variants) whatever the volume; unless `rollups` is
   * false (the raw exposures grouped per unit: the equality test's reference).
   */
  async population(
    experimentId: string,
    phase: number,
    decisionsFallback: boolean,
    rollups = true,
  ): Promise<Population> {
    const perUnit = rollups
      ? null
      : `SELECT CASE WHEN count(*) = 1 THEN min(variant) END AS variant, min(first_at) AS first_at
         FROM exposures WHERE experiment_id = $1 AND phase = $2 GROUP BY unit_id`;
    let rows: Raw[] = [];
    if (rollups) {
      await this.rollups.drain();
      // Three statements, not scalar subqueries: Citus refuses a subquery over a distributed table in a target list.
      const variants: Raw[] = await this.db.query(
        `SELECT variant COLLATE "default" AS variant, units::int AS units FROM variant_exposure_stats WHERE experiment_id = $1 AND phase = $2 AND units > 0`,
        [experimentId, phase],
      );
      const [span]: Raw[] = await this.db.query(
        `SELECT min(first_at) AS first_at, max(first_at) AS last_at FROM unit_exposure_rollups WHERE experiment_id = $1 AND phase = $2 AND variant IS NOT NULL`,
        [experimentId, phase],
      );
      const [{ multiple }]: Array<{ multiple: number }> = await this.db.query(
        `SELECT count(*)::int AS multiple FROM unit_exposure_rollups WHERE experiment_id = $1 AND phase = $2 AND variant IS NULL`,
        [experimentId, phase],
      );
      rows = variants.map((v) => ({ ...v, source: 'exposures', first_at: span.first_at, last_at: span.last_at }));
      if (multiple) rows.push({ variant: null, source: 'exposures', units: multiple });
    }
    if (perUnit || (decisionsFallback && !rows.length)) {
      rows = rows.concat(
        await this.db.query(
          `WITH per_unit AS (${perUnit ?? 'SELECT NULL::text AS variant, NULL::timestamptz AS first_at WHERE false'}),
           from_decisions AS (
             SELECT CASE WHEN count(DISTINCT variant_key) = 1 THEN min(variant_key) END AS variant, min(created_at) AS first_at
             FROM decisions
             WHERE $3 AND experiment_id = $1 AND unit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM exposures WHERE experiment_id = $1 AND phase = $2)
             GROUP BY unit_id
           ),
           u AS (SELECT *, 'exposures' AS source FROM per_unit UNION ALL SELECT *, 'decisions' AS source FROM from_decisions)
           SELECT variant, source, count(*)::int AS units, min(first_at) AS first_at, max(first_at) AS last_at FROM u GROUP BY variant, source`,
          [experimentId, phase, decisionsFallback],
        ),
      );
    }
    const out: Population = { unitsPerVariant: {}, multipleExposures: 0, firstAt: null, lastAt: null, source: 'none' };
    for (const r of rows) {
      out.source = r.source as Population['source'];
      if (r.variant === null) {
        out.multipleExposures += n(r.units);
        continue;
      }
      out.unitsPerVariant[String(r.variant)] = n(r.units);
      const first = new Date(r.first_at as Date);
      const last = new Date(r.last_at as Date);
      if (!out.firstAt || first < out.firstAt) out.firstAt = first;
      if (!out.lastAt || last > out.lastAt) out.lastAt = last;
    }
    return out;
  }

  /**
   * Per-unit sources of the built-in ranking metrics: one row per decision of the experiment with a unit, its
   * variant, time and reward (Σ of its slots' reward totals).
   */
  private decisionsSql(p: Params, experimentId: string): string {
    const e = p.$(experimentId, 'uuid');
    return `
      dv AS (
        SELECT d.unit_id, d.variant_key, d.created_at AS ts, COALESCE(s.r, 0)::float8 AS r
        FROM decisions d
        LEFT JOIN (SELECT decision_id, sum(reward) AS r FROM decision_slots WHERE experiment_id = ${e} GROUP BY decision_id) s ON s.decision_id = d.id
        WHERE d.experiment_id = ${e} AND d.unit_id IS NOT NULL
      )`;
  }

  /**
   * The built-in metrics of ranking experiments, per variant, in the shape of MetricValuesRepository.aggregate:
   * Y = the unit's reward (Σ over its decisions in the experiment, same variant, from first exposure on, of the
   * decision's slot rewards), D = the unit's number of decisions (the denominator of `reward_rate`).
   */
  async rewardAggregate(scope: UnitsScope): Promise<MomentAggregate[]> {
    const p = new Params();
    const skew = p.$(REWARD_SKEW_SECONDS, 'float8');
    const sql = `
      WITH ${this.unitsSql(p, scope)}, ${this.decisionsSql(p, scope.experimentId)},
      u AS (
        SELECT w.variant, COALESCE(sum(dv.r), 0)::float8 AS y, count(dv.unit_id)::float8 AS d
        FROM w LEFT JOIN dv ON dv.unit_id = w.unit_id AND dv.variant_key = w.variant
          AND dv.ts >= w.first_at - make_interval(secs => ${skew}) AND dv.ts < w.until
        GROUP BY w.variant, w.unit_id
      ),
      ur AS (SELECT u.*, sum(y) OVER v / NULLIF(sum(d) OVER v, 0) AS r FROM u WINDOW v AS (PARTITION BY variant))
      SELECT variant, count(*)::int AS units, sum(y) AS s_y, sum(y * y) AS s_yy, sum(d) AS s_d, sum(d * d) AS s_dd, sum(y * d) AS s_yd,
             avg(y) AS m_y, var_samp(y) AS v_y, avg(d) AS m_d, var_samp(d) AS v_d, covar_samp(y, d) AS c_yd, var_samp(y - r * d) AS v_lin
      FROM ur GROUP BY variant ORDER BY variant`;
    const rows: Raw[] = await this.db.query(sql, p.values);
    return rows.map((r) => ({
      variant: String(r.variant),
      units: n(r.units),
      sum: n(r.s_y),
      sumSquares: n(r.s_yy),
      denominator: { sum: n(r.s_d), sumSquares: n(r.s_dd), crossProducts: n(r.s_yd) },
      // var_samp / covar_samp over the per-unit rows (Youngs–Cramer): stable at any offset
      moments: {
        meanY: n(r.m_y),
        varianceY: n(r.v_y),
        meanD: n(r.m_d),
        varianceD: n(r.v_d),
        covarianceYD: n(r.c_yd),
        linearizedVariance: n(r.v_lin),
      },
    }));
  }

  /**
   * Cumulative per-variant statistics of a metric for the time series, per bucket of `bucketSeconds`: bucket k
   * covers [start + k·b, start + (k + 1)·b). A unit enters in its first-exposure bucket; its running value changes
   * only in buckets with events, so Σ Y² as of bucket K = Σ_{k ≤ K} Σ_units (f(r_k)² − f(r_{k−1})²) with r the
   * unit's running totals and f the metric's transform (binary, fixed cap). Those per-bucket deltas are summed in
   * `numeric` (exact for sums and products of float8 values) and accumulated over buckets by a window, and the
   * centred moments are formed from the exact sums as (n·ΣY² − (ΣY)²) / (n(n − 1)) — exact up to the final
   * division, so a metric of 1e9 ± 1 keeps its spread (float8 Σ y² − (Σ y)²/n would not). One row per (variant,
   * bucket) with a change; the caller carries a variant's last row forward.
   * `metric` is an event metric spec, or `reward` / `reward_rate` (then the decision log is the source).
   */
  async seriesPoints(
    scope: UnitsScope,
    metric: MetricSpec | 'reward' | 'reward_rate',
    start: Date,
    buckets: number,
    bucketSeconds: number,
  ): Promise<SeriesPoint[]> {
    const p = new Params();
    const isReward = metric === 'reward' || metric === 'reward_rate';
    const spec = isReward ? null : metric;
    const windowSeconds = spec ? p.$(spec.conversionWindowSeconds, 'float8') : 'NULL::float8';
    const units = this.unitsSql(p, scope, windowSeconds);
    const st = p.$(start.toISOString(), 'timestamptz');
    const width = p.$(bucketSeconds, 'float8');
    const dayOf = (col: string) => `floor(extract(epoch FROM (${col} - ${st})) / ${width})::int`;
    let source: string;
    if (isReward) {
      const skew = p.$(REWARD_SKEW_SECONDS, 'float8');
      source = `${this.decisionsSql(p, scope.experimentId)},
        inc AS (
          SELECT w.variant, w.unit_id, GREATEST(${dayOf('dv.ts')}, ${dayOf('w.first_at')}) AS k, sum(dv.r) AS y, count(*)::float8 AS c, NULL::float8 AS d
          FROM w JOIN dv ON dv.unit_id = w.unit_id AND dv.variant_key = w.variant
            AND dv.ts >= w.first_at - make_interval(secs => ${skew}) AND dv.ts < w.until
          GROUP BY 1, 2, 3
        )`;
    } else {
      const num = p.$(spec!.numerator, 'text');
      const den = spec!.type === 'ratio' ? p.$(spec!.denominator, 'text') : 'NULL::text';
      const keys = p.$(spec!.type === 'ratio' ? [spec!.numerator, spec!.denominator] : [spec!.numerator], 'text[]');
      source = `
        inc AS (
          SELECT w.variant, w.unit_id, ${dayOf('ev.ts')} AS k,
                 sum(ev.value) FILTER (WHERE ev.metric = ${num}) AS y,
                 count(*) FILTER (WHERE ev.metric = ${num})::float8 AS c,
                 sum(ev.value) FILTER (WHERE ev.metric = ${den}) AS d
          FROM w JOIN events ev ON ev.metric = ANY(${keys}) AND ev.unit_id = w.unit_id AND ev.ts >= w.first_at AND ev.ts < w.until
          GROUP BY 1, 2, 3
        )`;
    }
    const type = metric === 'reward' ? 'sum' : metric === 'reward_rate' ? 'mean' : spec!.type;
    const capping = spec?.capping ?? null;
    let capJoin = '';
    let cap = (v: string) => v;
    if (capping?.type === 'fixed') {
      const c = p.$(capping.value, 'float8');
      cap = (v) => `LEAST(${v}, ${c})`;
    } else if (capping?.type === 'percentile') {
      const q = p.$(capping.percentile, 'float8');
      // the cap of the whole window (as the report computes it), applied to every day
      capJoin = `CROSS JOIN (SELECT percentile_cont(${q}) WITHIN GROUP (ORDER BY COALESCE(t.y, 0)) AS cy
                 FROM w LEFT JOIN (SELECT unit_id, sum(y) AS y FROM inc GROUP BY unit_id) t USING (unit_id)) caps`;
      cap = (v) => `LEAST(${v}, caps.cy)`;
    }
    const fy = type === 'binary' ? `CASE WHEN r.rc > 0 THEN 1 ELSE 0 END::float8` : cap(`COALESCE(r.ry, 0)`);
    const fd = type === 'ratio' ? `COALESCE(r.rd, 0)` : type === 'mean' ? `COALESCE(r.rc, 0)` : `0::float8`;
    const last = p.$(buckets - 1, 'int');
    const sql = `
      WITH ${units}, ${source},
      r AS (
        SELECT variant, unit_id, k,
               sum(y) OVER u AS ry, sum(c) OVER u AS rc, sum(d) OVER u AS rd
        FROM inc WHERE k <= ${last} WINDOW u AS (PARTITION BY unit_id ORDER BY k)
      ),
      f AS (SELECT r.variant, r.unit_id, r.k, ${fy} AS fy, ${fd} AS fd FROM r ${capJoin}),
      l AS (
        SELECT variant, k, fy, fd, COALESCE(lag(fy) OVER u, 0) AS py, COALESCE(lag(fd) OVER u, 0) AS pd
        FROM f WINDOW u AS (PARTITION BY unit_id ORDER BY k)
      ),
      deltas AS (
        SELECT variant, k, 0 AS units, sum(fy::numeric - py::numeric) AS s_y, sum(fy::numeric * fy::numeric - py::numeric * py::numeric) AS s_yy,
               sum(fd::numeric - pd::numeric) AS s_d, sum(fd::numeric * fd::numeric - pd::numeric * pd::numeric) AS s_dd,
               sum(fy::numeric * fd::numeric - py::numeric * pd::numeric) AS s_yd
        FROM l GROUP BY variant, k
      ),
      entries AS (
        SELECT variant, GREATEST(${dayOf('first_at')}, 0) AS k, count(*)::int AS units, 0::numeric AS s_y, 0::numeric AS s_yy, 0::numeric AS s_d, 0::numeric AS s_dd, 0::numeric AS s_yd
        FROM w WHERE ${dayOf('first_at')} <= ${last} GROUP BY 1, 2
      ),
      per_bucket AS (
        SELECT variant, k, sum(units)::numeric AS units, sum(s_y) AS s_y, sum(s_yy) AS s_yy, sum(s_d) AS s_d, sum(s_dd) AS s_dd, sum(s_yd) AS s_yd
        FROM (SELECT * FROM deltas UNION ALL SELECT * FROM entries) z GROUP BY variant, k
      ),
      cum AS (
        SELECT variant, k, sum(units) OVER v AS n, sum(s_y) OVER v AS sy, sum(s_yy) OVER v AS syy, sum(s_d) OVER v AS sd,
               sum(s_dd) OVER v AS sdd, sum(s_yd) OVER v AS syd
        FROM per_bucket WINDOW v AS (PARTITION BY variant ORDER BY k)
      )
      SELECT variant, k, n::int AS units, sy::float8 AS s_y, sd::float8 AS s_d,
             CASE WHEN n > 0 THEN (sy / n)::float8 END AS m_y, CASE WHEN n > 0 THEN (sd / n)::float8 END AS m_d,
             CASE WHEN n > 1 THEN ((n * syy - sy * sy) / (n * (n - 1)))::float8 END AS v_y,
             CASE WHEN n > 1 THEN ((n * sdd - sd * sd) / (n * (n - 1)))::float8 END AS v_d,
             CASE WHEN n > 1 THEN ((n * syd - sy * sd) / (n * (n - 1)))::float8 END AS c_yd,
             -- var(Y − R·D) with R = ΣY/ΣD, multiplied through by (ΣD)² so the numerator is exact
             CASE WHEN n > 1 AND sd <> 0 THEN ((syy * sd * sd - 2 * sy * syd * sd + sy * sy * sdd) / (sd * sd * (n - 1)))::float8 END AS v_lin
      FROM cum ORDER BY k, variant`;
    const rows: Raw[] = await this.db.query(sql, p.values);
    return rows.map((r) => ({
      variant: String(r.variant),
      k: n(r.k),
      units: n(r.units),
      sum: n(r.s_y),
      denominatorSum: n(r.s_d),
      moments: {
        meanY: n(r.m_y),
        varianceY: n(r.v_y),
        meanD: n(r.m_d),
        varianceD: n(r.v_d),
        covarianceYD: n(r.c_yd),
        linearizedVariance: n(r.v_lin),
      },
    }));
  }

  /** Decisions, slots, explored and cold-start slots per variant and bucket of `bucketSeconds` (ranking experiments). */
  async explorationByDay(
    experimentId: string,
    start: Date,
    buckets: number,
    bucketSeconds: number,
  ): Promise<ExplorationDay[]> {
    const rows: Raw[] = await this.db.query(
      `SELECT variant_key AS variant, floor(extract(epoch FROM (created_at - $2::timestamptz)) / $4::float8)::int AS k,
              count(DISTINCT decision_id)::int AS decisions, count(*)::int AS slots,
              count(*) FILTER (WHERE explored)::int AS explored, count(*) FILTER (WHERE cold_start)::int AS cold
       FROM decision_slots
       WHERE experiment_id = $1 AND created_at >= $2::timestamptz AND created_at < $2::timestamptz + make_interval(secs => $3::int * $4::float8)
       GROUP BY 1, 2 ORDER BY 2, 1`,
      [experimentId, start.toISOString(), buckets, bucketSeconds],
    );
    return rows.map((r) => ({
      variant: String(r.variant),
      k: n(r.k),
      decisions: n(r.decisions),
      slots: n(r.slots),
      explored: n(r.explored),
      cold: n(r.cold),
    }));
  }

  /**
   * Per bucket, the share of that bucket's shown slots (all variants) that went to each of the `top` items with the
   * most shown slots over the whole series (ties: item id). Same bucket bounds as explorationByDay.
   */
  async selectionShareByDay(
    experimentId: string,
    start: Date,
    buckets: number,
    bucketSeconds: number,
    top: number,
  ): Promise<SelectionShareDay[]> {
    const rows: Raw[] = await this.db.query(
      `WITH s AS (
         SELECT item_id, floor(extract(epoch FROM (created_at - $2::timestamptz)) / $5::float8)::int AS k
         FROM decision_slots
         WHERE experiment_id = $1 AND created_at >= $2::timestamptz AND created_at < $2::timestamptz + make_interval(secs => $3::int * $5::float8)),
       top AS (SELECT item_id FROM s GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT $4),
       totals AS (SELECT k, count(*)::int AS n FROM s GROUP BY k)
       SELECT s.k, s.item_id, count(*)::int AS slots, count(*)::float8 / t.n AS share
       FROM s JOIN top USING (item_id) JOIN totals t USING (k)
       GROUP BY s.k, s.item_id, t.n ORDER BY s.k, s.item_id`,
      [experimentId, start.toISOString(), buckets, top, bucketSeconds],
    );
    return rows.map((r) => ({ k: n(r.k), itemId: String(r.item_id), slots: n(r.slots), share: n(r.share) }));
  }

  // ---- cache --------------------------------------------------------------------------------------------------

  async cached(experimentId: string, optionsKey: string): Promise<CachedReport | null> {
    const rows: Array<{ report: Record<string, unknown>; generated_at: Date; compute_ms: number }> =
      await this.db.query(
        `UPDATE report_cache SET last_read_at = now() WHERE experiment_id = $1 AND options_key = $2 RETURNING report, generated_at, compute_ms`,
        [experimentId, optionsKey],
      );
    // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as unknown as Array<{
      report: Record<string, unknown>;
      generated_at: Date;
      compute_ms: number;
    }>;
    return list.length
      ? { report: list[0].report, generatedAt: new Date(list[0].generated_at), computeMs: Number(list[0].compute_ms) }
      : null;
  }

  async store(
    experimentId: string,
    optionsKey: string,
    options: unknown,
    report: unknown,
    generatedAt: Date,
    computeMs: number,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO report_cache (experiment_id, options_key, options, report, generated_at, compute_ms, last_read_at)
       VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, now())
       ON CONFLICT (experiment_id, options_key) DO UPDATE
         SET options = EXCLUDED.options, report = EXCLUDED.report, generated_at = EXCLUDED.generated_at, compute_ms = EXCLUDED.compute_ms
         WHERE report_cache.generated_at <= EXCLUDED.generated_at`,
      [experimentId, optionsKey, JSON.stringify(options), JSON.stringify(report), generatedAt.toISOString(), computeMs],
    );
  }

  /** Cached reports of running experiments older than `maxAgeMs` and read within `readWithinMs`, oldest first. */
  async stale(
    maxAgeMs: number,
    readWithinMs: number,
    limit: number,
  ): Promise<Array<{ experimentKey: string; options: Record<string, unknown> }>> {
    const rows: Array<{ key: string; options: Record<string, unknown> }> = await this.db.query(
      `SELECT e.key, c.options FROM report_cache c JOIN experiments e ON e.id = c.experiment_id
       WHERE e.status = 'running' AND c.generated_at < now() - make_interval(secs => $1::float8 / 1000)
         AND c.last_read_at > now() - make_interval(secs => $2::float8 / 1000)
       ORDER BY c.generated_at LIMIT $3`,
      [maxAgeMs, readWithinMs, limit],
    );
    return rows.map((r) => ({ experimentKey: r.key, options: r.options }));
  }

  /** Running experiments without a cached default report (the schedule computes one for each). */
  async runningWithoutDefault(defaultKey: string, limit: number): Promise<string[]> {
    const rows: Array<{ key: string }> = await this.db.query(
      `SELECT e.key FROM experiments e
       WHERE e.status = 'running' AND NOT EXISTS (SELECT 1 FROM report_cache c WHERE c.experiment_id = e.id AND c.options_key = $1)
       ORDER BY e.key LIMIT $2`,
      [defaultKey, limit],
    );
    return rows.map((r) => r.key);
  }

  /** Drop entries of experiments no longer running, and entries nobody read within `readWithinMs`. */
  async prune(readWithinMs: number): Promise<void> {
    await this.db.query(
      `DELETE FROM report_cache c USING experiments e
       WHERE e.id = c.experiment_id AND (e.status <> 'running' OR c.last_read_at < now() - make_interval(secs => $1::float8 / 1000))`,
      [readWithinMs],
    );
  }
}
