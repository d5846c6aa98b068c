import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestApp, TestApp } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Issue 14, "Statistics that hold on awkward data": field cases replayed through HTTP against golden values from
 * tools/stats/gen_report_field_cases.py (SciPy / statsmodels / NumPy on the unit-level arrays).
 */
const golden = JSON.parse(
  readFileSync(join(__dirname, '../apps/api/src/modules/reports/__golden__/report-field-cases.json'), 'utf8'),
);

function close(actual: unknown, expected: number, path: string, rel = 1e-6): void {
  if (typeof actual !== 'number' || !Number.isFinite(actual))
    throw new Error(`${path}: expected ${expected}, got ${String(actual)}`);
  const tol = Math.max(rel * Math.abs(expected), 1e-12);
  if (Math.abs(actual - expected) > tol)
    throw new Error(`${path}: expected ${expected}, got ${actual} (|Δ| = ${Math.abs(actual - expected)} > ${tol})`);
}
const closeInterval = (actual: any, expected: { lower: number; upper: number }, path: string, rel = 1e-6) => {
  close(actual?.lower, expected.lower, `${path}.lower`, rel);
  close(actual?.upper, expected.upper, `${path}.upper`, rel);
};

describe('report field cases (issue 14)', () => {
  let t: TestApp;
  let serving: string;
  /** Exposures a few minutes old (a young experiment), events at their offsets from each unit's exposure. */
  const base = Date.now() - 20 * 60_000;

  const load = async (c: any) => {
    for (const m of c.metricDefinitions) expect((await t.call('POST', '/v1/metrics', { body: m })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments', { body: c.experiment })).status).toBe(201);
    expect((await t.call('POST', `/v1/experiments/${c.experiment.key}/start`)).status).toBe(200);
    const exposures = c.units.map((u: any, i: number) => ({
      experiment: c.experiment.key,
      unitId: u.unitId,
      variant: u.variant,
      timestamp: new Date(base + i * 1000).toISOString(),
    }));
    const ex = await t.call('POST', '/v1/exposures', { key: serving, body: { exposures } });
    expect(ex.body.rejected).toEqual([]);
    const events = c.units.flatMap((u: any, i: number) =>
      u.events.map((e: any, j: number) => ({
        unitId: u.unitId,
        metric: e.metric,
        value: e.value,
        timestamp: new Date(base + i * 1000 + e.afterSeconds * 1000).toISOString(),
        eventId: `${u.unitId}-${j}`,
      })),
    );
    const ev = await t.call('POST', '/v1/events', { key: serving, body: { events } });
    expect(ev.status).toBe(200);
  };
  const report = async (key: string, qs = '') => {
    const res = await t.call('POST', `/v1/experiments/${key}/report/refresh${qs ? `?${qs}` : ''}`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const metric = (r: any, key: string) => r.metrics.find((m: any) => m.metric === key);

  beforeAll(async () => {
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '60000' } });
    serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'backend', role: 'serving' } })).body.key;
    for (const c of Object.values(golden.cases)) await load(c);
  });
  afterAll(() => t.close(true));

  describe('negative baseline (net margin: control [−12, −8], treatment [−7, −3])', () => {
    const g = golden.cases['negative-baseline'];
    const e = g.expected['field-net-margin'];

    it('relative lift is Δ/|μ_c| = +0.5 with its delta-method interval; chance to beat is 0.96145 (absolute scale)', async () => {
      for (const qs of ['', 'sequential=false']) {
        const c = metric(await report('field-negative', qs), 'field-net-margin').comparisons[0];
        close(c.absoluteLift, e.absoluteLift, 'absoluteLift');
        close(c.pValue, e.pValue, 'pValue');
        closeInterval(c.ci, e.ci, 'ci');
        close(c.relativeLift, 0.5, 'relativeLift');
        close(c.relativeLift, e.relativeLift, 'relativeLift');
        closeInterval(c.relativeCi, e.relativeCi, 'relativeCi');
        close(c.relativePValue, e.relativePValue, 'relativePValue');
        expect(c.relativeLiftReason).toBeNull();
        close(c.bayesian.chanceToBeatBaseline, 0.9614500641282291, 'chanceToBeatBaseline', 1e-9);
        close(c.bayesian.expectedLoss, e.expectedLoss, 'expectedLoss');
        expect(c.bayesian.scale).toBe('absolute');
        close(c.sequential.pValue, e.sequential.pValue, 'sequential.pValue');
      }
    });

    it('as a guardrail that improved, it never makes the recommendation roll back (either basis)', async () => {
      for (const qs of ['', 'sequential=false']) {
        const r = await report('field-negative', qs);
        expect(r.recommendation.decision).toBe('keep-running');
        expect(r.recommendation.details.join(' ')).not.toMatch(/worse than its non-inferiority margin/);
      }
      // the primary metric has no events: control mean 0, relative lift null with a reason, never NaN
      const r = await report('field-negative', 'sequential=false');
      const orders = metric(r, 'field-orders').comparisons[0];
      expect(orders.relativeLift).toBeNull();
      expect(orders.relativeLiftReason).toEqual(expect.any(String));
      expect(JSON.stringify(r)).not.toMatch(/NaN|Infinity/);
    });
  });

  describe('large values, small spread (1e9 + {0, 1} vs 1e9 + {1, 2}, and at 1e8, 1e6)', () => {
    const g = golden.cases['large-values'];

    it('sd 0.7071067811865476 per arm and Welch p 0.29289321881345254 at every offset', async () => {
      const r = await report('field-large', 'sequential=false');
      for (const key of ['field-big9', 'field-big8', 'field-big6']) {
        const m = metric(r, key);
        const e = g.expected[key];
        for (const [i, v] of m.variants.entries()) {
          close(v.stdDev, 0.7071067811865476, `${key}.${v.variant}.stdDev`, 1e-9);
          close(v.mean, e[i === 0 ? 'control' : 'treatment'].mean, `${key}.${v.variant}.mean`, 1e-12);
        }
        const c = m.comparisons[0];
        expect(c.reason).toBeNull();
        close(c.pValue, 0.29289321881345254, `${key}.pValue`, 1e-9);
        closeInterval(c.ci, e.ci, `${key}.ci`);
        close(c.relativeLift, e.relativeLift, `${key}.relativeLift`);
        close(c.sequential.pValue, e.sequential.pValue, `${key}.sequential.pValue`);
        close(c.bayesian.chanceToBeatBaseline, e.chanceToBeatBaseline, `${key}.chance`);
      }
    });

    it('ratio metrics (1e9 per visit ± a little: the linearised delta method) and CUPED at a 1e9 offset match NumPy', async () => {
      const r = await report('field-large', 'sequential=false');
      const m = metric(r, 'field-big-ratio');
      const e = g.expected['field-big-ratio'];
      close(m.variants[0].mean, e.control.mean, 'ratio control mean', 1e-12);
      close(m.variants[0].stdDev, e.control.stdDev, 'ratio control stdDev');
      close(m.variants[1].stdDev, e.treatment.stdDev, 'ratio treatment stdDev');
      close(m.comparisons[0].pValue, e.pValue, 'ratio pValue');
      closeInterval(m.comparisons[0].ci, e.ci, 'ratio ci');
      const cu = metric(await report('field-large', 'sequential=false&cuped=true'), 'field-big9').comparisons[0];
      const ec = g.expected.cuped['field-big9'];
      expect(cu.cuped.applied).toBe(true);
      close(cu.cuped.theta, ec.theta, 'cuped.theta');
      close(cu.absoluteLift, ec.absoluteLift, 'cuped.absoluteLift');
      close(cu.pValue, ec.pValue, 'cuped.pValue');
      closeInterval(cu.ci, ec.ci, 'cuped.ci');
    });

    it('the time series of a young experiment steps by the minute and keeps the spread at 1e9', async () => {
      const s = (
        await t.call('GET', '/v1/experiments/field-large/report/timeseries?metrics=field-big9,field-big-ratio')
      ).body;
      expect(s.bucket).toBe('minute');
      expect(s.days.length).toBeGreaterThanOrEqual(20);
      expect(Date.parse(s.days[1].start) - Date.parse(s.days[0].start)).toBe(60_000);
      const last = s.days[s.days.length - 1].metrics[0];
      for (const v of last.variants) close(v.stdDev, 0.7071067811865476, `series ${v.variant}.stdDev`, 1e-9);
      close(last.comparisons[0].pValue, 0.29289321881345254, 'series pValue', 1e-9);
      const ratio = s.days[s.days.length - 1].metrics[1];
      const er = g.expected['field-big-ratio'];
      close(ratio.variants[0].stdDev, er.control.stdDev, 'series ratio control stdDev');
      close(ratio.variants[1].stdDev, er.treatment.stdDev, 'series ratio treatment stdDev');
      close(ratio.comparisons[0].pValue, er.pValue, 'series ratio pValue');
      const hourly = (
        await t.call('GET', '/v1/experiments/field-large/report/timeseries?metrics=field-big9&bucket=hour')
      ).body;
      expect(hourly.bucket).toBe('hour');
      expect(hourly.days.length).toBeLessThanOrEqual(2);
    });
  });

  describe('peeking (a running experiment with 253 units)', () => {
    const e = golden.cases.peeking.expected['field-score'];

    it('recommends on the always-valid interval while running, and says so', async () => {
      const r = await report('field-peeking');
      expect(r.recommendation.basis).toBe('always-valid');
      expect(r.recommendation.basisReason).toMatch(/running/);
      expect(r.recommendation.decision).toBe('keep-running');
      const c = r.metrics[0].comparisons[0];
      close(c.pValue, e.pValue, 'pValue');
      close(c.sequential.pValue, e.sequential.pValue, 'sequential.pValue');
      closeInterval(c.sequential.ci, e.sequential.ci, 'sequential.ci');
      expect(c.significant).toBe(false);
      expect(c.significance).toMatchObject({ basis: 'always-valid', absolute: true, alwaysValid: false });
    });

    it('switches to fixed-horizon when asked, when the planned size or end is reached, and once stopped', async () => {
      const asked = await report('field-peeking', 'sequential=false');
      expect(asked.recommendation).toMatchObject({
        basis: 'fixed-horizon',
        decision: 'rollback',
        variant: 'treatment',
      });
      const planned = await report('field-peeking', 'plannedUnits=200');
      expect(planned.recommendation).toMatchObject({ basis: 'fixed-horizon', decision: 'rollback', plannedUnits: 200 });
      expect(planned.recommendation.basisReason).toMatch(/planned sample size/);
      expect((await report('field-peeking', 'plannedUnits=1000')).recommendation.basis).toBe('always-valid');
      const ended = await report('field-peeking', `plannedEnd=${new Date(Date.now() - 60_000).toISOString()}`);
      expect(ended.recommendation).toMatchObject({ basis: 'fixed-horizon', decision: 'rollback' });
      expect((await t.call('POST', '/v1/experiments/field-peeking/stop')).status).toBe(200);
      const stopped = (await t.call('GET', '/v1/experiments/field-peeking/report')).body;
      expect(stopped.recommendation).toMatchObject({ basis: 'fixed-horizon', decision: 'rollback' });
      expect(stopped.metrics[0].comparisons[0].significant).toBe(true);
    });
  });
});
