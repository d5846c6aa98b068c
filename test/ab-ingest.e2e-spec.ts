import { DataSource } from 'typeorm';
import { ExposuresRepository } from '../apps/api/src/modules/ab/exposures.repository';
import { MetricValuesRepository } from '../apps/api/src/modules/ab/metric-values.repository';
import { abExperiment, startTestApp, TestApp } from './support/test-app';

/** Events, exposures of external experiments, metric definitions and per-unit metric values, through HTTP. */
describe('A/B ingestion and metric values', () => {
  let t: TestApp;
  let db: DataSource;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    db = t.running.app.get(DataSource);
    for (const role of ['serving', 'viewer', 'editor'] as const) {
      keys[role] = (await t.call('POST', '/v1/api-keys', { body: { name: role, role } })).body.key;
    }
  });
  afterAll(() => t.close(true));

  const iso = (ms: number) => new Date(ms).toISOString();

  describe('POST /v1/events', () => {
    it('100 parallel posts of the same batch of eventIds store each event exactly once', async () => {
      const batch = Array.from({ length: 200 }, (_, i) => ({
        unitId: `p-${i % 37}`,
        metric: 'click',
        value: i,
        eventId: `par-${i}`,
      }));
      const results = await Promise.all(
        Array.from({ length: 100 }, () => t.call('POST', '/v1/events', { key: keys.serving, body: { events: batch } })),
      );
      for (const r of results) expect(r.status).toBe(200);
      const accepted = results.reduce((a, r) => a + r.body.accepted, 0);
      const duplicates = results.reduce((a, r) => a + r.body.duplicates, 0);
      expect(accepted).toBe(200);
      expect(duplicates).toBe(100 * 200 - 200);
      for (const r of results) expect(r.body.rejected).toEqual([]);
      const [row] = await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d, sum(value)::float8 AS s FROM events WHERE event_id LIKE 'par-%'`,
      );
      expect(row).toEqual({ n: 200, d: 200, s: (199 * 200) / 2 });
    });

    it('defaults value to 1 and timestamp to now; repeats within a batch are duplicates; without eventId every post is new', async () => {
      const before = Date.now();
      const res = await t.call('POST', '/v1/events', {
        key: keys.serving,
        body: {
          events: [
            { unitId: 'd-1', metric: 'visit', eventId: 'dflt-1' },
            { unitId: 'd-1', metric: 'visit', eventId: 'dflt-1' },
            { unitId: 'd-1', metric: 'noid' },
          ],
        },
      });
      expect(res.body).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
      const again = await t.call('POST', '/v1/events', {
        key: keys.serving,
        body: { events: [{ unitId: 'd-1', metric: 'noid', value: 2.5 }] },
      });
      expect(again.body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
      const rows = await db.query(`SELECT metric, value, ts FROM events WHERE unit_id = 'd-1' ORDER BY metric, value`);
      expect(rows.map((r: { metric: string; value: number }) => [r.metric, r.value])).toEqual([
        ['noid', 1],
        ['noid', 2.5],
        ['visit', 1],
      ]);
      for (const r of rows) expect(new Date(r.ts).getTime()).toBeGreaterThanOrEqual(before - 1000);
    });

    it('rejects timestamps more than 5 minutes in the future by index, and accepts the rest', async () => {
      const now = Date.now();
      const events = [
        { unitId: 'f-1', metric: 'm', timestamp: iso(now - 3600_000), eventId: 'fut-0' },
        { unitId: 'f-1', metric: 'm', timestamp: iso(now + 10 * 60_000), eventId: 'fut-1' },
        { unitId: 'f-1', metric: 'm', timestamp: iso(now + 60_000), eventId: 'fut-2' },
        { unitId: 'f-1', metric: 'm', timestamp: iso(now + 24 * 3600_000), eventId: 'fut-3' },
      ];
      const res = await t.call('POST', '/v1/events', { key: keys.serving, body: { events } });
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(2);
      expect(res.body.duplicates).toBe(0);
      expect(res.body.rejected).toEqual([
        { index: 1, reason: 'timestamp is more than 5 minutes in the future' },
        { index: 3, reason: 'timestamp is more than 5 minutes in the future' },
      ]);
      expect(
        (await db.query(`SELECT event_id FROM events WHERE unit_id = 'f-1' ORDER BY event_id`)).map(
          (r: { event_id: string }) => r.event_id,
        ),
      ).toEqual(['fut-0', 'fut-2']);
    });

    it('400 with field paths for a bad metric key, a bad value and timestamp, unknown fields, and 10,001 events; nothing stored', async () => {
      const events = Array.from({ length: 5 }, (_, i) => ({
        unitId: `v-${i}`,
        metric: 'ok',
        eventId: `bad-batch-${i}`,
      })) as Record<string, unknown>[];
      events[3].metric = 'Bad Metric!';
      events[1].value = 'ten';
      events[2].timestamp = 'yesterday';
      events[4].colour = 'red';
      const res = await t.call('POST', '/v1/events', { key: keys.serving, body: { events } });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'events[1].value',
        'events[2].timestamp',
        'events[3].metric',
        'events[4].colour',
      ]);
      expect((await db.query(`SELECT count(*)::int AS n FROM events WHERE event_id LIKE 'bad-batch-%'`))[0].n).toBe(0);

      const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ unitId: 'u', metric: 'm', eventId: `many-${i}` }));
      const big = await t.call('POST', '/v1/events', { key: keys.serving, body: { events: tooMany } });
      expect(big.status).toBe(400);
      expect(big.body.errors).toEqual([{ path: 'events', message: 'at most 10000 events per call' }]);
      const empty = await t.call('POST', '/v1/events', { key: keys.serving, body: { events: [] } });
      expect(empty.status).toBe(400);
      expect(
        (await t.call('POST', '/v1/events', { key: keys.viewer, body: { events: [{ unitId: 'u', metric: 'm' }] } }))
          .status,
      ).toBe(403);
    });

    it('takes a full batch of 10,000 in one call', async () => {
      const events = Array.from({ length: 10_000 }, (_, i) => ({
        unitId: `big-${i % 1000}`,
        metric: 'bulk',
        value: 1,
        eventId: `bulk-${i}`,
      }));
      const res = await t.call('POST', '/v1/events', { key: keys.serving, body: { events } });
      expect(res.body).toEqual({ accepted: 10_000, duplicates: 0, rejected: [] });
      expect((await db.query(`SELECT count(*)::int AS n FROM events WHERE metric = 'bulk'`))[0].n).toBe(10_000);
    });
  });

  describe('metric definitions', () => {
    it('creates, lists, reads and patches (audited); validates types with paths', async () => {
      const created = await t.call('POST', '/v1/metrics', {
        key: keys.editor,
        body: {
          key: 'revenue',
          name: 'Revenue',
          type: 'sum',
          capping: { type: 'percentile', percentile: 0.99 },
          conversionWindowSeconds: 86400,
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        key: 'revenue',
        type: 'sum',
        event: null,
        direction: 'increase',
        capping: { type: 'percentile', percentile: 0.99 },
        conversionWindowSeconds: 86400,
        guardrailMargin: null,
        cupedLookbackDays: 14,
        version: 1,
      });
      expect(
        (await t.call('POST', '/v1/metrics', { body: { key: 'revenue', name: 'again', type: 'sum' } })).status,
      ).toBe(409);
      const ratio = await t.call('POST', '/v1/metrics', {
        body: { key: 'aov', name: 'Order value', type: 'ratio', numerator: 'revenue' },
      });
      expect(ratio.status).toBe(400);
      expect(ratio.body.errors).toEqual([
        { path: 'denominator', message: 'a ratio metric needs a denominator event metric key' },
      ]);
      const bad = await t.call('POST', '/v1/metrics', {
        body: { key: 'Bad Key', name: 'x', type: 'median', capping: { type: 'fixed' }, direction: 'up' },
      });
      expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
        'capping.value',
        'direction',
        'key',
        'type',
      ]);
      const reward = await t.call('POST', '/v1/metrics', { body: { key: 'reward', name: 'r', type: 'sum' } });
      expect(reward.status).toBe(400);
      expect(reward.body.errors[0].path).toBe('key');

      const patched = await t.call('PATCH', '/v1/metrics/revenue', {
        key: keys.editor,
        body: { direction: 'decrease', guardrailMargin: 0.02, capping: { type: 'fixed', value: 500 } },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        direction: 'decrease',
        guardrailMargin: 0.02,
        capping: { type: 'fixed', value: 500 },
        version: 2,
      });
      const badPatch = await t.call('PATCH', '/v1/metrics/revenue', { body: { type: 'ratio' } });
      expect(badPatch.status).toBe(400);
      expect(badPatch.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['denominator', 'numerator']);
      expect((await t.call('PATCH', '/v1/metrics/nope', { body: { name: 'x' } })).status).toBe(404);
      expect((await t.call('GET', '/v1/metrics/revenue', { key: keys.viewer })).body.version).toBe(2);
      expect(
        (await t.call('GET', '/v1/metrics', { key: keys.viewer })).body.metrics.map((m: { key: string }) => m.key),
      ).toContain('revenue');
      expect(
        (await t.call('POST', '/v1/metrics', { key: keys.viewer, body: { key: 'x1', name: 'x', type: 'sum' } })).status,
      ).toBe(403);
      const audit = await t.call('GET', '/v1/audit?entityId=revenue');
      expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(['metric.update', 'metric.create']);
      expect(audit.body.entries[0].before.direction).toBe('increase');
      expect(audit.body.entries[0].after.direction).toBe('decrease');
    });
  });

  describe('an external experiment imported, checked against a hand computation', () => {
    const HOUR = 3600_000;
    const MIN = 60_000;
    const T0 = Date.now() - 3 * HOUR;
    let experimentId: string;

    beforeAll(async () => {
      const exp = abExperiment('ext-checkout', { assignment: 'external', metrics: { primary: 'purchase' } });
      expect((await t.call('POST', '/v1/experiments', { body: exp })).status).toBe(201);
      expect((await t.call('POST', '/v1/experiments/ext-checkout/start')).status).toBe(200);
      expect((await t.call('POST', '/v1/experiments', { body: abExperiment('hashed-one') })).status).toBe(201);
      experimentId = (await t.call('GET', '/v1/experiments/ext-checkout')).body.id;

      const us = { country: 'US' };
      const exposures = [
        { unitId: 'u1', variant: 'control', attributes: us },
        { unitId: 'u2', variant: 'control' },
        { unitId: 'u3', variant: 'control' },
        { unitId: 'u4', variant: 'treatment', attributes: us },
        { unitId: 'u5', variant: 'treatment', attributes: us },
        { unitId: 'u6', variant: 'treatment' },
        { unitId: 'u7', variant: 'control' },
        { unitId: 'u7', variant: 'treatment' },
      ].map((e) => ({ experiment: 'ext-checkout', timestamp: iso(T0), ...e }));
      const res = await t.call('POST', '/v1/exposures', { key: keys.serving, body: { exposures } });
      expect(res.body).toEqual({ accepted: 8, duplicates: 0, rejected: [] });

      // A replay (later timestamp) is a duplicate; bad rows are rejected by index.
      const replay = await t.call('POST', '/v1/exposures', {
        key: keys.serving,
        body: {
          exposures: [
            { experiment: 'ext-checkout', unitId: 'u1', variant: 'control', timestamp: iso(T0 + HOUR) },
            { experiment: 'ext-checkout', unitId: 'u1', variant: 'bogus' },
            { experiment: 'hashed-one', unitId: 'u1', variant: 'control' },
            { experiment: 'no-such-exp', unitId: 'u1', variant: 'control' },
            { experiment: 'ext-checkout', unitId: 'u8', variant: 'control', timestamp: iso(Date.now() + HOUR) },
          ],
        },
      });
      expect(replay.body.accepted).toBe(0);
      expect(replay.body.duplicates).toBe(1);
      expect(replay.body.rejected).toEqual([
        { index: 1, reason: '"bogus" is not a variant of "ext-checkout"' },
        { index: 2, reason: 'experiment "hashed-one" is assigned by Slotwise; its exposures are logged by /v1/assign' },
        { index: 3, reason: 'unknown experiment "no-such-exp"' },
        { index: 4, reason: 'timestamp is more than 5 minutes in the future' },
      ]);

      const ev = (unitId: string, metric: string, value: number, at: number) => ({
        unitId,
        metric,
        value,
        timestamp: iso(at),
        eventId: `ext-${unitId}-${metric}-${at}-${value}`,
      });
      const events = [
        ev('u1', 'purchase', 10, T0 + 10 * MIN),
        ev('u1', 'purchase', 5, T0 + 20 * MIN),
        ev('u1', 'purchase', 100, T0 - HOUR), // before exposure: only the CUPED covariate
        ev('u1', 'visit', 1, T0 + 1 * MIN),
        ev('u1', 'visit', 1, T0 + 2 * MIN),
        ev('u2', 'visit', 1, T0 + 1 * MIN),
        ev('u3', 'purchase', 7, T0 + 5 * MIN),
        ev('u4', 'purchase', 3, T0 + 5 * MIN),
        ev('u4', 'purchase', 4, T0 + 25 * MIN),
        ev('u4', 'purchase', 1000, T0 - 20 * 24 * HOUR), // older than the 14-day look-back
        ev('u4', 'visit', 1, T0 + 1 * MIN),
        ev('u4', 'visit', 1, T0 + 2 * MIN),
        ev('u4', 'visit', 1, T0 + 3 * MIN),
        ev('u5', 'purchase', 20, T0 + 10 * MIN),
        ev('u5', 'purchase', 40, T0 - 2 * 24 * HOUR),
        ev('u6', 'purchase', 2, T0 + 30 * MIN),
        ev('u6', 'purchase', 1, T0 + 2 * HOUR), // outside a one-hour conversion window
        ev('u7', 'purchase', 50, T0 + 5 * MIN), // u7 saw both variants: excluded
        ev('u9', 'purchase', 99, T0 + 5 * MIN), // never exposed
      ];
      expect((await t.call('POST', '/v1/events', { key: keys.serving, body: { events } })).body).toEqual({
        accepted: events.length,
        duplicates: 0,
        rejected: [],
      });

      const defs = [
        {
          key: 'purchase-1h-cap15',
          name: 'Purchases, 1 h, capped at 15',
          type: 'sum',
          event: 'purchase',
          conversionWindowSeconds: 3600,
          capping: { type: 'fixed', value: 15 },
        },
        {
          key: 'purchase-p50',
          name: 'Purchases capped at the median',
          type: 'sum',
          event: 'purchase',
          capping: { type: 'percentile', percentile: 0.5 },
        },
        { key: 'purchased', name: 'Purchased', type: 'binary', event: 'purchase' },
        {
          key: 'purchase-per-visit',
          name: 'Purchases per visit',
          type: 'ratio',
          numerator: 'purchase',
          denominator: 'visit',
        },
        { key: 'purchase-mean', name: 'Mean purchase', type: 'mean', event: 'purchase' },
      ];
      for (const d of defs) expect((await t.call('POST', '/v1/metrics', { body: d })).status).toBe(201);
    });

    const values = () => t.running.app.get(MetricValuesRepository);
    const aggregate = async (metric: string, extra: Record<string, unknown> = {}) =>
      values().aggregate({ experimentId, phase: 1, metric: await values().resolveMetric(metric), ...extra });

    it('stores exposures once per (experiment, unit, variant) with the first time, and counts multiple exposures', async () => {
      const rows = await db.query(
        `SELECT unit_id, variant, first_at FROM exposures WHERE experiment_id = $1 ORDER BY unit_id, variant`,
        [experimentId],
      );
      expect(rows).toHaveLength(8);
      for (const r of rows) expect(new Date(r.first_at).getTime()).toBe(T0);
      const health = await t.running.app.get(ExposuresRepository).health(experimentId, 1);
      expect(health).toEqual({ unitsPerVariant: { control: 3, treatment: 3 }, multipleExposures: 1 });
    });

    // Unit values (purchase, from first exposure on): control u1 = 15, u2 = 0, u3 = 7; treatment u4 = 7, u5 = 20, u6 = 3.
    it('sum of an undefined metric: units, sums and sums of squares', async () => {
      expect(await aggregate('purchase')).toEqual([
        { variant: 'control', units: 3, sum: 22, sumSquares: 15 ** 2 + 0 + 7 ** 2 },
        { variant: 'treatment', units: 3, sum: 30, sumSquares: 7 ** 2 + 20 ** 2 + 3 ** 2 },
      ]);
    });

    it('conversion window and fixed cap', async () => {
      // 1 h window: u6 keeps only 2; cap 15: u5 20 → 15, u1 15 stays.
      expect(await aggregate('purchase-1h-cap15')).toEqual([
        { variant: 'control', units: 3, sum: 22, sumSquares: 225 + 49 },
        { variant: 'treatment', units: 3, sum: 7 + 15 + 2, sumSquares: 49 + 225 + 4 },
      ]);
    });

    it('percentile cap (pooled over variants, percentile_cont)', async () => {
      // values [0, 3, 7, 7, 15, 20]: the median is 7 → control [7, 0, 7], treatment [7, 7, 3].
      expect(await aggregate('purchase-p50')).toEqual([
        { variant: 'control', units: 3, sum: 14, sumSquares: 98 },
        { variant: 'treatment', units: 3, sum: 17, sumSquares: 49 + 49 + 9 },
      ]);
    });

    it('binary', async () => {
      expect(await aggregate('purchased')).toEqual([
        { variant: 'control', units: 3, sum: 2, sumSquares: 2 },
        { variant: 'treatment', units: 3, sum: 3, sumSquares: 3 },
      ]);
    });

    it('ratio: numerator and denominator sums, squares and cross products', async () => {
      // control Y = [15, 0, 7], D = [2, 1, 0]; treatment Y = [7, 20, 3], D = [3, 0, 0]
      expect(await aggregate('purchase-per-visit')).toEqual([
        {
          variant: 'control',
          units: 3,
          sum: 22,
          sumSquares: 274,
          denominator: { sum: 3, sumSquares: 5, crossProducts: 30 },
        },
        {
          variant: 'treatment',
          units: 3,
          sum: 30,
          sumSquares: 458,
          denominator: { sum: 3, sumSquares: 9, crossProducts: 21 },
        },
      ]);
    });

    it('mean: event values over event counts', async () => {
      // control counts [2, 0, 1]; treatment [2, 1, 2]
      expect(await aggregate('purchase-mean')).toEqual([
        {
          variant: 'control',
          units: 3,
          sum: 22,
          sumSquares: 274,
          denominator: { sum: 3, sumSquares: 5, crossProducts: 15 * 2 + 7 },
        },
        {
          variant: 'treatment',
          units: 3,
          sum: 30,
          sumSquares: 458,
          denominator: { sum: 5, sumSquares: 9, crossProducts: 14 + 20 + 6 },
        },
      ]);
    });

    it('CUPED covariate: the 14 days before first exposure', async () => {
      // X: control [100, 0, 0]; treatment [0, 40, 0] (u4's event 20 days before is outside the look-back)
      const rows = await aggregate('purchase', { cuped: true });
      expect(rows.map((r) => r.covariate)).toEqual([
        { sum: 100, sumSquares: 10_000, crossProducts: 1500 },
        { sum: 40, sumSquares: 1600, crossProducts: 800 },
      ]);
      const longer = await aggregate('purchase', { cuped: { lookbackDays: 30 } });
      expect(longer[1].covariate).toEqual({ sum: 1040, sumSquares: 1000 ** 2 + 1600, crossProducts: 7000 + 800 });
    });

    it('segment by an exposure attribute, and a report as of a time', async () => {
      expect(await aggregate('purchase', { segment: { attribute: 'country', value: 'US' } })).toEqual([
        { variant: 'control', units: 1, sum: 15, sumSquares: 225 },
        { variant: 'treatment', units: 2, sum: 27, sumSquares: 449 },
      ]);
      // As of T0 + 15 min: u1 10, u3 7; u4 3, u5 20, u6 0.
      expect(await aggregate('purchase', { to: new Date(T0 + 15 * MIN) })).toEqual([
        { variant: 'control', units: 3, sum: 17, sumSquares: 149 },
        { variant: 'treatment', units: 3, sum: 23, sumSquares: 409 },
      ]);
    });
  });
});
