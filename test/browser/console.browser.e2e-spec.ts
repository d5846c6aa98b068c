/**
 * The console in a real browser: Debian's Chromium driven by playwright-core against the real API (embedded
 * PostgreSQL, or DATABASE_URL). Screenshots of the main pages go to test-artifacts/console/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { reportSchema, timeseriesSchema } from '@slotwise/contracts';
import { ExperimentsService } from '../../apps/api/src/modules/experiments/experiments.service';
import { abExperiment, ADMIN_KEY, startTestApp, TestApp } from '../support/test-app';
import { WebhookReceiver } from '../support/webhook-receiver';
import { Browser, BROWSER_REQUIRED, findChromium, launchChromium } from './chromium';

const ROOT = join(__dirname, '..', '..');
const SHOTS = join(ROOT, 'test-artifacts', 'console');
const chromiumPath = findChromium();

if (!chromiumPath && !BROWSER_REQUIRED) {
  console.log('console browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)');
}
const describeBrowser = chromiumPath || BROWSER_REQUIRED ? describe : describe.skip;

const ADMIN = { email: 'pm@example.com', name: 'Priya PM', password: 'a long admin password' };
const VIEWER = { email: 'viewer@example.com', password: 'a long viewer password' };
const KEY = 'home-feed';

/** The experiment page's section tabs (other links may share their names). */
const tab = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name });

const pageErrors: string[] = [];
/** Content-Security-Policy violations Chromium reported on any page (it logs each as a console error). */
const cspViolations: string[] = [];

/** A report in the contract shape (libs/contracts `reportSchema`; numbers made up, consistent with each other). */
const comparison = (variant: string, rel: number, lo: number, hi: number, p: number, chance: number) => ({
  variant,
  baseline: 'control',
  absoluteLift: rel * 0.12,
  relativeLift: rel,
  relativeLiftReason: null,
  ci: { lower: lo * 0.12, upper: hi * 0.12 },
  relativeCi: { lower: lo, upper: hi },
  pValue: p,
  adjustedPValue: Math.min(1, p * 2),
  relativePValue: p,
  relativeAdjustedPValue: Math.min(1, p * 2),
  significant: p < 0.05,
  significance: {
    basis: 'fixed-horizon' as const,
    absolute: p < 0.05,
    relative: lo > 0 || hi < 0,
    alwaysValid: p * 3 < 0.05,
    agree: p < 0.05 === (lo > 0 || hi < 0),
  },
  standardError: 0.0024,
  relativeStandardError: 0.02,
  test: 'welch' as const,
  degreesOfFreedom: 90000,
  sequential: {
    pValue: Math.min(1, p * 3),
    ci: { lower: lo - 0.01, upper: hi + 0.01 },
    adjustedPValue: Math.min(1, p * 6),
    tuningN: 5000,
  },
  bayesian: {
    chanceToBeatBaseline: chance,
    expectedLoss: 0.0004,
    expectedLossControl: 0.005,
    scale: 'absolute' as const,
  },
  reason: null,
});
const variantStats = (variant: string, units: number, mean: number, stdDev: number) => ({
  variant,
  units,
  sum: units * mean,
  mean,
  stdDev,
});
const decision = {
  reason: 'Ship: "reward" improved significantly.',
  details: [],
  requiredUnits: 80000,
  extraUnits: 0,
  estimatedDays: 0,
};
const REPORT_FIXTURE = reportSchema.parse({
  experiment: KEY,
  status: 'running',
  kind: 'ranking',
  generatedAt: '2026-11-28T12:00:00.000Z',
  alpha: 0.05,
  phase: 1,
  baseline: 'control',
  window: { from: null, to: null, end: '2026-11-28T12:00:00.000Z' },
  options: {
    correction: 'holm',
    cuped: false,
    sequential: false,
    sequentialRequested: null,
    plannedUnits: 80000,
    plannedEnd: null,
    tuningN: 5000,
    segment: null,
    mde: 0.05,
    power: 0.8,
  },
  srm: {
    observed: { control: 44700, ts: 45489 },
    expected: { control: 45094.5, ts: 45094.5 },
    chiSquare: 6.9,
    degreesOfFreedom: 1,
    pValue: 0.0086,
    flagged: false,
    threshold: 0.0005,
    reason: null,
  },
  health: {
    healthy: true,
    srm: { flagged: false, pValue: 0.0086 },
    multipleExposures: { units: 0, totalUnits: 90189, fraction: 0, flagged: false, maxFraction: 0.01 },
    unitsSource: 'exposures',
    firstExposureAt: '2026-11-19T00:00:00.000Z',
    lastExposureAt: '2026-11-28T11:59:00.000Z',
    unitsPerDay: 9019,
  },
  recommendation: {
    metric: 'reward',
    alpha: 0.05,
    power: 0.8,
    mde: 0.05,
    unitsPerDay: 9019,
    basis: 'fixed-horizon',
    basisReason: 'the planned sample size (80000 units) has been reached (90189 units)',
    plannedUnits: 80000,
    decision: 'ship',
    ...decision,
    variant: 'ts',
    variants: [{ variant: 'ts', decision: 'ship', ...decision }],
  },
  metrics: [
    {
      metric: 'reward',
      role: 'primary',
      type: 'mean',
      direction: 'increase',
      variants: [variantStats('control', 44700, 0.12, 0.41), variantStats('ts', 45489, 0.1249, 0.42)],
      comparisons: [comparison('ts', 0.041, 0.012, 0.07, 0.0055, 0.972)],
    },
    {
      metric: 'latency_ms',
      role: 'guardrail',
      type: 'mean',
      direction: 'decrease',
      variants: [variantStats('control', 44700, 120, 30), variantStats('ts', 45489, 120.5, 31)],
      comparisons: [comparison('ts', 0.004, -0.006, 0.014, 0.41, 0.79)],
    },
  ],
  exploration: null,
});
const SERIES_FIXTURE = timeseriesSchema.parse({
  experiment: KEY,
  status: 'running',
  generatedAt: '2026-11-28T12:00:00.000Z',
  alpha: 0.05,
  phase: 1,
  baseline: 'control',
  metrics: ['reward'],
  bucket: 'day',
  days: Array.from({ length: 10 }, (_, d) => {
    const width = 0.09 / Math.sqrt(d + 1);
    const lift = 0.041 + 0.02 * Math.exp(-d / 2) * (d % 2 ? 1 : -1);
    const date = `2026-11-${String(19 + d).padStart(2, '0')}`;
    const c = comparison('ts', lift, lift - width, lift + width, 0.05, 0.9);
    return {
      date,
      start: `${date}T00:00:00.000Z`,
      end: `${date}T23:59:59.999Z`,
      units: { control: 4000 * (d + 1), ts: 4050 * (d + 1) },
      metrics: [
        {
          metric: 'reward',
          variants: [],
          comparisons: [
            { ...c, sequential: { pValue: c.sequential.pValue, ci: c.sequential.ci }, chanceToBeatBaseline: 0.9 },
          ],
        },
      ],
    };
  }),
});

