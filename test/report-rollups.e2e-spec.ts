import { createRng } from '@slotwise/bandit';
import { DataSource } from 'typeorm';
import { EventRetentionWorker, MetricValuesRepository, UnitRollupsRepository } from '../apps/api/src/modules/ab';
import type { MetricSpec, MetricValuesQuery } from '../apps/api/src/modules/ab';
import { ReportsRepository } from '../apps/api/src/modules/reports/reports.repository';
import { abExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * The report's per-unit rollups (unit_exposure_rollups, unit_metric_rollups) against the raw-table computation, on random data through the
 * HTTP API: every figure of every metric shape must be the same float64, bit for bit (toEqual compares with
 * Object.is). The per-variant statistics (variant_metric_stats, variant_exposure_stats) must equal, exactly as
 * decimals, their recomputation from the unit rollups and from the raw tables, and the report's figures from them
 * the per-unit figures to 1e-12 relative (exact sums rounded once against float8 sums). The values are random reals with full mantissas, so any difference in which events are counted or in
 * the order they are summed shows up. The data includes retried event batches (same eventIds), units exposed to
 * both variants, events before first exposure, equal timestamps and an exposure moved earlier after its events.
 */
/** Every number of `a` within `relative` of the same number in `b`; everything else (shapes, keys, strings) equal. */
function expectClose(a: unknown, b: unknown, relative: number, path = ''): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Math.abs(a - b) > relative * Math.max(Math.abs(a), Math.abs(b))) expect([path, a]).toEqual([path, b]);
  } else if (a && b && typeof a === 'object' && typeof b === 'object') {
    expect([path, Object.keys(a).sort()]).toEqual([path, Object.keys(b).sort()]);
    for (const k of Object.keys(a))
      expectClose((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], relative, `${path}.${k}`);
  } else expect([path, a]).toEqual([path, b]);
}

/**
 * Rollup figures against raw-table figures: the same float64s (toEqual, Object.is per number). On Citus each shard
 * sums its own units and the coordinator adds the shards' partial sums in an order that depends on the plan (the two
 * sources plan differently): the per-unit figures are the same floats, the totals over units agree to rounding only,
 * so there the shapes and counts must match and every number to 1e-12 relative.
 */
async function expectSameFigures(t: TestApp, fromRollups: unknown, raw: unknown): Promise<void> {
  const citus: unknown[] = await t.running.app
    .get(DataSource)
    .query(`SELECT 1 FROM pg_extension WHERE extname = 'citus'`);
  if (!citus.length) return expect(fromRollups).toEqual(raw);
  console.log(
    'on Citus: totals over units compared to 1e-12 relative, not bit for bit (shards add partial sums in plan order)',
  );
  expectClose(fromRollups, raw, 1e-12);
}

/**
 * The per-variant statistics (variant_metric_stats, variant_exposure_stats) as exact decimal text, next to the same
 * sums computed from scratch over `source` (compared as decimals: trim_scale drops trailing zeros): 'rollups' (the unit rollups) or 'raw' (the raw exposures and events
 * grouped per unit, each unit's float8 sum in the report's (ts, value) order). Numeric sums are exact, so the two
 * must be equal as text whatever order and history of batches maintained the statistics.
 */
