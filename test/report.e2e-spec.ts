import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from '../apps/api/src/modules/reports/report-render';
import { ReportsScheduler } from '../apps/api/src/modules/reports/reports.scheduler';
import { abExperiment, rankingExperiment, startTestApp, TestApp } from './support/test-app';

/* eslint-disable @typescript-eslint/no-explicit-any */
const golden = JSON.parse(
  readFileSync(join(__dirname, '../apps/api/src/modules/reports/__golden__/report-golden.json'), 'utf8'),
);

/** 1e-6 relative (1e-12 absolute near zero), as the golden files promise. */
function close(actual: unknown, expected: number, path: string): void {
  if (typeof actual !== 'number' || !Number.isFinite(actual))
    throw new Error(`${path}: expected ${expected}, got ${String(actual)}`);
  const tol = Math.max(1e-6 * Math.abs(expected), 1e-12);
  if (Math.abs(actual - expected) > tol)
    throw new Error(`${path}: expected ${expected}, got ${actual} (|Δ| = ${Math.abs(actual - expected)} > ${tol})`);
}
const closeInterval = (actual: any, expected: { lower: number; upper: number }, path: string) => {
  close(actual?.lower, expected.lower, `${path}.lower`);
  close(actual?.upper, expected.upper, `${path}.upper`);
};
const paths = (res: { body: any }) => (res.body.errors ?? []).map((e: { path: string }) => e.path).sort();