/**
 * A bandit variant's race against the ranker order (libs/contracts `timeseriesSchema`): `ts` trails for three days,
 * then leads from 2026-11-22 on (cumulative means per variant, with the matching lifts).
 */
const RACE_FIXTURE = timeseriesSchema.parse({
  ...SERIES_FIXTURE,
  days: SERIES_FIXTURE.days.map((step, d) => {
    const ts = 0.1 + 0.0035 * d; // 0.100 … 0.1315; control stays at 0.12
    const lift = (ts - 0.12) / 0.12;
    const c = comparison('ts', lift, lift - 0.05, lift + 0.05, 0.2, 0.5);
    return {
      ...step,
      metrics: [
        {
          metric: 'reward',
          variants: [
            { variant: 'control', units: 4000 * (d + 1), mean: 0.12, stdDev: 0.41 },
            { variant: 'ts', units: 4050 * (d + 1), mean: ts, stdDev: 0.42 },
          ],
          comparisons: [
            {
              ...c,
              absoluteLift: ts - 0.12,
              sequential: { pValue: c.sequential.pValue, ci: c.sequential.ci },
              chanceToBeatBaseline: 0.5,
            },
          ],
        },
      ],
    };
  }),
});

async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(350); // let charts finish their entry animation
  expect(await page.getByText('This page failed to display.').count()).toBe(0);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