async function variantStats(db: DataSource): Promise<{ metrics: unknown[]; exposures: unknown[] }> {
  return {
    metrics: await db.query(
      `SELECT experiment_id, phase, metric, variant, units::text, trim_scale(value_sum)::text AS value_sum,
              trim_scale(value_squares)::text AS value_squares, trim_scale(count_sum)::text AS count_sum,
              trim_scale(count_squares)::text AS count_squares, trim_scale(value_count_products)::text AS value_count_products
       FROM variant_metric_stats WHERE units <> 0 ORDER BY experiment_id, phase, metric, variant`,
    ),
    exposures: await db.query(
      `SELECT experiment_id, phase, variant, units::text FROM variant_exposure_stats WHERE units <> 0 ORDER BY experiment_id, phase, variant`,
    ),
  };
}
async function recomputedVariantStats(
  db: DataSource,
  source: 'rollups' | 'raw',
): Promise<{ metrics: unknown[]; exposures: unknown[] }> {
  const x =
    source === 'rollups'
      ? `SELECT unit_id COLLATE "default" AS unit_id, experiment_id, phase, variant COLLATE "default" AS variant, first_at FROM unit_exposure_rollups WHERE variant IS NOT NULL`
      : `SELECT unit_id, experiment_id, phase, min(variant) AS variant, min(first_at) AS first_at FROM exposures GROUP BY unit_id, experiment_id, phase HAVING count(*) = 1`;
  const perUnit =
    source === 'rollups'
      ? `SELECT experiment_id, phase, metric, variant COLLATE "default" AS variant, value_sum AS y, event_count AS c FROM unit_metric_rollups`
      : `SELECT x.experiment_id, x.phase, ev.metric, x.variant, sum(ev.value ORDER BY ev.ts, ev.value) AS y, count(*) AS c
         FROM x JOIN events ev ON ev.unit_id = x.unit_id AND ev.ts >= x.first_at GROUP BY x.experiment_id, x.phase, ev.metric, x.variant, x.unit_id`;
  return {
    metrics: await db.query(
      `WITH x AS (${x}), u AS (SELECT experiment_id, phase, metric, variant, y::text::numeric AS y, c::numeric AS c FROM (${perUnit}) p)
       SELECT experiment_id, phase, metric, variant, count(*)::text AS units, trim_scale(sum(y))::text AS value_sum,
              trim_scale(sum(y * y))::text AS value_squares, trim_scale(sum(c))::text AS count_sum,
              trim_scale(sum(c * c))::text AS count_squares,
              trim_scale(sum(y * c))::text AS value_count_products
       FROM u GROUP BY experiment_id, phase, metric, variant ORDER BY experiment_id, phase, metric, variant COLLATE "C"`,
    ),
    exposures: await db.query(
      `WITH x AS (${x}) SELECT experiment_id, phase, variant, count(*)::text AS units FROM x GROUP BY experiment_id, phase, variant ORDER BY experiment_id, phase, variant COLLATE "C"`,
    ),
  };
}

