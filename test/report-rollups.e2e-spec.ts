import { createRng } from '@slotwise/bandit';
import { DataSource } from 'typeorm';
import { EventRetentionWorker, MetricValuesRepository, UnitRollupsRepository } from '../apps/api/src/modules/ab';
import type { MetricSpec, MetricValuesQuery } from '../apps/api/src/modules/ab';
import { ReportsRepository } from '../apps/api/src/modules/reports/reports.repository';
import { abExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * The report's per-unit rollups (unit_exposure_rollups, unit_metric_rollups) against the raw-table computation, on random data through the
 * HTTP API: every figure of every metric shape must be the same float64, bit for bit (toEqual compares with
 * Object.is). The values are random reals with full mantissas, so any difference in which events are counted or in
 * the order they are summed shows up. The data includes retried event batches (same eventIds), units exposed to
 * both variants, events before first exposure, equal timestamps and an exposure moved earlier after its events.
 */
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
  const close = (a: unknown, b: unknown, path: string): void => {
    if (typeof a === 'number' && typeof b === 'number') {
      if (Math.abs(a - b) > 1e-12 * Math.max(Math.abs(a), Math.abs(b))) expect([path, a]).toEqual([path, b]);
    } else if (a && b && typeof a === 'object' && typeof b === 'object') {
      expect([path, Object.keys(a).sort()]).toEqual([path, Object.keys(b).sort()]);
      for (const k of Object.keys(a))
        close((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    } else expect([path, a]).toEqual([path, b]);
  };
  close(fromRollups, raw, '');
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
      const fromRollups = await metricValues.aggregate(q);
      const raw = await metricValues.aggregate({ ...q, rollups: false });
      expect(raw.map((r) => r.units).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
      await expectSameFigures(t, fromRollups, raw);
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
    await expectSameFigures(t, after, await metricValues.aggregate({ ...q, rollups: false }));
    expect(after.map((a) => a.sum)).not.toEqual(before.map((a) => a.sum));
    expect(after.reduce((s, a) => s + a.sum, 0)).toBeCloseTo(
      events.filter((_, i) => i % 5 >= 3).reduce((s, e) => s + e.value, 0),
      9,
    );
  }, 600_000);
});