describeBrowser('console in Chromium', () => {
  jest.setTimeout(60_000);
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!chromiumPath)
      throw new Error('SLOTWISE_REQUIRE_BROWSER=1 but no Chromium was found (apt-get install chromium)');
    if (!existsSync(join(ROOT, 'dist', 'console', 'index.html'))) {
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-console.js')], { cwd: ROOT, stdio: 'inherit' });
    }
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8', WEBHOOK_POLL_MS: '200' } }); // the webhook check's receiver is local
    browser = await launchChromium(chromiumPath);
    page = await browser.context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text()))
        cspViolations.push(`${page.url()}: ${msg.text()}`);
    });
    page.setDefaultTimeout(10_000);
  }, 180_000); // starting the embedded database, the app and Chromium can take over a minute on a loaded machine

  afterAll(async () => {
    expect(pageErrors).toEqual([]); // no uncaught error in the page during the whole run
    expect(cspViolations).toEqual([]); // the security headers' CSP allows everything the console needs
    await browser?.close();
    await t?.close(true);
  });

  it('first run: the setup page creates the admin; sign-out and sign-in work', async () => {
    await page.goto(t.baseUrl + '/');
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Set up the console' }).waitFor();
    await shot(page, '01-setup');
    await page.fill('#apiKey', ADMIN_KEY);
    await page.fill('#name', ADMIN.name);
    await page.fill('#email', ADMIN.email);
    await page.fill('#password', ADMIN.password);
    await page.fill('#confirm', ADMIN.password);
    await page.getByRole('button', { name: 'Create admin and sign in' }).click();
    await page.getByTestId('experiments-empty').waitFor();
    await shot(page, '02-experiments-empty');

    await page.getByTestId('sign-out').click();
    await page.waitForURL('**/sign-in');
    await page.fill('#email', ADMIN.email);
    await page.fill('#password', 'not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The e-mail or password is not right.').waitFor();
    await page.fill('#password', ADMIN.password);
    await shot(page, '03-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('current-user').waitFor();
    expect(await page.getByTestId('current-user').textContent()).toContain('admin');
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === 'slotwise_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
  });

  it('creates a ranking experiment through the wizard, with live validation, and starts it', async () => {
    await page.getByTestId('new-experiment').click();
    await page.getByTestId('kind-ranking').click();
    await page.fill('#name', 'Home feed ranking');
    expect(await page.inputValue('#key')).toBe('home-feed-ranking'); // derived from the name while typing
    await page.fill('#key', KEY);
    await page.fill('#hypothesis', 'Thompson sampling finds better items than the ranker order.');
    await page.getByTestId('wizard-next').click();

    // Live validation: a duplicate variant key and a zero weight are flagged while typing.
    await page.fill('#v-key-1', 'control');
    await page.getByText('“control” is used twice.').waitFor();
    await page.fill('#v-key-1', 'ts');
    await page.fill('#v-weight-1', '0');
    await page.getByText('A weight above 0.').waitFor();
    await page.fill('#v-weight-1', '50');
    expect(await page.locator('#v-policy-1').inputValue()).toBe('thompson');
    await page.fill('#slots', '3');
    await page.fill('#ctx', 'age');
    await page.fill('#itemf', 'price');
    await shot(page, '04-wizard-variants');
    await page.getByTestId('wizard-next').click();
    expect(await page.inputValue('#primary')).toBe('reward');
    await page.getByTestId('wizard-next').click();
    await page.fill('#layer', 'home');
    await page.getByTestId('wizard-next').click();
    await page.getByRole('heading', { name: 'Review' }).waitFor();
    await shot(page, '05-wizard-review');
    await page.getByTestId('wizard-create').click();

    await page.waitForURL(`**/experiments/${KEY}`);
    await page.getByTestId('variants-table').waitFor();
    expect(await page.getByTestId('status-badge').first().textContent()).toContain('draft');
    await page.getByTestId('action-start').click();
    await page.getByRole('dialog').waitFor();
    await shot(page, '06-confirm-start');
    await page.getByTestId('confirm').click();
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.locator('[data-testid="status-badge"]', { hasText: 'running' }).first().waitFor();
    await shot(page, '07-overview-running');

    const created = await t.call('GET', `/v1/experiments/${KEY}`);
    expect(created.body).toMatchObject({
      status: 'running',
      kind: 'ranking',
      slots: 3,
      layer: 'home',
      features: { context: ['age'], item: ['price'] },
    });
  });

  it('feeds traffic through the API, then shows the results (or the documented empty state) and the bandit page', async () => {
    const doc = await t.call('GET', '/docs/openapi.json', { key: null });
    const paths = Object.keys(doc.body.paths ?? {});
    const fed: string[] = [];
    await t.call('POST', '/v1/items/batch', {
      body: { items: Array.from({ length: 8 }, (_, i) => ({ id: `i-${i}`, features: { price: i / 8 } })) },
    });
    fed.push('items');
    if (paths.includes('/v1/rank')) {
      let rewarded = 0;
      for (let u = 0; u < 60; u++) {
        const r = await t.call('POST', '/v1/rank', {
          body: {
            experiment: KEY,
            unitId: `u-${u}`,
            context: { age: (u % 10) / 10 },
            candidates: Array.from({ length: 8 }, (_, i) => ({ id: `i-${i}` })),
          },
        });
        if (r.status !== 200 || !r.body?.decisionId) continue;
        const top = r.body.slots?.[0];
        if (top && paths.includes('/v1/rewards')) {
          const w = await t.call('POST', '/v1/rewards', {
            body: {
              rewards: [
                {
                  decisionId: r.body.decisionId,
                  itemId: top.itemId,
                  value: top.itemId === 'i-3' ? 1 : u % 3 === 0 ? 1 : 0,
                },
              ],
            },
          });
          if (w.status < 300) rewarded++;
        }
      }
      fed.push(`rank+rewards (${rewarded} rewarded)`);
    }
    if (paths.includes('/v1/assign')) {
      for (let u = 0; u < 40; u++) await t.call('POST', '/v1/assign', { body: { experiment: KEY, unitId: `a-${u}` } });
      fed.push('assign');
    }
    if (paths.includes('/v1/events')) {
      await t.call('POST', '/v1/events', {
        body: {
          events: Array.from({ length: 40 }, (_, u) => ({
            unitId: `a-${u}`,
            metric: 'reward',
            value: u % 4 === 0 ? 1 : 0,
          })),
        },
      });
      fed.push('events');
    }
    console.log(`console browser test fed: ${fed.join(', ')}`);

    await tab(page, 'Results').click();
    await page.waitForURL(`**/experiments/${KEY}/results`);
    // The report and its time series ship in the same build as the console: no "not available yet" state.
    await page.getByTestId('results-table').first().waitFor();
    await page.getByTestId('recommendation').waitFor();
    await page.getByTestId('recommendation-basis').waitFor();
    await page.getByTestId('lift-over-time').waitFor();
    const charts = [
      (await page.locator('[data-testid="forest-plot"] canvas').count()) > 0 && 'forest plot',
      (await page.locator('[data-testid="lift-chart"] canvas').count()) > 0 && 'lift over time',
    ].filter(Boolean);
    console.log(
      `console browser test saw: the results table, the recommendation "${await page.getByTestId('recommendation').textContent()}" and charts: ${charts.join(', ') || 'none yet'}`,
    );
    expect(
      await page.getByText(/this server does not|not offered by this server|not available on this server/i).count(),
    ).toBe(0);
    await shot(page, '08-results');

    await tab(page, 'Bandit').click();
    await page.getByTestId('decisions').waitFor();
    await page.getByTestId('exploration-stats').waitFor(); // the ranking experiment has decisions: the report's exploration section
    expect(await page.getByTestId('explore-rate').count()).toBe(1);
    await page.getByTestId('reward-by-variant').waitFor(); // the variants' reward race (the primary metric)
    expect(await page.locator('[data-testid="decisions"] li').count()).toBeGreaterThan(0);
    expect(
      await page.getByText(/this server does not|not offered by this server|not browsable on this server/i).count(),
    ).toBe(0);
    await shot(page, '09-bandit');

    // Offline evaluation: the report's cross-check, then OPE of the first variant's policy run from the form.
    await tab(page, 'Offline evaluation').click();
    await page.getByTestId('offpolicy-crosscheck').waitFor();
    await page.getByTestId('ope-run').click();
    await page.getByTestId('ope-estimates').waitFor({ timeout: 60_000 });
    const estimators = await page.getByTestId('ope-estimates').locator('tbody td.mono').allTextContents();
    expect(estimators.slice(0, 2)).toEqual(['ips', 'snips']);
    await shot(page, '09b-offline-evaluation');

    await tab(page, 'History').click();
    await page.getByTestId('history').waitFor();
    const history = await page.getByTestId('history').textContent();
    expect(history).toContain('start');
    expect(history).toContain('create');
    expect(history).toContain(ADMIN.email);
    await shot(page, '10-history');
  }, 180_000); // 60 rank+reward calls, assigns and an OPE run that may itself wait 60 s on a loaded machine

  it('renders a report in the contract shape as table, forest plot, lift band and recommendation (fixture served by page.route)', async () => {
    // The statistics engine may not have landed: this checks the results page against the brief's fixed report
    // fields, served to the browser from a fixture, independently of what the server computes today.
    await page.route(`**/v1/experiments/${KEY}/report`, (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify(REPORT_FIXTURE) }),
    );
    await page.route(`**/v1/experiments/${KEY}/report/timeseries`, (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify(SERIES_FIXTURE) }),
    );
    try {
      await page.goto(`${t.baseUrl}/experiments/${KEY}/results`);
      await page.getByTestId('results-table').first().waitFor();
      const table = await page.getByTestId('metric-reward').getByTestId('results-table').textContent();
      expect(table).toContain('+4.1%'); // relative lift
      expect(table).toContain('[+1.2%, +7.0%]'); // its CI
      expect(table).toContain('97.2%'); // chance to beat control
      expect(await page.getByTestId('recommendation').textContent()).toContain(
        'Ship ts: +4.1% reward, 95% CI +1.2% to +7.0%',
      );
      // the recommendation says which inference it used (issue 14), and the star says which test it is
      expect(await page.getByTestId('recommendation-basis').getAttribute('data-basis')).toBe('fixed-horizon');
      expect(await page.getByTestId('recommendation-basis').textContent()).toContain('Fixed-horizon tests');
      expect(await page.getByTestId('metric-reward').getByTestId('significance-star').getAttribute('title')).toMatch(
        /absolute difference/,
      );
      await page.locator('[data-testid="forest-plot"] canvas').first().waitFor();
      await page.locator('[data-testid="lift-chart"] canvas').waitFor();
      expect(await page.getByTestId('srm-banner').count()).toBe(0);
      expect(await page.getByTestId('export-csv').getAttribute('href')).toBe(
        `/v1/experiments/${KEY}/report?format=csv`,
      );
      await shot(page, '08b-results-contract-fixture');
      await page.getByTestId('print-link').click();
      await page.locator('.print-page [data-testid="results-table"]').first().waitFor();
      await shot(page, '08c-printable-report');
    } finally {
      await page.unroute(`**/v1/experiments/${KEY}/report`);
      await page.unroute(`**/v1/experiments/${KEY}/report/timeseries`);
    }
    await page.goto(`${t.baseUrl}/experiments/${KEY}`);
  });

  it('the bandit page shows which variant earns more and since when (report and series in the contract shape, served by page.route)', async () => {
    await page.route(`**/v1/experiments/${KEY}/report`, (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify(REPORT_FIXTURE) }),
    );
    await page.route(`**/v1/experiments/${KEY}/report/timeseries`, (route) =>
      route.fulfill({ contentType: 'application/json', body: JSON.stringify(RACE_FIXTURE) }),
    );
    try {
      await page.goto(`${t.baseUrl}/experiments/${KEY}/bandit`);
      await page.getByTestId('reward-by-variant').waitFor();
      expect(await page.getByTestId('reward-by-variant').locator('h2').textContent()).toBe(
        'Reward by variant (reward)',
      );
      // the report's means: ts 0.1249 > control 0.12; its lift and chance to beat control
      expect(await page.getByTestId('reward-leader').locator('.stat-value').textContent()).toBe('ts');
      expect(await page.getByTestId('reward-lift-ts').locator('.stat-value').textContent()).toBe('+4.1%');
      const hint = await page.getByTestId('reward-lift-ts').locator('.stat-hint').textContent();
      // ts's cumulative mean passes control's (0.12) on the 7th day (0.1 + 0.0035·6 = 0.121) and stays ahead
      expect(hint).toContain('ahead since 2026-11-25');
      expect(hint).toContain('97.2% chance to beat');
      await page.locator('[data-testid="reward-by-variant-chart"] canvas').waitFor();
      await shot(page, '09d-bandit-reward-race');
    } finally {
      await page.unroute(`**/v1/experiments/${KEY}/report`);
      await page.unroute(`**/v1/experiments/${KEY}/report/timeseries`);
    }
    await page.goto(`${t.baseUrl}/experiments/${KEY}`);
  });

  it('stops the experiment after a confirmation', async () => {
    await tab(page, 'Overview').click();
    await page.getByTestId('action-stop').click();
    await page.getByRole('dialog').getByText('cannot be undone').waitFor();
    await page.getByTestId('confirm').click();
    await page.locator('[data-testid="status-badge"]', { hasText: 'stopped' }).first().waitFor();
    expect((await t.call('GET', `/v1/experiments/${KEY}`)).body.status).toBe('stopped');
    await page.goto(t.baseUrl + '/');
    await page.getByTestId('experiments-table').waitFor();
    await shot(page, '11-experiments-list');
  });

  it("shows a shadow variant's estimated value on the Offline evaluation tab and promotes it to served after a confirmation", async () => {
    const SHADOWED = 'shadowed-feed';
    const created = await t.call('POST', '/v1/experiments', {
      body: {
        key: SHADOWED,
        name: 'Shadowed feed',
        kind: 'ranking',
        slots: 2,
        features: { context: ['age'], item: [] },
        variants: [
          { key: 'served', weight: 1, policy: { type: 'random' } },
          {
            key: 'apprentice',
            weight: 1,
            policy: { type: 'epsilon-greedy', epsilon: 0.3, model: 'beta' },
            shadow: true,
          },
        ],
        metrics: { primary: 'reward' },
      },
    });
    expect(created.status).toBe(201);
    expect((await t.call('POST', `/v1/experiments/${SHADOWED}/start`)).status).toBe(200);
    for (let u = 0; u < 60; u++) {
      const r = await t.call('POST', '/v1/rank', {
        body: {
          experiment: SHADOWED,
          unitId: `s-${u}`,
          context: { age: (u % 10) / 10 },
          candidates: Array.from({ length: 6 }, (_, i) => ({ id: `s-${i}` })),
        },
      });
      expect(r.body.variant).toBe('served');
      const first = r.body.slots[0];
      if (u % 2 === 0)
        await t.call('POST', '/v1/rewards', {
          body: { rewards: [{ decisionId: r.body.decisionId, itemId: first.itemId, value: 1, eventId: `s-${u}` }] },
        });
    }
    // the shadow rows are written off the request path
    for (
      let i = 0;
      i < 100 && (await t.call('GET', `/v1/experiments/${SHADOWED}/ope/shadows`)).body.shadows[0].shadowDecisions < 60;
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    await page.goto(`${t.baseUrl}/experiments/${SHADOWED}/offline`);
    await page.getByTestId('shadow-apprentice').waitFor();
    await page.getByTestId('shadow-estimates').waitFor();
    expect((await page.getByTestId('shadow-estimates').locator('tbody td.mono').allTextContents()).slice(0, 2)).toEqual(
      ['ips', 'snips'],
    );
    await page.getByTestId('shadow-series').waitFor();
    expect(await page.getByTestId('shadow-apprentice').textContent()).toContain('60 of 60');
    await shot(page, '09c-shadow-variant');
    await page.getByTestId('promote-apprentice').click();
    await page.getByRole('dialog').getByText('recorded in the audit').waitFor();
    await page.getByTestId('confirm').click();
    await page.getByTestId('shadow-promoted').waitFor();
    const after = (await t.call('GET', `/v1/experiments/${SHADOWED}`)).body;
    expect(after.variants.map((v: { key: string; shadow: boolean }) => [v.key, v.shadow])).toEqual([
      ['served', false],
      ['apprentice', false],
    ]);
    const audit = (await t.call('GET', `/v1/audit?entityId=${SHADOWED}&limit=5`)).body.entries.map(
      (a: { action: string }) => a.action,
    );
    expect(audit).toContain('experiment.shadow_promote');
    await page.goto(`${t.baseUrl}/experiments/${KEY}`);
  });

  it('admin adds a viewer and creates an API key shown once', async () => {
    await page.getByRole('link', { name: 'Users' }).click();
    await page.fill('#u-email', VIEWER.email);
    await page.fill('#u-name', 'Victor Viewer');
    await page.selectOption('#u-role', 'viewer');
    await page.fill('#u-password', VIEWER.password);
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('cell', { name: /Victor Viewer/ }).waitFor();
    await shot(page, '12-users');
    // disable and enable again, each through its confirmation dialog
    const viewerRow = page.getByRole('row', { name: /Victor Viewer/ });
    await viewerRow.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Disable user' }).click();
    await viewerRow.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('button', { name: 'Enable user' }).click();
    await viewerRow.getByRole('button', { name: 'Disable' }).waitFor();

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.fill('#k-name', 'home feed service');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key').locator('code').textContent())!;
    expect(key).toMatch(/^sw_/);
    await shot(page, '13-api-keys');
    expect((await t.call('GET', '/v1/items/i-1', { key })).status).toBe(200); // the serving key works
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('new-key').count()).toBe(0);

    // a second key, revoked through the confirmation dialog: it leaves the list and stops working at once
    await page.fill('#k-name', 'key to revoke');
    await page.getByRole('button', { name: 'Create key' }).click();
    const revoked = (await page.getByTestId('new-key').locator('code').textContent())!;
    await page.getByRole('button', { name: 'Done' }).click();
    await page
      .getByRole('row', { name: /key to revoke/ })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page.getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('row', { name: /key to revoke/ }).waitFor({ state: 'detached' });
    expect((await t.call('GET', '/v1/items/i-1', { key: revoked })).status).toBe(401);
    expect((await t.call('GET', '/v1/items/i-1', { key })).status).toBe(200);
  });

  it('admin adds a webhook, sends a test that a local receiver verifies, and redelivers it', async () => {
    const rx = await new WebhookReceiver().start();
    try {
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.fill('#wh-url', rx.url);
      await page.getByLabel('experiment.stopped').check();
      await page.getByTestId('create-webhook').click();
      rx.secret = (await page.getByTestId('webhook-secret').locator('code').textContent())!;
      expect(rx.secret).toMatch(/^whsec_/);
      await page.getByTestId('send-test').click();
      await rx.until(() => rx.processed.length === 1);
      const hookId = (await t.call('GET', '/v1/webhooks')).body.webhooks[0].id;
      const deadline = Date.now() + 10_000;
      while (
        (await t.call('GET', `/v1/webhooks/${hookId}/deliveries`)).body.deliveries[0]?.status !== 'delivered' &&
        Date.now() < deadline
      )
        await new Promise((r) => setTimeout(r, 100));
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByTestId('deliveries-table').getByText('delivered').waitFor();
      await page.getByRole('button', { name: 'Redeliver' }).click();
      await rx.until(() => rx.requests.length === 2);
      expect(rx.requests[1].id).toBe(rx.requests[0].id);
      await shot(page, '13b-webhooks');
    } finally {
      await rx.stop();
    }
  });

  it('admin defines a trigger, sees a unit fire it, edits and deletes it', async () => {
    await t.call('POST', '/v1/events', { body: { events: [{ unitId: 'seed', metric: 'depth', value: 0 }] } });
    const feature = {
      name: 'unit.page_depth',
      entity: 'unit',
      source: { type: 'event', metric: 'depth' },
      aggregation: 'last',
      window: { type: 'sliding', seconds: 3600 },
    };
    expect((await t.call('POST', '/v1/features', { body: feature })).status).toBe(201);
    await page.getByRole('link', { name: 'Triggers' }).click();
    await page.getByTestId('triggers-page').waitFor();
    await page.fill('#tr-name', 'deep-reader');
    await page.fill('#tr-cond', '{ "op": "gte", "attr": "unit.nope", "value": 3 }');
    await page.getByTestId('save-trigger').click();
    await page.getByTestId('trigger-form').getByText('condition.attr: unknown feature "unit.nope"').waitFor();
    await page.fill('#tr-cond', '{ "op": "gte", "attr": "unit.page_depth", "value": 3 }');
    await page.fill('#tr-cool', '0');
    await page.getByTestId('save-trigger').click();
    await page.getByTestId('triggers-table').getByText('unit.page_depth ≥ 3').waitFor();
    await page.getByTestId('firings').getByText('No firings yet').waitFor();
    expect(
      (await t.call('POST', '/v1/events', { body: { events: [{ unitId: 'reader-1', metric: 'depth', value: 4 }] } }))
        .body.accepted,
    ).toBe(1);
    // The event's feature update (and so the firing) is applied by the feature-queue worker after the 2xx (issue 17):
    // refresh until it shows, as a user would.
    const firing = page.getByTestId('firings-table').getByText('unit.page_depth = 4');
    for (let tries = 0; ; tries++) {
      await page.getByTestId('firings').getByRole('button', { name: 'Refresh' }).click();
      if (await firing.isVisible().catch(() => false)) break;
      if (tries === 50) await firing.waitFor({ timeout: 1000 }); // fails with the locator's message
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await page.getByTestId('firings-table').getByText('reader-1').count()).toBe(1);
    await shot(page, '13c-triggers');

    await page.getByTestId('edit-trigger-deep-reader').click();
    expect(await page.inputValue('#tr-cool')).toBe('0');
    await page.fill('#tr-cool', '60');
    await page.getByTestId('save-trigger').click();
    await page.getByTestId('triggers-table').getByText('60 s').waitFor();
    const [trigger] = (await t.call('GET', '/v1/triggers')).body.triggers;
    expect(trigger).toMatchObject({ name: 'deep-reader', cooldownSeconds: 60, version: 2 });

    await page.getByTestId('triggers-table').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No triggers yet').waitFor();
    expect((await t.call('GET', '/v1/triggers')).body.triggers).toEqual([]);
  });

  it('the experiment page turns the automatic stop on (pause or stop, SRM) and shows the stored evidence of an automatic stop', async () => {
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: abExperiment('auto-ui', { metrics: { primary: 'purchase', guardrails: ['errors'] } }),
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/auto-ui/start')).status).toBe(200);
    await page.goto(`${t.baseUrl}/experiments/auto-ui`);
    await page.getByTestId('auto-stop-state').getByText('Now: off').waitFor();
    await page.getByTestId('auto-stop-enabled').check();
    await page.getByTestId('auto-stop-action').selectOption('stop');
    await page.getByTestId('auto-stop-srm').check();
    await page.getByTestId('save-auto-stop').click();
    await page.getByTestId('auto-stop-state').getByText('Now: on — stop on guardrail and srm').waitFor();
    expect((await t.call('GET', '/v1/experiments/auto-ui')).body.autoStop).toEqual({
      action: 'stop',
      on: ['guardrail', 'srm'],
    });
    await page.getByTestId('auto-stop-enabled').uncheck();
    await page.getByTestId('save-auto-stop').click();
    await page.getByTestId('auto-stop-state').getByText('Now: off').waitFor();
    expect((await t.call('GET', '/v1/experiments/auto-ui')).body.autoStop ?? null).toBeNull();

    // An automatic stop as the scheduled evaluation makes it (audited with its evidence); the card shows that evidence.
    const evidence = {
      phase: 1,
      evaluatedAt: new Date().toISOString(),
      basis: 'always-valid',
      srm: { flagged: false, pValue: 0.5 },
      guardrailBreaches: [
        {
          variant: 'treatment',
          metric: 'errors',
          estimate: 0.3,
          ci: { lower: 0.2, upper: 0.4 },
          nonInferiorityMargin: 0.01,
          direction: 'lower-is-better',
        },
      ],
    };
    const experiments = t.running.app.get(ExperimentsService);
    expect(
      await experiments.autoStop(
        'auto-ui',
        'pause',
        'guardrail "errors" of "treatment" is beyond its non-inferiority margin 0.01.',
        evidence,
        async () => true,
      ),
    ).toBe(true);
    await page.reload();
    await page
      .getByTestId('auto-stop')
      .getByTestId('auto-stop-evidence')
      .getByText('always-valid interval [0.2, 0.4], margin 0.01')
      .waitFor();
    await shot(page, '13d-auto-stop');
  });

  it('a viewer sees no write buttons and the API refuses its writes', async () => {
    await page.getByTestId('sign-out').click();
    await page.waitForURL('**/sign-in');
    await page.fill('#email', VIEWER.email);
    await page.fill('#password', VIEWER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('experiments-table').waitFor();
    expect(await page.getByTestId('new-experiment').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Home feed ranking' }).click();
    await page.getByTestId('variants-table').waitFor();
    expect(await page.getByTestId('lifecycle-actions').count()).toBe(0);
    await shot(page, '14-viewer-overview');

    const refused = await page.evaluate(async () => {
      const s = (await (await fetch('/v1/console/session')).json()) as { csrfToken: string };
      const headers = { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken };
      const patch = await fetch('/v1/experiments/home-feed', {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ name: 'hijacked' }),
      });
      const create = await fetch('/v1/experiments', {
        method: 'POST',
        headers,
        body: JSON.stringify({ key: 'viewer-made', name: 'x', kind: 'ab', variants: [{ key: 'a' }, { key: 'b' }] }),
      });
      const keys = await fetch('/v1/api-keys');
      return [patch.status, create.status, keys.status];
    });
    expect(refused).toEqual([403, 403, 403]);
  });

  it('works on a 390 px phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(t.baseUrl + '/');
    await page.getByTestId('experiments-table').waitFor();
    await shot(page, '15-phone-experiments');
    await page.goto(`${t.baseUrl}/experiments/${KEY}/results`);
    await page.getByTestId('results').waitFor();
    await shot(page, '16-phone-results');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByTestId('sign-out').waitFor();
    await shot(page, '17-phone-menu');
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });

  it('the OpenAPI UI and the printable report render under their Content-Security-Policy', async () => {
    await page.goto(`${t.baseUrl}/docs`);
    await page.locator('.swagger-ui .info').waitFor();
    const report = await page.goto(`${t.baseUrl}/v1/experiments/${KEY}/report.html`); // the viewer's session cookie
    expect(report?.status()).toBe(200);
    expect(report?.headers()['content-security-policy']).toMatch(/^default-src 'none'; style-src 'unsafe-inline'/);
    // The inline <style> applied (its font stack, instead of the browser's default serif).
    expect(String(await page.evaluate('getComputedStyle(document.body).fontFamily'))).toContain('sans-serif');
    expect(cspViolations).toEqual([]);
  });
});