describe('report rollups equal the raw-table computation (random data)', () => {
  let t: TestApp;
  let metricValues: MetricValuesRepository;
  let experimentId: string;

  beforeAll(async () => {
    t = await startTestApp();
    metricValues = t.running.app.get(MetricValuesRepository);
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: abExperiment('rollups', { assignment: 'external', metrics: { primary: 'm1' } }),
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/rollups/start')).status).toBe(200);
    const db = t.running.app.get(DataSource);
    [{ id: experimentId }] = await db.query(`SELECT id FROM experiments WHERE key = 'rollups'`);

    const rng = createRng(19);
    const base = Date.parse('2026-01-05T00:00:00Z');
    const iso = (ms: number) => new Date(ms).toISOString();
    const exposures: Array<Record<string, unknown>> = [];
    const firstAt = new Map<string, number>();
    for (let u = 0; u < 400; u++) {
      const at = base + Math.floor(rng.uniform() * 86_400) * 1000;
      firstAt.set(`u${u}`, at);
      exposures.push({
        experiment: 'rollups',
        unitId: `u${u}`,
        variant: rng.uniform() < 0.5 ? 'control' : 'treatment',
        timestamp: iso(at),
        attributes: { country: rng.uniform() < 0.3 ? 'de' : 'fr' },
      });
      if (u % 37 === 0)
        exposures.push({
          experiment: 'rollups',
          unitId: `u${u}`,
          variant: exposures[exposures.length - 1].variant === 'control' ? 'treatment' : 'control',
          timestamp: iso(at + 5000),
        });
    }
    expect((await t.call('POST', '/v1/exposures', { body: { exposures } })).status).toBe(200);
    const events: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 4000; i++) {
      const u = `u${Math.floor(rng.uniform() * 420)}`; // some units never exposed
      const at = (firstAt.get(u) ?? base) + Math.floor((rng.uniform() * 10 - 2) * 3600) * 1000;
      // equal timestamps within a unit now and then: the (ts, value) order still fixes the sum
      const ts = i % 11 === 0 ? (firstAt.get(u) ?? base) : at;
      const value = (rng.uniform() - 0.2) * 10 ** Math.floor(rng.uniform() * 7);
      events.push({
        eventId: `e${i}`,
        unitId: u,
        metric: rng.uniform() < 0.6 ? 'm1' : 'm2',
        value,
        timestamp: iso(ts),
      });
    }
    for (let i = 0; i < events.length; i += 1000) {
      const batch = events.slice(i, i + 1000);
      expect((await t.call('POST', '/v1/events', { body: { events: batch } })).body.accepted).toBe(batch.length);
      // a retried batch: every event a duplicate
      expect((await t.call('POST', '/v1/events', { body: { events: batch } })).body.duplicates).toBe(batch.length);
    }
    // An exposure replayed with an earlier time moves the unit's first exposure back, after its events arrived.
    const moved = exposures.find((e) => e.unitId === 'u5')!;
    expect(
      (
        await t.call('POST', '/v1/exposures', {
          body: { exposures: [{ ...moved, timestamp: iso(firstAt.get('u5')! - 4 * 3600_000) }] },
        })
      ).status,
    ).toBe(200);
  }, 600_000);
  afterAll(async () => {
    await t?.close(true);
  });

  const spec = (over: Partial<MetricSpec>): MetricSpec => ({
    key: 'm',
    type: 'sum',
    numerator: 'm1',
    denominator: null,
    conversionWindowSeconds: null,
    capping: null,
    cupedLookbackDays: 14,
    ...over,
  });
  const cases: Array<[string, MetricSpec, Partial<MetricValuesQuery>]> = [
    ['sum', spec({}), {}],
    ['binary', spec({ type: 'binary' }), {}],
    ['mean', spec({ type: 'mean' }), {}],
    ['ratio', spec({ type: 'ratio', denominator: 'm2' }), {}],
    ['sum, fixed cap', spec({ capping: { type: 'fixed', value: 1000 } }), {}],
    [
      'ratio, percentile cap',
      spec({ type: 'ratio', denominator: 'm2', capping: { type: 'percentile', percentile: 0.9 } }),
      {},
    ],
    [
      'mean, segment and from',
      spec({ type: 'mean', numerator: 'm2' }),
      { segment: { attribute: 'country', value: 'de' }, from: new Date('2026-01-05T06:00:00Z') },
    ],
  ];
  it.each(cases)(
    '%s: every figure is the same float64 from the rollups as from the raw events',
    async (_name, metric, extra) => {
      const q: MetricValuesQuery = { experimentId, phase: 1, metric, moments: true, ...extra };
      const fromRollups = await metricValues.aggregate({ ...q, variantStats: false });
      const raw = await metricValues.aggregate({ ...q, rollups: false });
      expect(raw.map((r) => r.units).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
      await expectSameFigures(t, fromRollups, raw);
      // the report's default: the per-variant statistics where they apply (sum, binary, mean; no cap, no filter)
      expectClose(await metricValues.aggregate(q), fromRollups, 1e-12);
    },
  );

  it('the exposure rollups hold exactly the per-unit grouping of the raw exposures, and the population figures agree', async () => {
    const db = t.running.app.get(DataSource);
    await t.running.app.get(UnitRollupsRepository).drain();
    const grouped = await db.query(
      `SELECT unit_id, experiment_id, phase, CASE WHEN count(*) = 1 THEN min(variant) END AS variant, min(first_at) AS first_at,
              CASE WHEN count(*) = 1 THEN (array_agg(attributes))[1] END AS attributes
       FROM exposures GROUP BY unit_id, experiment_id, phase ORDER BY unit_id COLLATE "C", experiment_id, phase`,
    );
    const rolled = await db.query(
      `SELECT unit_id, experiment_id, phase, variant, first_at, attributes FROM unit_exposure_rollups ORDER BY unit_id, experiment_id, phase`,
    );
    expect(grouped.length).toBe(400);
    expect(grouped.filter((r: { variant: string | null }) => r.variant === null).length).toBeGreaterThan(5); // multiply-exposed units
    expect(rolled).toEqual(grouped);
    // metric rollups exist only for single-variant units, under the unit's variant
    const [{ stray }] = await db.query(
      `SELECT count(*)::int AS stray FROM unit_metric_rollups m
       LEFT JOIN unit_exposure_rollups x ON x.experiment_id = m.experiment_id AND x.phase = m.phase AND x.unit_id = m.unit_id
       WHERE x.variant IS DISTINCT FROM m.variant`,
    );
    expect(stray).toBe(0);
    const reports = t.running.app.get(ReportsRepository);
    const population = await reports.population(experimentId, 1, false);
    expect(population.multipleExposures).toBeGreaterThan(5);
    expect(population).toEqual(await reports.population(experimentId, 1, false, false));
  });

  it('reads the rollups (queue drained, rows present) and recomputing a unit twice changes nothing', async () => {
    const db = t.running.app.get(DataSource);
    const rollups = t.running.app.get(UnitRollupsRepository);
    expect(await rollups.queued()).toBe(0);
    const before = await db.query(`SELECT * FROM unit_metric_rollups ORDER BY experiment_id, phase, metric, unit_id`);
    const exposuresBefore = await db.query(
      `SELECT * FROM unit_exposure_rollups ORDER BY unit_id, experiment_id, phase`,
    );
    expect(before.length).toBeGreaterThan(300);
    // a unit queued again (a retry, a race) is recomputed to the same rows
    await db.query(`INSERT INTO rollup_queue (unit_id) SELECT unit_id FROM unit_metric_rollups LIMIT 50`);
    await db.query(`INSERT INTO rollup_queue (unit_id) SELECT unit_id FROM unit_metric_rollups LIMIT 50`);
    await rollups.drain(); // (the background worker may take some of them first)
    expect(await rollups.queued()).toBe(0);
    expect(await db.query(`SELECT * FROM unit_metric_rollups ORDER BY experiment_id, phase, metric, unit_id`)).toEqual(
      before,
    );
    expect(await db.query(`SELECT * FROM unit_exposure_rollups ORDER BY unit_id, experiment_id, phase`)).toEqual(
      exposuresBefore,
    );
  });

  it('the per-variant statistics are exactly their recomputation from the unit rollups and from the raw tables, through new and retried events, a unit becoming multiply exposed and recomputations', async () => {
    const db = t.running.app.get(DataSource);
    const rollups = t.running.app.get(UnitRollupsRepository);
    const expectExact = async () => {
      await rollups.drain();
      const kept = await variantStats(db);
      expect(kept).toEqual(await recomputedVariantStats(db, 'rollups'));
      expect(kept).toEqual(await recomputedVariantStats(db, 'raw'));
      return kept;
    };
    const first = await expectExact();
    expect(first.metrics.length).toBe(4); // m1, m2 × control, treatment
    expect(first.exposures.length).toBe(2);

    // new events on exposed units, retried with other values (stored once), events of a third metric; a unit
    // exposed to the other variant (leaves the analysis); a new unit
    const rng = createRng(1919);
    const iso = (ms: number) => new Date(ms).toISOString();
    const late = Date.parse('2026-01-06T12:00:00Z');
    const events = Array.from({ length: 300 }, (_, i) => ({
      eventId: `late${i}`,
      unitId: `u${Math.floor(rng.uniform() * 60)}`,
      metric: ['m1', 'm2', 'm3'][i % 3],
      value: (rng.uniform() - 0.3) * 10 ** Math.floor(rng.uniform() * 5),
      timestamp: iso(late + i * 1000),
    }));
    expect((await t.call('POST', '/v1/events', { body: { events } })).body.accepted).toBe(300);
    const retried = events.map((e) => ({ ...e, value: e.value + 1 }));
    expect((await t.call('POST', '/v1/events', { body: { events: retried } })).body.duplicates).toBe(300);
    const [{ variant }] = await db.query(
      `SELECT variant FROM unit_exposure_rollups WHERE unit_id = 'u3' AND variant IS NOT NULL`,
    );
    const exposures = [
      {
        experiment: 'rollups',
        unitId: 'u3',
        variant: variant === 'control' ? 'treatment' : 'control',
        timestamp: iso(late),
      },
      { experiment: 'rollups', unitId: 'new-unit', variant: 'control', timestamp: iso(late - 3_600_000) },
    ];
    expect((await t.call('POST', '/v1/exposures', { body: { exposures } })).status).toBe(200);
    const second = await expectExact();
    expect(second).not.toEqual(first);
    expect(second.metrics.length).toBe(6);

    // every unit recomputed twice over: nothing changes
    await db.query(`INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM exposures`);
    await db.query(`INSERT INTO rollup_queue (unit_id) SELECT DISTINCT unit_id FROM events`);
    expect(await expectExact()).toEqual(second);
  });
});

