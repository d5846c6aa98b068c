/** Binds a value as a query parameter and returns its placeholder, e.g. `$3::uuid`. */
export type Bind = (value: unknown, type: string) => string;

export interface ExposedUnitsScope {
  experimentId: string;
  phase: number;
  from?: Date;
  to?: Date;
  segment?: { attribute: string; value: string | number | boolean };
  /** Ranking experiments: take units from the decision log when the phase has no exposures. */
  decisionsFallback?: boolean;
  /**
   * Read `x` from unit_exposure_rollups (drained first by the caller) instead of grouping the raw exposures: the
   * same rows, keyed in the "C" collation and readable in (variant, unit) order from its index.
   */
  rollups?: boolean;
}

/**
 * The analysed units of an experiment phase, as CTEs shared by the metric values and the report:
 * `bounds` (end of the analysis: phase end, experiment stop, `to`), `x` (one row per unit seen in exactly one
 * variant of the phase, with its first exposure time and attributes; from the raw exposures or their rollups) and `w` (x after the from / to / segment
 * filters, with `until`, the end of the unit's counting window of `windowSeconds` after its first exposure).
 */
export function exposedUnitsCtes(bind: Bind, s: ExposedUnitsScope, windowSeconds = 'NULL::float8'): string {
  const e = bind(s.experimentId, 'uuid');
  const phase = bind(s.phase, 'int');
  const to = s.to ? bind(s.to.toISOString(), 'timestamptz') : null;
  const from = s.from ? bind(s.from.toISOString(), 'timestamptz') : null;
  const segment = s.segment
    ? `AND x.attributes ->> ${bind(s.segment.attribute, 'text')} = ${bind(String(s.segment.value), 'text')}`
    : '';
  // In rollup mode x's keys are in the "C" collation; the fallback's rows are given it too (a union of two
  // collations has none, and the report's joins with the rollups need one).
  const c = s.rollups ? ' COLLATE "C"' : '';
  const fallback = s.decisionsFallback
    ? `UNION ALL
         SELECT unit_id${c} AS unit_id, min(variant_key)${c} AS variant, min(created_at) AS first_at, NULL::jsonb AS attributes
         FROM decisions
         WHERE experiment_id = ${e} AND unit_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM exposures WHERE experiment_id = ${e} AND phase = ${phase})
         GROUP BY unit_id HAVING count(DISTINCT variant_key) = 1`
    : '';
  return `
      bounds AS (
        SELECT COALESCE(LEAST(p.ended_at, e.stopped_at${to ? `, ${to}` : ''}), 'infinity'::timestamptz) AS end_at
        FROM experiments e LEFT JOIN experiment_phases p ON p.experiment_id = e.id AND p.phase = ${phase}
        WHERE e.id = ${e}
      ),
      x AS (
        ${
          s.rollups
            ? `SELECT unit_id, variant, first_at, attributes FROM unit_exposure_rollups WHERE experiment_id = ${e} AND phase = ${phase} AND variant IS NOT NULL`
            : `SELECT unit_id, min(variant) AS variant, min(first_at) AS first_at, (array_agg(attributes))[1] AS attributes
        FROM exposures WHERE experiment_id = ${e} AND phase = ${phase}
        GROUP BY unit_id HAVING count(*) = 1`
        }
        ${fallback}
      ),
      w AS (
        SELECT x.unit_id, x.variant, x.first_at,
               COALESCE(LEAST(x.first_at + make_interval(secs => ${windowSeconds}), b.end_at), 'infinity'::timestamptz) AS until
        FROM x CROSS JOIN bounds b
        WHERE true ${from ? `AND x.first_at >= ${from}` : ''} ${to ? `AND x.first_at < ${to}` : ''} ${segment}
      )`;
}