describe('experiment reports', () => {
  let t: TestApp;
  let serving: string;
  const key = golden.experiment.key as string;

  beforeAll(async () => {
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '60000' } });
    serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'backend', role: 'serving' } })).body.key;
    for (const m of golden.metricDefinitions)
      expect((await t.call('POST', '/v1/metrics', { body: m })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments', { body: golden.experiment })).status).toBe(201);
    expect((await t.call('POST', `/v1/experiments/${key}/start`)).status).toBe(200);
    const ex = await t.call('POST', '/v1/exposures', { key: serving, body: { exposures: golden.exposures } });
    expect(ex.status).toBe(200);
    expect(ex.body.rejected).toEqual([]);
    const ev = await t.call('POST', '/v1/events', { key: serving, body: { events: golden.events } });
    expect(ev.status).toBe(200);
    expect(ev.body.duplicates).toBe(1);
  });
  afterAll(() => t.close(true));

  describe('GET /v1/experiments/{key}/report on an imported experiment (SciPy / statsmodels golden)', () => {
    it('reproduces units, sums, means, SDs, Welch p and CI, relative-lift CI, Holm, SRM, mSPRT and Bayesian figures to 1e-6', async () => {
      const res = await t.call('GET', `/v1/experiments/${key}/report`);
      expect(res.status).toBe(200);
      const r = res.body;
      expect(r).toMatchObject({ experiment: key, status: 'running', alpha: 0.05, phase: 1, baseline: 'control' });
      expect(typeof r.generatedAt).toBe('string');
      const srm = golden.expected.srm;
      expect(r.srm.observed).toEqual(srm.observed);
      for (const v of Object.keys(srm.expected)) close(r.srm.expected[v], srm.expected[v], `srm.expected.${v}`);
      close(r.srm.chiSquare, srm.chiSquare, 'srm.chiSquare');
      close(r.srm.pValue, srm.pValue, 'srm.pValue');
      expect(r.srm.flagged).toBe(srm.flagged);
      expect(r.health.multipleExposures).toMatchObject({ units: golden.expected.multipleExposures, flagged: false });
      expect(r.metrics.map((m: any) => m.metric)).toEqual(golden.expected.metrics.map((m: any) => m.metric));
      for (const [i, gm] of golden.expected.metrics.entries()) {
        const m = r.metrics[i];
        for (const [j, gv] of gm.variants.entries()) {
          const v = m.variants[j];
          expect(v.variant).toBe(gv.variant);
          expect(v.units).toBe(gv.units);
          close(v.sum, gv.sum, `${gm.metric}.${gv.variant}.sum`);
          close(v.mean, gv.mean, `${gm.metric}.${gv.variant}.mean`);
          close(v.stdDev, gv.stdDev, `${gm.metric}.${gv.variant}.stdDev`);
        }
        expect(m.comparisons).toHaveLength(gm.comparisons.length);
        for (const [j, gc] of gm.comparisons.entries()) {
          const c = m.comparisons[j];
          const at = `${gm.metric}.${gc.variant}`;
          expect(c).toMatchObject({ variant: gc.variant, baseline: 'control', significant: gc.significant });
          expect(c.significance).toEqual({
            basis: golden.expected.traffic.basis,
            ...gc.significance,
            agree: gc.significance.absolute === gc.significance.relative,
          });
          close(c.relativePValue, gc.relativePValue, `${at}.relativePValue`);
          close(c.relativeAdjustedPValue, gc.relativeAdjustedPValue, `${at}.relativeAdjustedPValue`);
          close(c.sequential.adjustedPValue, gc.sequential.adjustedPValue, `${at}.sequential.adjustedPValue`);
          close(c.absoluteLift, gc.absoluteLift, `${at}.absoluteLift`);
          close(c.relativeLift, gc.relativeLift, `${at}.relativeLift`);
          closeInterval(c.ci, gc.ci, `${at}.ci`);
          closeInterval(c.relativeCi, gc.relativeCi, `${at}.relativeCi`);
          close(c.pValue, gc.pValue, `${at}.pValue`);
          close(c.adjustedPValue, gc.adjustedPValue, `${at}.adjustedPValue`);
          close(c.sequential.pValue, gc.sequential.pValue, `${at}.sequential.pValue`);
          closeInterval(c.sequential.ci, gc.sequential.ci, `${at}.sequential.ci`);
          close(
            c.bayesian.chanceToBeatBaseline,
            gc.bayesian.chanceToBeatBaseline,
            `${at}.bayesian.chanceToBeatBaseline`,
          );
          close(c.bayesian.expectedLoss, gc.bayesian.expectedLoss, `${at}.bayesian.expectedLoss`);
        }
      }
      // a running experiment short of its planned size is judged by the always-valid intervals (issue 14, item 3)
      expect(r.recommendation).toMatchObject({
        basis: golden.expected.traffic.basis,
        plannedUnits: golden.expected.traffic.plannedUnits,
      });
      expect(r.recommendation.basisReason).toMatch(/running/);
      expect(r.options.sequential).toBe(true);
      // imported history: traffic from the exposures' own span, not from 2025 to now (issue 14, item 5)
      close(r.health.unitsPerDay, golden.expected.traffic.unitsPerDay, 'health.unitsPerDay');
      close(r.recommendation.unitsPerDay, golden.expected.traffic.unitsPerDay, 'recommendation.unitsPerDay');
      expect(typeof r.recommendation.reason).toBe('string');
      expect(r.exploration).toBeNull();
    });

    it("with sequential=false judges by the fixed-horizon tests; estimatedDays come from the exposures' own time span", async () => {
      const r = (await t.call('GET', `/v1/experiments/${key}/report?sequential=false`)).body;
      expect(r.recommendation.basis).toBe('fixed-horizon');
      expect(r.recommendation.basisReason).toMatch(/sequential=false/);
      for (const [i, gm] of golden.expected.metrics.entries()) {
        for (const [j, gc] of gm.comparisons.entries()) {
          expect(r.metrics[i].comparisons[j].significant).toBe(gc.significance.absolute);
          expect(r.metrics[i].comparisons[j].significance.basis).toBe('fixed-horizon');
        }
      }
      expect(r.metrics[0].comparisons.some((c: any) => c.significant)).toBe(true);
      // the star of revenue b is the (Holm-adjusted) absolute test's; the adjusted relative test is not significant,
      // and the report says the two scales disagree (item 4)
      const b = r.metrics[0].comparisons[0];
      expect(b.significance).toMatchObject({ absolute: true, relative: false, agree: false });
      expect(b.relativeAdjustedPValue).toBeGreaterThan(0.05);
      for (const v of r.recommendation.variants) {
        const gc = golden.expected.metrics[0].comparisons.find((c: any) => c.variant === v.variant);
        if (v.decision !== 'keep-running') continue;
        expect(v.requiredUnits).toBe(gc.requiredUnits);
        expect(v.estimatedDays).toBe(gc.estimatedDays);
        expect(v.estimatedDays).toBeLessThan(1000); // "~20,886 days" before the fix
      }
      expect(r.recommendation.variants.some((v: any) => v.decision === 'keep-running')).toBe(true);
    });

    it('Benjamini–Hochberg and CUPED match their golden values; no correction keeps the raw p-values', async () => {
      const bh = (await t.call('GET', `/v1/experiments/${key}/report?correction=bh`)).body;
      const none = (await t.call('GET', `/v1/experiments/${key}/report?correction=none`)).body;
      const cuped = (await t.call('GET', `/v1/experiments/${key}/report?cuped=true`)).body;
      for (const [i, gm] of golden.expected.metrics.entries()) {
        for (const [j, gc] of gm.comparisons.entries()) {
          const at = `${gm.metric}.${gc.variant}`;
          close(bh.metrics[i].comparisons[j].adjustedPValue, gc.adjustedPValueBh, `${at}.bh`);
          close(none.metrics[i].comparisons[j].adjustedPValue, gc.pValue, `${at}.none`);
          const c = cuped.metrics[i].comparisons[j];
          expect(c.cuped.applied).toBe(true);
          close(c.cuped.theta, gc.cuped.theta, `${at}.cuped.theta`);
          close(c.cuped.varianceReduction, gc.cuped.varianceReduction, `${at}.cuped.varianceReduction`);
          close(c.absoluteLift, gc.cuped.absoluteLift, `${at}.cuped.absoluteLift`);
          close(c.pValue, gc.cuped.pValue, `${at}.cuped.pValue`);
          closeInterval(c.ci, gc.cuped.ci, `${at}.cuped.ci`);
        }
      }
      expect(cuped.metrics[0].comparisons[0].cuped.varianceReduction).toBeGreaterThan(0.05);
    });

    it('segments by an exposure attribute, windows by from/to, and picks another baseline', async () => {
      const multi = new Set(['both-variants']);
      const de: Record<string, number> = {};
      for (const x of golden.exposures)
        if (!multi.has(x.unitId) && x.attributes?.country === 'de') de[x.variant] = (de[x.variant] ?? 0) + 1;
      const seg = (await t.call('GET', `/v1/experiments/${key}/report?segment=country:de`)).body;
      expect(Object.fromEntries(seg.metrics[0].variants.map((v: any) => [v.variant, v.units]))).toEqual(de);
      expect(seg.options.segment).toEqual({ attribute: 'country', value: 'de' });
      const early = (await t.call('GET', `/v1/experiments/${key}/report?to=2025-03-04T00:00:00Z`)).body;
      const all = (await t.call('GET', `/v1/experiments/${key}/report`)).body;
      expect(early.metrics[0].variants[0].units).toBeLessThan(all.metrics[0].variants[0].units);
      const other = (await t.call('GET', `/v1/experiments/${key}/report?baseline=b&metrics=revenue`)).body;
      expect(other.metrics).toHaveLength(1);
      expect(other.metrics[0].comparisons.map((c: any) => [c.variant, c.baseline])).toEqual([
        ['control', 'b'],
        ['c', 'b'],
      ]);
    });

    it('answers 400 with field paths for bad options, 404 for an unknown experiment', async () => {
      const bad = async (qs: string) => t.call('GET', `/v1/experiments/${key}/report?${qs}`);
      expect(paths(await bad('alpha=2'))).toEqual(['query.alpha']);
      expect(paths(await bad('alpha=abc&correction=bonferroni'))).toEqual(['query.alpha', 'query.correction']);
      expect(paths(await bad('cuped=maybe&sequential=2'))).toEqual(['query.cuped', 'query.sequential']);
      expect(paths(await bad('segment=country'))).toEqual(['query.segment']);
      expect(paths(await bad('metrics=Revenue!'))).toEqual(['query.metrics[0]']);
      expect(paths(await bad('from=2025-03-05T00:00:00Z&to=2025-03-04T00:00:00Z'))).toEqual(['query.to']);
      expect(paths(await bad('from=yesterday'))).toEqual(['query.from']);
      expect(paths(await bad('phase=0'))).toEqual(['query.phase']);
      expect(paths(await bad('phase=7'))).toEqual(['query.phase']);
      expect(paths(await bad('baseline=nope'))).toEqual(['query.baseline']);
      expect(paths(await bad('format=xml'))).toEqual(['query.format']);
      expect(paths(await bad('bogus=1'))).toEqual(['query.bogus']);
      expect(paths(await bad('metrics=revenue,reward'))).toEqual(['query.metrics[1]']);
      const r = await bad('alpha=2');
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect((await t.call('GET', '/v1/experiments/no-such-exp/report')).status).toBe(404);
      expect(paths(await t.call('GET', `/v1/experiments/${key}/report/timeseries?correction=bh`))).toEqual([
        'query.correction',
      ]);
      expect(paths(await t.call('GET', `/v1/experiments/${key}/report.html?alpha=-1`))).toEqual(['query.alpha']);
    });

    it('exports CSV with the same numbers', async () => {
      const json = (await t.call('GET', `/v1/experiments/${key}/report`)).body;
      const res = await t.call('GET', `/v1/experiments/${key}/report?format=csv`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      const lines = res.text.trim().split('\r\n');
      const header = lines[0].split(',');
      expect(header.slice(0, 8)).toEqual(['metric', 'role', 'variant', 'baseline', 'units', 'sum', 'mean', 'stdDev']);
      expect(lines).toHaveLength(1 + 2 * 3);
      const row = (metric: string, variant: string) => {
        const cells = lines.find((l) => l.startsWith(`${metric},`) && l.split(',')[2] === variant)!.split(',');
        return Object.fromEntries(header.map((h, i) => [h, cells[i]]));
      };
      const b = row('revenue', 'b');
      const jb = json.metrics[0].comparisons[0];
      expect(Number(b.units)).toBe(json.metrics[0].variants[1].units);
      expect(Number(b.pValue)).toBe(jb.pValue);
      expect(Number(b.adjustedPValue)).toBe(jb.adjustedPValue);
      expect(Number(b.ciLower)).toBe(jb.ci.lower);
      expect(Number(b.relativeCiUpper)).toBe(jb.relativeCi.upper);
      expect(b.significant).toBe(String(jb.significant));
      expect(row('revenue', 'control').pValue).toBe('');
    });

    it('renders a printable, self-contained HTML report with the numbers', async () => {
      const res = await t.call('GET', `/v1/experiments/${key}/report.html`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = res.text;
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
      expect((html.match(/<table/g) ?? []).length).toBeGreaterThanOrEqual(5);
      const json = (await t.call('GET', `/v1/experiments/${key}/report`)).body;
      const c = json.metrics[0].comparisons[0];
      for (const x of [
        c.pValue,
        c.adjustedPValue,
        c.ci.lower,
        c.ci.upper,
        json.metrics[0].variants[0].mean,
        json.srm.chiSquare,
      ])
        expect(html).toContain(fmt(x));
      expect(html).toContain('revenue');
      expect(html).toContain('clicks');
      // the recommendation's basis and the scale of the ★ (issue 14)
      expect(html).toContain('Basis: always-valid (sequential) intervals');
      expect(html).toContain('★ = the always-valid test of the absolute difference');
    });
  });

  describe('GET /v1/experiments/{key}/report/timeseries', () => {
    it('gives cumulative units, means and lifts per day, ending at the report as of the same time', async () => {
      const to = '2025-03-09T00:00:00Z';
      const res = await t.call('GET', `/v1/experiments/${key}/report/timeseries?to=${to}&bucket=day`);
      expect(res.status).toBe(200);
      const s = res.body;
      expect(s.bucket).toBe('day');
      expect(s.days.map((d: any) => d.date)).toEqual([
        '2025-03-03',
        '2025-03-04',
        '2025-03-05',
        '2025-03-06',
        '2025-03-07',
        '2025-03-08',
      ]);
      for (const [i, d] of s.days.entries()) {
        expect(d.metrics.map((m: any) => m.metric)).toEqual(['revenue', 'clicks']);
        expect(d.metrics[0].comparisons.map((c: any) => c.variant)).toEqual(['b', 'c']);
        expect(Object.keys(d.metrics[0].comparisons[0])).toEqual(
          expect.arrayContaining(['absoluteLift', 'ci', 'relativeLift', 'relativeCi', 'pValue', 'sequential']),
        );
        if (i > 0)
          for (const v of ['control', 'b', 'c']) expect(d.units[v]).toBeGreaterThanOrEqual(s.days[i - 1].units[v]);
      }
      const report = (await t.call('GET', `/v1/experiments/${key}/report?to=${to}`)).body;
      const last = s.days[s.days.length - 1];
      for (const [i, m] of report.metrics.entries()) {
        for (const [j, v] of m.variants.entries()) {
          expect(last.metrics[i].variants[j].units).toBe(v.units);
          close(last.metrics[i].variants[j].mean, v.mean, `${m.metric}.${v.variant}.mean`);
          close(last.metrics[i].variants[j].stdDev, v.stdDev, `${m.metric}.${v.variant}.stdDev`);
        }
        for (const [j, c] of m.comparisons.entries()) {
          close(last.metrics[i].comparisons[j].pValue, c.pValue, `${m.metric}.${c.variant}.pValue`);
          closeInterval(last.metrics[i].comparisons[j].relativeCi, c.relativeCi, `${m.metric}.${c.variant}.relativeCi`);
        }
      }
      // the always-valid p-value never increases over the days (running minimum)
      const seq = s.days.map((d: any) => d.metrics[0].comparisons[0].sequential.pValue).filter((p: any) => p !== null);
      for (let i = 1; i < seq.length; i++) expect(seq[i]).toBeLessThanOrEqual(seq[i - 1]);
      // bucket=auto: a span of under 7 days is drawn per hour, ending at the same numbers
      const hourly = (await t.call('GET', `/v1/experiments/${key}/report/timeseries?to=${to}`)).body;
      expect(hourly.bucket).toBe('hour');
      expect(hourly.days.length).toBeGreaterThan(100);
      expect(Date.parse(hourly.days[1].start) - Date.parse(hourly.days[0].start)).toBe(3_600_000);
      const lastHour = hourly.days[hourly.days.length - 1];
      for (const [i, m] of report.metrics.entries())
        for (const [j, v] of m.variants.entries())
          close(lastHour.metrics[i].variants[j].stdDev, v.stdDev, `hourly ${m.metric}.${v.variant}.stdDev`);
      expect(paths(await t.call('GET', `/v1/experiments/${key}/report/timeseries?to=${to}&bucket=minute`))).toEqual([
        'query.bucket',
      ]);
      expect(paths(await t.call('GET', `/v1/experiments/${key}/report/timeseries?bucket=week`))).toEqual([
        'query.bucket',
      ]);
    });
  });

  describe('POST /v1/stats/power', () => {
    it('matches statsmodels NormalIndPower (sample size and MDE) to 1e-6', async () => {
      for (const [i, c] of golden.power.entries()) {
        const res = await t.call('POST', '/v1/stats/power', { body: c.request });
        expect(res.status).toBe(200);
        for (const [k, v] of Object.entries(c.expected)) {
          if (k.endsWith('Rounded')) expect(res.body[k]).toBe(v);
          else close(res.body[k], v as number, `power[${i}].${k}`);
        }
      }
      const days = await t.call('POST', '/v1/stats/power', { body: { ...golden.power[0].request, unitsPerDay: 1000 } });
      expect(days.body.days).toBe(Math.ceil(days.body.totalRounded / 1000));
    });

    it('answers 400 with paths', async () => {
      const post = (body: unknown) => t.call('POST', '/v1/stats/power', { body });
      expect(paths(await post({ baseline: { proportion: 0.1 }, mde: 0.05, nControl: 100 }))).toEqual(['nControl']);
      expect(paths(await post({ baseline: { proportion: 0.1 } }))).toEqual(['mde']);
      expect(paths(await post({ baseline: { proportion: 1.5 }, mde: 0.1 }))).toEqual(['baseline.proportion']);
      expect(paths(await post({ baseline: { mean: 1, stdDev: 1 }, mde: -1, alpha: 0, power: 2 }))).toEqual([
        'alpha',
        'mde',
        'power',
      ]);
      expect(paths(await post({ baseline: { mean: 0, stdDev: 1 }, mde: 0.1 }))).toEqual(['baseline']);
    });
  });

  describe('cache and refresh', () => {
    it('serves running experiments from the cache until refreshed (on demand or by the schedule)', async () => {
      expect(
        (
          await t.call('POST', '/v1/experiments', {
            body: abExperiment('cached', { assignment: 'external', metrics: { primary: 'buy' } }),
          })
        ).status,
      ).toBe(201);
      expect((await t.call('POST', '/v1/experiments/cached/start')).status).toBe(200);
      const exposures = Array.from({ length: 20 }, (_, i) => ({
        experiment: 'cached',
        unitId: `k-${i}`,
        variant: i % 2 ? 'treatment' : 'control',
        timestamp: '2025-03-03T00:00:00Z',
      }));
      await t.call('POST', '/v1/exposures', { key: serving, body: { exposures } });
      const buy = (unit: string, value: number, id: string) => ({
        unitId: unit,
        metric: 'buy',
        value,
        timestamp: '2025-03-03T01:00:00Z',
        eventId: id,
      });
      await t.call('POST', '/v1/events', {
        key: serving,
        body: { events: [buy('k-0', 2, 'e1'), buy('k-1', 3, 'e2')] },
      });
      const first = (await t.call('GET', '/v1/experiments/cached/report')).body;
      expect(first.cache).toBeDefined();
      await t.call('POST', '/v1/events', { key: serving, body: { events: [buy('k-2', 5, 'e3')] } });
      const again = (await t.call('GET', '/v1/experiments/cached/report')).body;
      expect(again.generatedAt).toBe(first.generatedAt);
      expect(again.metrics[0].variants[0].sum).toBe(2);
      const refreshed = await t.call('POST', '/v1/experiments/cached/report/refresh');
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.metrics[0].variants[0].sum).toBe(7);
      expect((await t.call('GET', '/v1/experiments/cached/report')).body.generatedAt).toBe(refreshed.body.generatedAt);
      await t.call('POST', '/v1/events', { key: serving, body: { events: [buy('k-4', 1, 'e4')] } });
      expect(await t.running.app.get(ReportsScheduler).tick(0)).toBeGreaterThanOrEqual(1);
      expect((await t.call('GET', '/v1/experiments/cached/report')).body.metrics[0].variants[0].sum).toBe(8);
      // a viewer can read and refresh
      const viewer = (await t.call('POST', '/v1/api-keys', { body: { name: 'viewer', role: 'viewer' } })).body.key;
      expect((await t.call('GET', '/v1/experiments/cached/report', { key: viewer })).status).toBe(200);
      expect((await t.call('GET', '/v1/experiments/cached/report', { key: serving })).status).toBe(403);
    });
  });

  describe('ranking experiments', () => {
    it('reports the built-in reward (per-unit sum of slot rewards) and reward rate per decision, and exploration', async () => {
      expect(
        (
          await t.call('POST', '/v1/experiments', {
            body: rankingExperiment('feed-report', { rewardWindowSeconds: 3600 }),
          })
        ).status,
      ).toBe(201);
      expect((await t.call('POST', '/v1/experiments/feed-report/start')).status).toBe(200);
      const candidates = Array.from({ length: 6 }, (_, i) => ({ id: `it-${i}`, features: { price: i / 10 } }));
      const perUnit = new Map<string, { variant: string; reward: number; decisions: number }>();
      const rewards: Array<{ decisionId: string; itemId: string; value: number; eventId: string }> = [];
      for (let u = 0; u < 24; u++) {
        const unitId = `ru-${u}`;
        for (let d = 0; d < 1 + (u % 3); d++) {
          const res = await t.call('POST', '/v1/rank', {
            key: serving,
            body: { experiment: 'feed-report', unitId, context: { age: 0.4 }, candidates },
          });
          expect(res.status).toBe(200);
          const entry = perUnit.get(unitId) ?? { variant: res.body.variant, reward: 0, decisions: 0 };
          entry.decisions++;
          // rewards on the first two slots of some decisions, deterministic values
          for (const [pos, s] of res.body.slots.slice(0, 2).entries()) {
            if ((u + d + pos) % 3 === 0) continue;
            const value = ((u * 7 + d * 3 + pos) % 5) / 4;
            rewards.push({ decisionId: res.body.decisionId, itemId: s.itemId, value, eventId: `rw-${u}-${d}-${pos}` });
            entry.reward += value;
          }
          perUnit.set(unitId, entry);
        }
      }
      const posted = await t.call('POST', '/v1/rewards', { key: serving, body: { rewards } });
      expect(posted.body.accepted).toBe(rewards.length);
      const report = (await t.call('GET', '/v1/experiments/feed-report/report')).body;
      expect(report.metrics.map((m: any) => m.metric)).toEqual(['reward', 'reward_rate']);
      const hand = (variant: string) => {
        const units = [...perUnit.values()].filter((x) => x.variant === variant);
        const n = units.length;
        const sum = units.reduce((a, x) => a + x.reward, 0);
        const mean = sum / n;
        const sd = Math.sqrt(units.reduce((a, x) => a + (x.reward - mean) ** 2, 0) / (n - 1));
        const decisions = units.reduce((a, x) => a + x.decisions, 0);
        return { n, sum, mean, sd, rate: sum / decisions, decisions };
      };
      for (const v of report.metrics[0].variants) {
        const h = hand(v.variant);
        expect(v.units).toBe(h.n);
        close(v.sum, h.sum, `reward.${v.variant}.sum`);
        close(v.mean, h.mean, `reward.${v.variant}.mean`);
        close(v.stdDev, h.sd, `reward.${v.variant}.stdDev`);
      }
      for (const v of report.metrics[1].variants) {
        const h = hand(v.variant);
        close(v.mean, h.rate, `reward_rate.${v.variant}.mean`);
        expect(v.denominatorSum).toBe(h.decisions);
      }
      const c = report.metrics[0].comparisons[0];
      close(c.absoluteLift, hand('ts').mean - hand('control').mean, 'reward.absoluteLift');
      expect(report.exploration).toMatchObject({
        decisions: [...perUnit.values()].reduce((a, x) => a + x.decisions, 0),
      });
      expect(report.health.unitsSource).toBe('exposures');
      const series = (await t.call('GET', '/v1/experiments/feed-report/report/timeseries')).body;
      const last = series.days[series.days.length - 1];
      expect(last.exploration).toMatchObject({
        decisions: report.exploration.decisions,
        slots: report.exploration.slots,
      });
      close(last.metrics[0].variants[0].mean, report.metrics[0].variants[0].mean, 'series reward mean');
      close(last.metrics[1].variants[1].mean, report.metrics[1].variants[1].mean, 'series reward rate');
    });
  });
});