describe('event retention (SLOTWISE_EVENT_RETENTION_DAYS)', () => {
  let t: TestApp;
  afterAll(async () => {
    await t?.close(true);
  });

  it('deletes events older than the setting in batches, keeps the rest, and the rollups follow the raw table', async () => {
    t = await startTestApp({ env: { SLOTWISE_EVENT_RETENTION_DAYS: '30' } });
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: abExperiment('retained', { assignment: 'external', metrics: { primary: 'buy' } }),
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/retained/start')).status).toBe(200);
    const db = t.running.app.get(DataSource);
    const [{ id }] = await db.query(`SELECT id FROM experiments WHERE key = 'retained'`);
    const day = 86_400_000;
    const now = Date.now();
    const exposures = Array.from({ length: 20 }, (_, u) => ({
      experiment: 'retained',
      unitId: `r${u}`,
      variant: u % 2 ? 'control' : 'treatment',
      timestamp: new Date(now - 60 * day).toISOString(),
    }));
    expect((await t.call('POST', '/v1/exposures', { body: { exposures } })).status).toBe(200);
    // per unit: 3 events 45 days old (expired), 2 from 10 days ago (kept)
    const events = exposures.flatMap((e, u) =>
      [45, 45, 45, 10, 10].map((age, i) => ({
        eventId: `r${u}-${i}`,
        unitId: e.unitId,
        metric: 'buy',
        value: 1 + i + u / 7,
        timestamp: new Date(now - age * day).toISOString(),
      })),
    );
    expect((await t.call('POST', '/v1/events', { body: { events } })).body.accepted).toBe(100);
    const metricValues = t.running.app.get(MetricValuesRepository);
    const q: MetricValuesQuery = {
      experimentId: id,
      phase: 1,
      metric: {
        key: 'buy',
        type: 'sum',
        numerator: 'buy',
        denominator: null,
        conversionWindowSeconds: null,
        capping: null,
        cupedLookbackDays: 14,
      },
      moments: true,
    };
    const before = await metricValues.aggregate(q);

    expect(await t.running.app.get(EventRetentionWorker).runOnce()).toBe(60);
    const [{ left, oldest }] = await db.query(`SELECT count(*)::int AS left, min(ts) AS oldest FROM events`);
    expect(left).toBe(40);
    expect(new Date(oldest).getTime()).toBeGreaterThan(now - 30 * day);
    expect(await t.running.app.get(EventRetentionWorker).runOnce()).toBe(0);

    const after = await metricValues.aggregate(q);
    const perUnit = await metricValues.aggregate({ ...q, variantStats: false });
    await expectSameFigures(t, perUnit, await metricValues.aggregate({ ...q, rollups: false }));
    expectClose(after, perUnit, 1e-12);
    expect(after.map((a) => a.sum)).not.toEqual(before.map((a) => a.sum));
    expect(after.reduce((s, a) => s + a.sum, 0)).toBeCloseTo(
      events.filter((_, i) => i % 5 >= 3).reduce((s, e) => s + e.value, 0),
      9,
    );
  }, 600_000);
});
