/* eslint-disable @typescript-eslint/no-explicit-any */
import { rankingExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * The console's Bandit page data, through HTTP: the decision log (GET …/decisions), the report's exploration
 * `topItems` / `coldItemList`, and the time series' per-day `selectionShare`. Every figure is checked against hand
 * counts of what /v1/rank answered and what /v1/rewards was sent.
 */

const ITEMS = 12;
const THRESHOLD = 12;
const Z95 = 1.959963984540054;
const candidates = () =>
  Array.from({ length: ITEMS }, (_, i) => ({
    id: `it-${String(i).padStart(2, '0')}`,
    features: { price: (i % 10) / 10 },
  }));

interface Ranked {
  decisionId: string;
  variant: string;
  slots: Array<{
    position: number;
    itemId: string;
    score: number | null;
    propensity: number | null;
    explored: boolean;
    coldStart: boolean;
    explanation: { rankerScore: number | null };
  }>;
}

/** Rank `n` units, then reward some slots (binary and fractional values, one slot twice). */
async function traffic(
  t: TestApp,
  key: string,
  serving: string,
  n: number,
  rewardOf: (i: number, position: number) => number[],
) {
  const ranked: Ranked[] = [];
  const rewards = new Map<string, number[]>(); // `${decisionId}/${itemId}` → values sent
  for (let i = 0; i < n; i++) {
    const res = await t.call('POST', '/v1/rank', {
      key: serving,
      body: {
        experiment: key,
        unitId: `${key}-u${i}`,
        context: { age: (i % 7) / 7 },
        candidates: candidates(),
        explain: true,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    ranked.push(res.body);
  }
  const batch: Array<{ decisionId: string; itemId: string; value: number }> = [];
  ranked.forEach((d, i) => {
    for (const s of d.slots) {
      for (const value of rewardOf(i, s.position)) {
        batch.push({ decisionId: d.decisionId, itemId: s.itemId, value });
        const k = `${d.decisionId}/${s.itemId}`;
        rewards.set(k, [...(rewards.get(k) ?? []), value]);
      }
    }
  });
  const res = await t.call('POST', '/v1/rewards', { key: serving, body: { rewards: batch } });
  expect(res.status).toBe(200);
  expect(res.body.accepted).toBe(batch.length);
  return { ranked, rewards };
}

/** Per item: shown slots, Σ slot reward totals, whether every slot total is 0 or 1, Σ squares. */
function handCounts(ranked: Ranked[], rewards: Map<string, number[]>) {
  const items = new Map<string, { impressions: number; rewards: number; squares: number; binary: boolean }>();
  for (const d of ranked) {
    for (const s of d.slots) {
      const total = (rewards.get(`${d.decisionId}/${s.itemId}`) ?? []).reduce((a, b) => a + b, 0);
      const c = items.get(s.itemId) ?? { impressions: 0, rewards: 0, squares: 0, binary: true };
      c.impressions += 1;
      c.rewards += total;
      c.squares += total * total;
      c.binary &&= total === 0 || total === 1;
      items.set(s.itemId, c);
    }
  }
  return items;
}

const byImpressions = (a: [string, { impressions: number }], b: [string, { impressions: number }]) =>
  b[1].impressions - a[1].impressions || (a[0] < b[0] ? -1 : 1);

describe('Bandit page data: decisions, top items, cold items, selection share', () => {
  let t: TestApp;
  let serving: string;
  let ranked: Ranked[];
  let rewards: Map<string, number[]>;
  let log: any[];

  beforeAll(async () => {
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '60000' } });
    serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'backend', role: 'serving' } })).body.key;
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: rankingExperiment('bandit', { coldStartThreshold: THRESHOLD, rewardWindowSeconds: 3600 }),
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/bandit/start')).status).toBe(200);
    // Position 1: reward 1 on every third decision; position 2: 0.5 on every fourth; decision 5's position 1 twice (1 + 1).
    ({ ranked, rewards } = await traffic(t, 'bandit', serving, 36, (i, position) => {
      if (position === 1 && i === 5) return [1, 1];
      if (position === 1 && i % 3 === 0) return [1];
      if (position === 2 && i % 4 === 0) return [0.5];
      return [];
    }));
    const all = await t.call('GET', '/v1/experiments/bandit/decisions?limit=100');
    expect(all.status).toBe(200);
    log = all.body.decisions;
  }, 120_000);
  afterAll(() => t?.close(true));

  describe('GET /v1/experiments/{key}/decisions', () => {
    it('returns exactly the logged slots, propensities and rewards, newest first', () => {
      expect(log.map((d) => d.decisionId)).toEqual(ranked.map((d) => d.decisionId).reverse());
      const ats = log.map((d) => Date.parse(d.at));
      expect([...ats].sort((a, b) => b - a)).toEqual(ats);
      for (const d of log) {
        const r = ranked.find((x) => x.decisionId === d.decisionId)!;
        expect(d).toMatchObject({ unitId: `bandit-u${ranked.indexOf(r)}`, variant: r.variant });
        expect(d.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        expect(d.slots).toHaveLength(r.slots.length);
        d.slots.forEach((s: any, j: number) => {
          const shown = r.slots[j];
          expect({
            position: s.position,
            itemId: s.itemId,
            score: s.score,
            propensity: s.propensity,
            explored: s.explored,
            coldStart: s.coldStart,
          }).toEqual({
            position: shown.position,
            itemId: shown.itemId,
            score: shown.score,
            propensity: shown.propensity,
            explored: shown.explored,
            coldStart: shown.coldStart,
          });
          const sent = rewards.get(`${d.decisionId}/${s.itemId}`) ?? [];
          expect(s.reward).toBe(sent.reduce((a, b) => a + b, 0));
          expect(s.rewardCount).toBe(sent.length);
          expect(s.explanation.rankerScore).toBe(shown.explanation.rankerScore);
          expect(s.explanation).toMatchObject({ shortlistSize: ITEMS, candidateCount: ITEMS });
          expect(Number.isInteger(s.explanation.shortlistIndex)).toBe(true);
          // The stored shortlist index points at the candidate's logged features.
          const candidate = candidates().find((c) => c.id === s.itemId)!;
          expect(s.explanation.itemFeatures).toEqual([candidate.features.price]);
        });
      }
      // The doubly rewarded slot.
      const fifth = log.find((d) => d.decisionId === ranked[5].decisionId);
      expect(fifth.slots[0]).toMatchObject({ reward: 2, rewardCount: 2 });
    });

    it('defaults to 25, pages with nextBefore without gaps or overlaps, filters by variant', async () => {
      const first = await t.call('GET', '/v1/experiments/bandit/decisions');
      expect(first.status).toBe(200);
      expect(first.body.decisions.map((d: any) => d.decisionId)).toEqual(log.slice(0, 25).map((d) => d.decisionId));
      const page1 = await t.call('GET', '/v1/experiments/bandit/decisions?limit=20');
      expect(page1.body.nextBefore).toBe(page1.body.decisions[19].at);
      const page2 = await t.call(
        'GET',
        `/v1/experiments/bandit/decisions?limit=20&before=${encodeURIComponent(page1.body.nextBefore)}`,
      );
      expect(page2.status).toBe(200);
      expect([...page1.body.decisions, ...page2.body.decisions].map((d: any) => d.decisionId)).toEqual(
        log.map((d) => d.decisionId),
      );
      expect(page2.body.nextBefore).toBeNull();
      const ts = await t.call('GET', '/v1/experiments/bandit/decisions?limit=100&variant=ts');
      expect(ts.body.decisions.map((d: any) => d.decisionId)).toEqual(
        log.filter((d) => d.variant === 'ts').map((d) => d.decisionId),
      );
      const viewer = (await t.call('POST', '/v1/api-keys', { body: { name: 'pm', role: 'viewer' } })).body.key;
      expect((await t.call('GET', '/v1/experiments/bandit/decisions?limit=1', { key: viewer })).status).toBe(200);
      expect((await t.call('GET', '/v1/experiments/bandit/decisions', { key: serving })).status).toBe(403);
    });

    it('answers 400 with field paths for a bad limit / before / variant, 404 for an unknown experiment', async () => {
      for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=2.5']) {
        const res = await t.call('GET', `/v1/experiments/bandit/decisions?${q}`);
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([{ path: 'query.limit', message: 'must be an integer from 1 to 100' }]);
      }
      const before = await t.call('GET', '/v1/experiments/bandit/decisions?before=yesterday');
      expect(before.status).toBe(400);
      expect(before.body.errors).toEqual([{ path: 'query.before', message: 'must be an ISO 8601 date-time' }]);
      const unknownField = await t.call('GET', '/v1/experiments/bandit/decisions?offset=3');
      expect(unknownField.status).toBe(400);
      expect(unknownField.body.errors).toEqual([{ path: 'query.offset', message: 'unknown field' }]);
      const variant = await t.call('GET', '/v1/experiments/bandit/decisions?variant=nope');
      expect(variant.status).toBe(400);
      expect(variant.body.errors[0].path).toBe('query.variant');
      const missing = await t.call('GET', '/v1/experiments/no-such/decisions');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toContain('application/problem+json');
    });
  });

  describe('report exploration: topItems and coldItemList', () => {
    it('topItems are the 10 most shown items with hand-counted impressions and rewards, empirical rate and interval', async () => {
      const report = await t.call('GET', '/v1/experiments/bandit/report');
      expect(report.status).toBe(200);
      const ex = report.body.exploration;
      expect(ex.topItemsMethod).toBe('empirical');
      const counts = handCounts(ranked, rewards);
      const expected = [...counts.entries()].sort(byImpressions).slice(0, 10);
      expect(ex.topItems.map((x: any) => x.itemId)).toEqual(expected.map(([id]) => id));
      for (const [i, [id, c]] of expected.entries()) {
        const got = ex.topItems[i];
        expect(got).toMatchObject({ itemId: id, impressions: c.impressions, cold: c.impressions < THRESHOLD });
        expect(got.rewards).toBeCloseTo(c.rewards, 12);
        expect(got.rewardRate).toBeCloseTo(c.rewards / c.impressions, 12);
        expect(got.posteriorMean).toBeCloseTo(c.rewards / c.impressions, 12);
        const n = c.impressions;
        const p = c.rewards / n;
        if (c.binary) {
          expect(got.interval).toBe('wilson');
          const z2 = Z95 * Z95;
          const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
          const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
          expect(got.lower).toBeCloseTo(Math.max(0, centre - half), 10);
          expect(got.upper).toBeCloseTo(Math.min(1, centre + half), 10);
          if (p === 0) expect(got.lower).toBe(0);
        } else {
          expect(got.interval).toBe('normal');
          const half = Z95 * Math.sqrt(Math.max(0, (c.squares - n * p * p) / (n - 1)) / n);
          expect(got.lower).toBeCloseTo(p - half, 10);
          expect(got.upper).toBeCloseTo(p + half, 10);
        }
        expect(got.lower).toBeLessThanOrEqual(got.posteriorMean);
        expect(got.upper).toBeGreaterThanOrEqual(got.posteriorMean);
      }
    });

    it('coldItemList: shortlisted items below the threshold, remaining = threshold − impressions', async () => {
      const ex = (await t.call('POST', '/v1/experiments/bandit/report/refresh')).body.exploration;
      const counts = handCounts(ranked, rewards);
      // Every candidate was shortlisted (12 ≤ the shortlist of 50); never-shown ones have 0 impressions.
      const all = candidates().map(
        (c) => [c.id, { impressions: counts.get(c.id)?.impressions ?? 0 }] as [string, { impressions: number }],
      );
      const cold = all
        .filter(([, c]) => c.impressions < THRESHOLD)
        .sort(byImpressions)
        .slice(0, 20);
      expect(cold.length).toBeGreaterThan(0);
      expect(ex.coldItemList).toEqual(
        cold.map(([itemId, c]) => ({ itemId, impressions: c.impressions, remaining: THRESHOLD - c.impressions })),
      );
      expect(ex.coldItems).toBe(all.filter(([, c]) => c.impressions < THRESHOLD).length);
      expect(ex.coldStartThreshold).toBe(THRESHOLD);
    });

    it('beta variants: Beta(1 + Σr, 1 + n − Σr) mean with a normal-approximation interval', async () => {
      const body = rankingExperiment('bandit-beta', {
        coldStartThreshold: 3,
        variants: [
          { key: 'control', weight: 50, policy: { type: 'ranker' } },
          { key: 'ts', weight: 50, policy: { type: 'thompson', model: 'beta' } },
        ],
      });
      expect((await t.call('POST', '/v1/experiments', { body })).status).toBe(201);
      expect((await t.call('POST', '/v1/experiments/bandit-beta/start')).status).toBe(200);
      const beta = await traffic(t, 'bandit-beta', serving, 16, (i, position) =>
        position === 1 && i % 2 === 0 ? [1] : [],
      );
      const ex = (await t.call('GET', '/v1/experiments/bandit-beta/report')).body.exploration;
      expect(ex.topItemsMethod).toBe('beta-normal');
      const counts = handCounts(beta.ranked, beta.rewards);
      const expected = [...counts.entries()].sort(byImpressions).slice(0, 10);
      expect(ex.topItems.map((x: any) => x.itemId)).toEqual(expected.map(([id]) => id));
      for (const [i, [, c]] of expected.entries()) {
        const got = ex.topItems[i];
        const a = 1 + c.rewards;
        const b = 1 + c.impressions - c.rewards;
        const mean = a / (a + b);
        const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
        expect(got).toMatchObject({ impressions: c.impressions, interval: 'beta-normal', cold: c.impressions < 3 });
        expect(got.rewards).toBe(c.rewards);
        expect(got.posteriorMean).toBeCloseTo(mean, 12);
        expect(got.lower).toBeCloseTo(Math.max(0, mean - Z95 * sd), 12);
        expect(got.upper).toBeCloseTo(Math.min(1, mean + Z95 * sd), 12);
      }
    }, 60_000);
  });

  describe('GET …/report/timeseries selectionShare', () => {
    it('per day: each top-10 item’s share of that day’s slots, matching hand counts, summing to ≤ 1', async () => {
      const res = await t.call('GET', '/v1/experiments/bandit/report/timeseries');
      expect(res.status).toBe(200);
      const counts = handCounts(ranked, rewards);
      const top = new Set(
        [...counts.entries()]
          .sort(byImpressions)
          .slice(0, 10)
          .map(([id]) => id),
      );
      // Hand counts per UTC day, the day taken from the logged decision time.
      const perDay = new Map<string, Map<string, number>>();
      for (const d of log) {
        const day = d.at.slice(0, 10);
        const m = perDay.get(day) ?? new Map<string, number>();
        for (const s of d.slots) m.set(s.itemId, (m.get(s.itemId) ?? 0) + 1);
        perDay.set(day, m);
      }
      expect(res.body.days.length).toBeGreaterThan(0);
      let seen = 0;
      for (const day of res.body.days) {
        const share = day.selectionShare as Record<string, number>;
        expect(share).toBeDefined();
        const sum = Object.values(share).reduce((a, b) => a + b, 0);
        expect(sum).toBeLessThanOrEqual(1 + 1e-12);
        const hand = perDay.get(day.date) ?? new Map<string, number>();
        const slots = [...hand.values()].reduce((a, b) => a + b, 0);
        const expected = Object.fromEntries(
          [...hand.entries()].filter(([id]) => top.has(id)).map(([id, n]) => [id, n / slots]),
        );
        expect(Object.keys(share).sort()).toEqual(Object.keys(expected).sort());
        for (const [id, s] of Object.entries(expected)) expect(share[id]).toBeCloseTo(s, 12);
        seen += slots;
      }
      // Every logged slot fell on a day of the series.
      expect(seen).toBe(log.reduce((a, d) => a + d.slots.length, 0));
    });

    it('A/B experiments get no selectionShare', async () => {
      const ab = {
        key: 'plain-ab',
        name: 'plain',
        kind: 'ab',
        variants: [
          { key: 'a', weight: 1, config: {} },
          { key: 'b', weight: 1, config: {} },
        ],
        metrics: { primary: 'buy' },
      };
      expect((await t.call('POST', '/v1/experiments', { body: ab })).status).toBe(201);
      expect((await t.call('POST', '/v1/experiments/plain-ab/start')).status).toBe(200);
      expect(
        (await t.call('POST', '/v1/assign', { key: serving, body: { experiment: 'plain-ab', unitId: 'x' } })).status,
      ).toBe(200);
      const res = await t.call('GET', '/v1/experiments/plain-ab/report/timeseries');
      expect(res.status).toBe(200);
      expect(res.body.days.length).toBeGreaterThan(0);
      for (const day of res.body.days) expect(day.selectionShare).toBeUndefined();
      const decisions = await t.call('GET', '/v1/experiments/plain-ab/decisions');
      expect(decisions.body).toEqual({ decisions: [], nextBefore: null });
    });
  });
});
