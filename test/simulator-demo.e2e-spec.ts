import { DEFAULT_THOMPSON_MODEL } from '@slotwise/contracts';
import { DemoService, demoEnabled } from '../apps/api/src/modules/demo/demo.service';
import { DEMO_AB, DEMO_RANKING } from '../apps/api/src/modules/demo/demo-traffic';
import { startTestApp, TestApp } from './support/test-app';

/** The demo workspace: off in tests by default; when asked, seeded through HTTP and fed with live traffic. */
describe('demo workspace', () => {
  it('is on for the embedded database in auto mode, off for a server unless asked, never when off', () => {
    expect(demoEnabled({ demo: 'auto', databaseUrl: undefined })).toBe(true);
    expect(demoEnabled({ demo: 'auto', databaseUrl: 'postgresql://x/y' })).toBe(false);
    expect(demoEnabled({ demo: 'on', databaseUrl: 'postgresql://x/y' })).toBe(true);
    expect(demoEnabled({ demo: 'off', databaseUrl: undefined })).toBe(false);
  });

  describe('with the test defaults (SLOTWISE_DEMO=off)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app.close(true));

    it('does nothing', async () => {
      expect(await app.running.app.get(DemoService).start(app.baseUrl)).toBe('off');
      expect((await app.call('GET', '/v1/experiments')).body.experiments).toHaveLength(0);
    });
  });

  describe('with SLOTWISE_DEMO=on on an empty database', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ env: { SLOTWISE_DEMO: 'on' } });
    });
    afterAll(() => app.close(true));

    it('seeds the catalog and both experiments, then drives traffic that shows up in the reports', async () => {
      const demo = app.running.app.get(DemoService);
      expect(await demo.start(app.baseUrl, { intervalMs: 50 })).toBe('seeded');
      const ranking = await app.call('GET', `/v1/experiments/${DEMO_RANKING}`);
      expect(ranking.status).toBe(200);
      expect(ranking.body).toMatchObject({ status: 'running', kind: 'ranking' });
      expect(ranking.body.variants.map((v: { policy: { type: string } }) => v.policy.type)).toEqual([
        'ranker',
        'thompson',
      ]);
      // the Thompson variant is what a new experiment gets by default (its model is filled in from the default)
      expect(ranking.body.variants[1].policy.model).toBe(DEFAULT_THOMPSON_MODEL);
      const ab = await app.call('GET', `/v1/experiments/${DEMO_AB}`);
      expect(ab.body).toMatchObject({
        status: 'running',
        kind: 'ab',
        metrics: { primary: 'purchase', guardrails: ['refund'] },
      });
      expect((await app.call('GET', '/v1/items/sku-00001')).status).toBe(200);

      let decisions = 0;
      for (let i = 0; i < 60 && decisions < 20; i++) {
        await new Promise((r) => setTimeout(r, 500));
        decisions = (await app.call('POST', `/v1/experiments/${DEMO_RANKING}/report/refresh`)).body.exploration
          .decisions;
      }
      expect(decisions).toBeGreaterThanOrEqual(20);
    }, 90_000);

    it('is not seeded twice: a second start resumes', async () => {
      expect(await app.running.app.get(DemoService).start(app.baseUrl, { intervalMs: 1000 })).toBe('resumed');
    });
  });
});
