import { createRng } from '@slotwise/bandit';
import { startTestApp, TestApp } from './support/test-app';

/** Uniform draws in [0, 1) from the platform's seeded generator. */
const uniformStream = (seed: number): (() => number) => {
  const rng = createRng(seed);
  return () => rng.uniform();
};

interface Item {
  id: string;
  f: [number, number];
  arrivesAt: number;
}

/**
 * A seeded world with a hidden click model linear in (context × item) features: 20 items, 5 of which arrive
 * after 1,000 decisions. Rewards are Bernoulli draws, sent in delayed batches.
 */
function world(seed: number) {
  const rnd = uniformStream(seed);
  const items: Item[] = Array.from({ length: 20 }, (_, i) => ({
    id: `w-${i}`,
    f: [rnd(), rnd()] as [number, number],
    arrivesAt: i < 15 ? 0 : 1000,
  }));
  // Two of the late items are among the best, so learning them matters.
  items[15].f = [0.95, 0.9];
  items[16].f = [0.9, 0.95];
  const p = (c: [number, number], f: [number, number]) =>
    Math.min(0.95, Math.max(0.01, 0.02 + 0.25 * f[0] * c[0] + 0.25 * f[1] * c[1] + 0.1 * f[0] * f[1]));
  return { items, p, rnd };
}

describe('learning through HTTP: hybrid Thompson sampling against random on a synthetic world', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Decision seeds from one seeded sequence: the whole run (world, assignment, decisions) is reproducible.
    t = await startTestApp({ env: { SLOTWISE_DECISION_SEED: '4242' } });
  });
  afterAll(() => t.close(true));

  it('has lower regret than random, shows and graduates every late item, and explores less over time', async () => {
    const experiment = {
      key: 'learning',
      salt: 'learning-world',
      name: 'Learning world',
      kind: 'ranking',
      slots: 2,
      features: { context: ['c1', 'c2'], item: ['f1', 'f2'] },
      coldStartThreshold: 100,
      variants: [
        { key: 'ts', weight: 1, policy: { type: 'thompson', model: 'hybrid', propensityDraws: 50 } },
        { key: 'random', weight: 1, policy: { type: 'random' } },
      ],
      metrics: { primary: 'reward' },
    };
    expect((await t.call('POST', '/v1/experiments', { body: experiment })).status).toBe(201);
    expect((await t.call('POST', '/v1/experiments/learning/start')).status).toBe(200);

    const { items, p, rnd } = world(20261128);
    const regret: Record<string, number> = { ts: 0, random: 0 };
    const decisions: Record<string, number> = { ts: 0, random: 0 };
    const impressions = new Map<string, number>();
    const explored: Array<{ step: number; explored: number; slots: number }> = [];
    let pending: Array<{ decisionId: string; itemId: string; value: number; eventId: string }> = [];
    const DECISIONS = 5000;

    for (let step = 0; step < DECISIONS; step++) {
      const c: [number, number] = [rnd(), rnd()];
      const available = items.filter((it) => it.arrivesAt <= step);
      const res = await t.call('POST', '/v1/rank', {
        body: {
          experiment: 'learning',
          unitId: `unit-${step}`,
          context: c,
          candidates: available.map((it) => ({ id: it.id, features: it.f })),
        },
      });
      expect(res.status).toBe(200);
      const variant = res.body.variant as string;
      const truth = new Map(available.map((it) => [it.id, p(c, it.f)]));
      const best = [...truth.values()]
        .sort((a, b) => b - a)
        .slice(0, 2)
        .reduce((a, b) => a + b, 0);
      let got = 0;
      for (const s of res.body.slots as Array<{ itemId: string; explored: boolean }>) {
        const prob = truth.get(s.itemId)!;
        got += prob;
        impressions.set(s.itemId, (impressions.get(s.itemId) ?? 0) + 1);
        const click = rnd() < prob ? 1 : 0;
        pending.push({
          decisionId: res.body.decisionId,
          itemId: s.itemId,
          value: click,
          eventId: `${res.body.decisionId}:${s.itemId}`,
        });
      }
      regret[variant] += best - got;
      decisions[variant] += 1;
      if (variant === 'ts')
        explored.push({
          step,
          explored: res.body.slots.filter((s: { explored: boolean }) => s.explored).length,
          slots: res.body.slots.length,
        });
      // Rewards arrive late, in batches.
      if (pending.length >= 40 || step === DECISIONS - 1) {
        const r = await t.call('POST', '/v1/rewards', { body: { rewards: pending } });
        expect(r.body).toMatchObject({ accepted: pending.length, duplicates: 0, rejected: [] });
        pending = [];
      }
    }

    const perDecision = (v: string) => regret[v] / decisions[v];
    console.log(
      `learning world: ts ${decisions.ts} decisions, regret ${regret.ts} (${perDecision('ts').toFixed(4)}/decision); ` +
        `random ${decisions.random} decisions, regret ${regret.random.toFixed(1)} (${perDecision('random').toFixed(4)}/decision)`,
    );
    // Seeded world, fixed salt and seeded decisions: the run is exactly reproducible.
    expect(decisions).toEqual({ ts: 2505, random: 2495 });
    expect(regret.random).toBeCloseTo(609.0616963553638, 6);
    expect(regret.ts).toBeLessThan(0.5 * regret.random);
    expect(perDecision('ts')).toBeLessThan(0.5 * perDecision('random'));

    // Every late item is shown and graduates (≥ coldStartThreshold impressions).
    for (const it of items.filter((i) => i.arrivesAt > 0))
      expect(impressions.get(it.id) ?? 0).toBeGreaterThanOrEqual(100);
    // a fresh report: a scheduled computation may have cached one mid-run on a slow machine
    const report = await t.call('POST', '/v1/experiments/learning/report/refresh');
    expect(report.status).toBe(200);
    expect(report.body.exploration).toMatchObject({
      decisions: DECISIONS,
      slots: 2 * DECISIONS,
      coldItems: 0,
      graduatedItems: 20,
    });
    expect(report.body.exploration.medianDecisionsToGraduate).toBeGreaterThan(0);

    // The bandit explores less once it has learnt.
    const rate = (rows: typeof explored) =>
      rows.reduce((a, r) => a + r.explored, 0) / rows.reduce((a, r) => a + r.slots, 0);
    const first = rate(explored.filter((r) => r.step < 1000));
    const last = rate(explored.filter((r) => r.step >= DECISIONS - 1000));
    console.log(`exploreRate of ts: first 1,000 decisions ${first.toFixed(3)}, last 1,000 ${last.toFixed(3)}`);
    expect(last).toBeLessThan(first);
    const tsReport = report.body.exploration.variants.find((v: { variant: string }) => v.variant === 'ts');
    expect(tsReport.decisions).toBe(decisions.ts);
    // exact regret of the seeded run (checked last, so a legitimate model change still runs every other check first)
    // 209.96 before issue 12's per-item noise scale and hybrid item prior (itemLambda = 10·d_x): 149.80 now
    expect(regret.ts).toBeCloseTo(149.80072199671167, 6);
  }, 1_500_000); // 5,000 HTTP decisions: ~6 min alone, much longer on a loaded machine
});
