import { SlotwiseClient } from '../apps/simulator/src/client';
import { runSimulation } from '../apps/simulator/src/runner';
import { EcommerceWorld } from '../apps/simulator/src/worlds/ecommerce';
import { ADMIN_KEY, startTestApp, TestApp } from './support/test-app';

/**
 * The report's off-policy cross-check on simulated traffic: the ε-greedy and Thompson (hybrid) variants each log
 * decisions through the real API; the DR estimate of each policy on the other's logs should cover that policy's
 * own on-policy value. Seeds: OPE_CROSS_CHECK_SEEDS (default 2 — 20 seeds take long on a shared machine); the
 * coverage figure over the seeds run is printed, and with ≥ 10 seeds it must reach 90 %.
 */
const SEEDS = Number(process.env.OPE_CROSS_CHECK_SEEDS ?? 2);
const DECISIONS = Number(process.env.OPE_CROSS_CHECK_DECISIONS ?? 1200);

describe("off-policy cross-check: ε-greedy and Thompson on each other's logs (simulator through HTTP)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  }, 180_000);
  afterAll(async () => {
    await app?.close(true);
  });

  it(`DR on the other variant's logs covers each policy's own on-policy value (${SEEDS} seeds)`, async () => {
    let covered = 0;
    let total = 0;
    const lines: string[] = [];
    for (let seed = 1; seed <= SEEDS; seed++) {
      const world = await EcommerceWorld.create({
        seed,
        contextDim: 4,
        itemDim: 4,
        catalogSize: 20,
        slots: 3,
        decisionsPerHour: 240,
        meanLagSeconds: 600,
      });
      const key = `xcheck-${seed}`;
      await runSimulation(new SlotwiseClient(app.baseUrl, ADMIN_KEY), world, {
        decisions: DECISIONS,
        variants: ['egreedy', 'ts-hybrid'],
        propensityDraws: 50,
        concurrency: 4,
        rewardBatch: 100,
        rate: 0,
        windows: 2,
        experimentKey: key,
      });
      await world.close();
      const report = await app.call('GET', `/v1/experiments/${key}/report`);
      expect(report.status).toBe(200);
      const off = report.body.offPolicy;
      expect(off.error).toBeUndefined();
      expect(off.pairs).toHaveLength(2);
      expect(off.variants.map((v: { variant: string }) => v.variant).sort()).toEqual(['egreedy', 'ts-hybrid']);
      for (const p of off.pairs) {
        expect(p.estimator).toBe('dr');
        expect(p.ci.lower).toBeLessThanOrEqual(p.value);
        expect(p.ci.upper).toBeGreaterThanOrEqual(p.value);
        expect(p.effectiveSampleSize).toBeGreaterThan(0);
        expect(typeof p.covers).toBe('boolean');
        expect(p.statement).toMatch(p.covers ? /^Agrees/ : /^Disagrees/);
        total++;
        if (p.covers) covered++;
        lines.push(
          `seed ${seed}: ${p.target} on ${p.logs}: DR ${p.value.toFixed(4)} [${p.ci.lower.toFixed(4)}, ${p.ci.upper.toFixed(4)}] ESS ${p.effectiveSampleSize.toFixed(0)} vs on-policy ${p.onPolicy.value.toFixed(4)} → ${p.covers ? 'covers' : 'misses'}`,
        );
      }
      process.stdout.write(`${lines.slice(-2).join('\n')}\n(running: ${covered}/${total})\n`);
    }
    process.stdout.write(`cross-check coverage: ${covered}/${total} = ${((100 * covered) / total).toFixed(0)}%\n`);
    if (SEEDS >= 10) expect(covered / total).toBeGreaterThanOrEqual(0.9);
    else expect(covered).toBeGreaterThan(0);
  }, 1_800_000);
});
