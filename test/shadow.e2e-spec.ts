import { reportSchema } from '@slotwise/contracts';
import { OpeService } from '../apps/api/src/modules/ope/ope.service';
import { ShadowService } from '../apps/api/src/modules/ope/shadow.service';
import { abExperiment, rankingExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * Shadow variants (apprentice mode) through HTTP: a shadow decides beside every served decision and logs its slate
 * and propensities, gets no traffic, its OPE value is reported (report and GET …/ope/shadows), and one PATCH promotes
 * it (audited, then it gets traffic). Also: the report's cross-check is cached until the data changes, and imported
 * decisions without candidates use the catalog of their time.
 */
const candidates = Array.from({ length: 8 }, (_, i) => ({ id: `item-${i}`, features: { price: i / 8 } }));
/** A deterministic world: items priced at or above 0.5 are clicked on two of three requests (more often in slot 1). */
const clicked = (itemId: string, position: number, i: number) =>
  Number(itemId.slice(5)) >= 4 && (i + position) % 3 !== 0 && (position === 1 || i % 2 === 0);

describe('shadow variants over HTTP', () => {
  jest.setTimeout(300_000); // 120 + 90 rank/reward round trips: minutes on a loaded machine
  let t: TestApp;
  const served: Array<{ decisionId: string; variant: string }> = [];

  async function rankMany(from: number, to: number) {
    for (let i = from; i < to; i++) {
      const res = await t.call('POST', '/v1/rank', {
        body: { experiment: 'apprentice', unitId: `u-${i}`, context: { age: (i % 10) / 10 }, candidates },
      });
      expect(res.status).toBe(200);
      served.push({ decisionId: res.body.decisionId, variant: res.body.variant });
      const rewards = res.body.slots
        .filter((s: { itemId: string; position: number }) => clicked(s.itemId, s.position, i))
        .map((s: { itemId: string }) => ({
          decisionId: res.body.decisionId,
          itemId: s.itemId,
          value: 1,
          eventId: `r-${i}-${s.itemId}`,
        }));
      if (rewards.length)
        expect((await t.call('POST', '/v1/rewards', { body: { rewards } })).body.accepted).toBe(rewards.length);
    }
    await t.running.app.get(ShadowService).idle();
  }

  beforeAll(async () => {
    t = await startTestApp({ env: { SLOTWISE_DECISION_SEED: '11' } });
  }, 180_000);
  afterAll(() => t.close(true));

  it('refuses shadows that cannot be: on an A/B experiment, every variant a shadow, a policy the feature schema cannot feed (4xx with paths)', async () => {
    let res = await t.call('POST', '/v1/experiments', {
      body: abExperiment('ab-shadow', {
        variants: [
          { key: 'a', config: {} },
          { key: 'b', config: {}, shadow: true },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        path: 'variants[1].shadow',
        message: 'shadow variants belong to ranking experiments (they decide beside served rankings)',
      },
    ]);
    res = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('all-shadow', {
        variants: [
          { key: 'a', policy: { type: 'ranker' }, shadow: true },
          { key: 'b', policy: { type: 'random' }, shadow: true },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'variants', message: 'at least one variant must be served (every variant is a shadow)' },
    ]);
    // neural-linear reads ranker embeddings, which this experiment's schema (no ranker model) does not have
    res = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('nl-shadow', {
        variants: [
          { key: 'a', policy: { type: 'ranker' } },
          { key: 'b', policy: { type: 'thompson', model: 'neural-linear' }, shadow: true },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'variants[1].policy.model', message: 'neural-linear needs a ranker model with an embedding output' },
    ]);
    res = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('bad-type', { variants: [{ key: 'a', policy: { type: 'ranker' }, shadow: 'yes' }] }),
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('variants[0].shadow');
  });

  it('a shadow gets no traffic, decides beside every served decision and logs its slate and propensities', async () => {
    const created = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('apprentice', {
        features: { context: ['age'], item: ['price'] },
        variants: [
          // both served policies are stochastic: the shadow's items always have support in the served logs
          { key: 'control', weight: 50, policy: { type: 'random' } },
          { key: 'explorer', weight: 50, policy: { type: 'epsilon-greedy', epsilon: 0.5, model: 'linear' } },
          { key: 'eg', weight: 50, policy: { type: 'epsilon-greedy', epsilon: 0.3, model: 'linear' }, shadow: true },
        ],
      }),
    });
    expect(created.status).toBe(201);
    expect(created.body.variants.map((v: { shadow: boolean }) => v.shadow)).toEqual([false, false, true]);
    expect((await t.call('POST', '/v1/experiments/apprentice/start')).status).toBe(200);
    await rankMany(0, 120);
    const byVariant = new Map<string, number>();
    for (const s of served) byVariant.set(s.variant, (byVariant.get(s.variant) ?? 0) + 1);
    expect(byVariant.get('eg')).toBeUndefined();
    expect((byVariant.get('control') ?? 0) + (byVariant.get('explorer') ?? 0)).toBe(120);
    expect(byVariant.get('explorer')).toBeGreaterThan(20);

    // one shadow decision per served decision, keyed to it, with both slates and propensities
    const seen = new Set<string>();
    let before: string | null = null;
    for (;;) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const page: { status: number; body: any } = await t.call(
        'GET',
        `/v1/experiments/apprentice/ope/shadows/eg/decisions?limit=100${before ? `&before=${encodeURIComponent(before)}` : ''}`,
      );
      expect(page.status).toBe(200);
      for (const d of page.body.decisions) {
        seen.add(d.decisionId);
        expect(d.shadowSlots).toHaveLength(3);
        expect(d.servedSlots).toHaveLength(3);
        for (const s of d.shadowSlots) expect(s.propensity).toBeGreaterThan(0);
        expect(['control', 'explorer']).toContain(d.servedVariant);
        expect(d.modelVersion).toBe('none+epsilon-greedy:linear@0');
      }
      if (!page.body.nextBefore) break;
      before = page.body.nextBefore;
    }
    expect([...seen].sort()).toEqual(served.map((s) => s.decisionId).sort());
    expect((await t.call('GET', '/v1/experiments/apprentice/ope/shadows/control/decisions')).status).toBe(404);

    // /v1/assign never hands out a shadow; external exposures name served variants only
    for (let i = 0; i < 50; i++)
      expect(
        (await t.call('POST', '/v1/assign', { body: { experiment: 'apprentice', unitId: `a-${i}` } })).body.variant,
      ).not.toBe('eg');
  });

  it("reports the shadow's OPE value on the served logs (every estimator, IPS and DR per day and cumulative) and leaves it out of the A/B analysis", async () => {
    const res = await t.call('GET', '/v1/experiments/apprentice/ope/shadows');
    expect(res.status).toBe(200);
    const [eg] = res.body.shadows;
    expect(eg.variant).toBe('eg');
    expect(eg.servedDecisions).toBe(120);
    expect(eg.shadowDecisions).toBe(120);
    expect(eg.estimate.n).toBe(360);
    expect(eg.warnings).toEqual([]);
    expect(eg.estimate.estimates.map((e: { estimator: string }) => e.estimator)).toEqual([
      'ips',
      'snips',
      'dm',
      'dr',
      'sndr',
      'switch-dr',
    ]);
    for (const e of eg.estimate.estimates) {
      expect(Number.isFinite(e.value)).toBe(true);
      expect(e.ci.lower).toBeLessThanOrEqual(e.value);
      expect(e.ci.upper).toBeGreaterThanOrEqual(e.value);
    }
    expect(eg.series.length).toBeGreaterThanOrEqual(1);
    const last = eg.series[eg.series.length - 1];
    const ips = eg.estimate.estimates.find((e: { estimator: string }) => e.estimator === 'ips');
    const dr = eg.estimate.estimates.find((e: { estimator: string }) => e.estimator === 'dr');
    expect(last.cumulative.ips.value).toBeCloseTo(ips.value, 12);
    expect(last.cumulative.dr.value).toBeCloseTo(dr.value, 12);
    // Cross-check: the shadow never served, so its posterior is still its prior, and ε-greedy's distribution is
    // exact; re-running it on the stored inputs (POST …/ope with {variant}) must give the logged estimate.
    let run = (
      await t.call('POST', '/v1/experiments/apprentice/ope', {
        body: { policy: { variant: 'eg' }, estimators: ['ips', 'snips'] },
      })
    ).body;
    for (let i = 0; run.status === 'running' && i < 300; i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await t.call('GET', `/v1/experiments/apprentice/ope/${run.id}`)).body;
    }
    expect(run.status).toBe('succeeded');
    expect(run.result.n).toBe(eg.estimate.n);
    expect(Math.abs(run.result.estimates[0].value - ips.value)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(run.result.estimates[1].value - eg.estimate.estimates[1].value)).toBeLessThanOrEqual(1e-12);
    process.stdout.write(
      `shadow eg on 120 served decisions: IPS ${ips.value.toFixed(4)} [${ips.ci.lower.toFixed(4)}, ${ips.ci.upper.toFixed(4)}], DR ${dr.value.toFixed(4)}, ESS ${eg.estimate.effectiveSampleSize.toFixed(1)}\n`,
    );

    const report = (await t.call('POST', '/v1/experiments/apprentice/report/refresh')).body;
    expect(report.offPolicy.shadows.map((s: { variant: string }) => s.variant)).toEqual(['eg']);
    // the shared contract keeps every field the API sends in offPolicy (it dropped shadows, computedAt, dataVersion)
    expect(Object.keys(reportSchema.parse(report).offPolicy!).sort()).toEqual(Object.keys(report.offPolicy).sort());
    expect(report.offPolicy.shadows[0].estimate.estimates[0].value).toBeCloseTo(ips.value, 12);
    expect(
      report.offPolicy.pairs.every((p: { target: string; logs: string }) => p.target !== 'eg' && p.logs !== 'eg'),
    ).toBe(true);
    const primary = report.metrics.find((m: { metric: string }) => m.metric === 'reward');
    expect(primary.variants.map((v: { variant: string }) => v.variant)).toEqual(['control', 'explorer']);
    expect(Object.keys(report.srm.expected).sort()).toEqual(['control', 'explorer']);
  });

  it('caches the cross-check: a second report does not recompute it, a new reward does', async () => {
    const ope = t.running.app.get(OpeService);
    const first = (await t.call('POST', '/v1/experiments/apprentice/report/refresh')).body.offPolicy;
    const computed = ope.crossCheckComputations;
    const second = (await t.call('POST', '/v1/experiments/apprentice/report/refresh')).body.offPolicy;
    expect(ope.crossCheckComputations).toBe(computed);
    expect(second.computedAt).toBe(first.computedAt);
    expect(second.dataVersion).toBe(first.dataVersion);
    const d = served.find((s) => s.variant === 'control')!;
    const log = (
      await t.call('GET', '/v1/experiments/apprentice/decisions?limit=100&variant=control')
    ).body.decisions.find((x: { decisionId: string }) => x.decisionId === d.decisionId);
    const slot = log.slots.find((s: { reward: number }) => s.reward === 0);
    expect(
      (
        await t.call('POST', '/v1/rewards', {
          body: { rewards: [{ decisionId: d.decisionId, itemId: slot.itemId, value: 1, eventId: 'late-reward' }] },
        })
      ).body.accepted,
    ).toBe(1);
    const third = (await t.call('POST', '/v1/experiments/apprentice/report/refresh')).body.offPolicy;
    expect(ope.crossCheckComputations).toBe(computed + 1);
    expect(third.dataVersion).not.toBe(first.dataVersion);
  });

  it('promotes the shadow with one audited PATCH: it gets traffic from then on', async () => {
    const current = (await t.call('GET', '/v1/experiments/apprentice')).body;
    // a served variant cannot turn into a shadow while live
    const demote = await t.call('PATCH', '/v1/experiments/apprentice', {
      body: { variants: current.variants.map((v: { key: string }) => ({ ...v, shadow: v.key !== 'control' })) },
    });
    expect(demote.status).toBe(409);
    const res = await t.call('PATCH', '/v1/experiments/apprentice', {
      body: { variants: current.variants.map((v: object) => ({ ...v, shadow: false })) },
    });
    expect(res.status).toBe(200);
    expect(res.body.variants.map((v: { shadow: boolean }) => v.shadow)).toEqual([false, false, false]);
    expect(res.body.phase).toBe(2);
    const audit = (await t.call('GET', '/v1/audit?entityId=apprentice&limit=10')).body.entries;
    const promote = audit.find((a: { action: string }) => a.action === 'experiment.shadow_promote');
    expect(promote.before).toEqual({ shadow: ['eg'] });
    expect(promote.after).toEqual({ served: ['eg'], weights: { control: 50, explorer: 50, eg: 50 } });
    expect(audit.some((a: { action: string }) => a.action === 'experiment.phase')).toBe(true);

    served.length = 0;
    await rankMany(1000, 1090);
    const eg = served.filter((s) => s.variant === 'eg').length;
    expect(eg).toBeGreaterThan(10);
    // no shadow left: nothing more is logged beside the served decisions
    const shadows = (await t.call('GET', '/v1/experiments/apprentice/ope/shadows')).body.shadows;
    expect(shadows).toEqual([]);
  });

  it('imports decisions that name no candidates against the catalog at their time', async () => {
    const items = Array.from({ length: 5 }, (_, i) => ({ id: `cat-${i}`, features: { price: i / 5 }, attributes: {} }));
    expect((await t.call('POST', '/v1/items/batch', { body: { items } })).status).toBe(200);
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: rankingExperiment('ext', { assignment: 'external', slots: 2 }),
        })
      ).status,
    ).toBe(201);
    const now = new Date(Date.now() + 1000).toISOString();
    const ok = await t.call('POST', '/v1/experiments/ext/decisions/import', {
      body: {
        decisions: [
          {
            decisionId: 'x1',
            variant: 'control',
            timestamp: now,
            context: { age: 0.2 },
            slots: [{ position: 1, itemId: 'cat-3', propensity: 0.2, reward: 1 }],
          },
        ],
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ received: 1, imported: 1, duplicates: 0 });
    const logged = (await t.call('GET', '/v1/experiments/ext/decisions')).body.decisions[0];
    expect(logged.slots[0].itemId).toBe('cat-3');
    expect(logged.slots[0].explanation.shortlistSize).toBe(5);

    const bad = await t.call('POST', '/v1/experiments/ext/decisions/import', {
      body: {
        decisions: [
          {
            decisionId: 'x2',
            variant: 'control',
            timestamp: now,
            context: { age: 0.2 },
            slots: [{ position: 1, itemId: 'not-in-catalog', propensity: 0.2 }],
          },
          {
            decisionId: 'x3',
            variant: 'control',
            timestamp: '2001-01-01T00:00:00Z',
            context: { age: 0.2 },
            slots: [{ position: 1, itemId: 'cat-1', propensity: 0.2 }],
          },
        ],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { path: 'decisions[0].slots[0].itemId', message: `"not-in-catalog" was not in the catalog at ${now}` },
      {
        path: 'decisions[1].candidates',
        message: "required: the catalog was empty at 2001-01-01T00:00:00Z; send the decision's candidates",
      },
    ]);
  });
});
