import { FIXTURE_SPLIT_SIGNATURE, loadFixtureModel } from '@slotwise/ranker-fixtures';
import golden from '../libs/ope/src/__golden__/obd.json';
import { loadObd } from '../libs/ope/src/testing/obd';
import { rankingExperiment, startTestApp, TestApp } from './support/test-app';

const REL = 1e-9;
function close(actual: number, expected: number): void {
  if (!(Math.abs(actual - expected) <= REL * Math.abs(expected)))
    throw new Error(`expected ${expected}, got ${actual}`);
}

/** The OBD "men" campaign has 34 items; every impression chose among all of them (OBP: n_actions = 34). */
const ITEMS = Array.from({ length: golden.logs['bts-men'].nActions }, (_, i) => ({ id: String(i) }));
const T0 = Date.parse('2019-11-24T00:00:00Z');

function obdDecisions(from: number, to: number) {
  const l = loadObd('bts', 'men');
  const out = [];
  for (let i = from; i < Math.min(to, l.action.length); i++) {
    out.push({
      decisionId: `obd-bts-men-${i}`,
      variant: 'bts',
      timestamp: new Date(T0 + i * 1000).toISOString(),
      candidates: ITEMS,
      slots: [
        { position: l.position[i] + 1, itemId: String(l.action[i]), propensity: l.pscore[i], reward: l.reward[i] },
      ],
    });
  }
  return out;
}

describe('off-policy evaluation over HTTP: imported decisions, OPE runs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    const created = await t.call('POST', '/v1/experiments', {
      body: rankingExperiment('obd', {
        assignment: 'external',
        features: { context: [], item: [] },
        variants: [
          { key: 'bts', policy: { type: 'thompson', model: 'beta' } },
          { key: 'random', policy: { type: 'random' } },
        ],
      }),
    });
    expect(created.status).toBe(201);
  }, 180_000);
  afterAll(() => t.close(true));

  it('imports the OBD sample (bts-men, 10,000 rounds) in batches, idempotently by decision id', async () => {
    for (let from = 0; from < 10_000; from += 1000) {
      const res = await t.call('POST', '/v1/experiments/obd/decisions/import', {
        body: { decisions: obdDecisions(from, from + 1000) },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ received: 1000, imported: 1000, duplicates: 0 });
    }
    const again = await t.call('POST', '/v1/experiments/obd/decisions/import', {
      body: { decisions: obdDecisions(0, 500) },
    });
    expect(again.body).toEqual({ received: 500, imported: 0, duplicates: 500 });
    const log = await t.call('GET', '/v1/experiments/obd/decisions?limit=1');
    expect(log.body.decisions[0].slots[0].propensity).toBeGreaterThan(0);
  });

  it('OPE of the uniform-random policy on the BTS log reproduces Open Bandit Pipeline (IPS, SNIPS, ESS, max weight) at 1e-9', async () => {
    const res = await t.call('POST', '/v1/experiments/obd/ope', {
      body: { policy: { type: 'random' }, logs: { variant: 'bts' }, estimators: ['ips', 'snips'] },
    });
    expect([200, 202]).toContain(res.status);
    let run = res.body;
    for (let i = 0; run.status === 'running' && i < 600; i++) {
      await new Promise((r) => setTimeout(r, 200));
      run = (await t.call('GET', `/v1/experiments/obd/ope/${run.id}`)).body;
    }
    expect(run.status).toBe('succeeded');
    const g = golden.logs['bts-men'].estimates.uniform;
    const r = run.result;
    expect(r.n).toBe(10_000);
    const ips = r.estimates.find((e: { estimator: string }) => e.estimator === 'ips');
    const snips = r.estimates.find((e: { estimator: string }) => e.estimator === 'snips');
    close(ips.value, g.ips.value);
    close(ips.stdErr, g.ips.normal.standardError);
    close(ips.ci.lower, g.ips.normal.lower);
    close(ips.ci.upper, g.ips.normal.upper);
    close(snips.value, g.snips.value);
    close(snips.ci.lower, g.snips.normal.lower);
    close(snips.ci.upper, g.snips.normal.upper);
    close(r.effectiveSampleSize, g.weights.ess);
    close(r.maxWeight, g.weights.maxWeight);
    close(r.loggedValue, golden.logs['bts-men'].onPolicyValue);
    expect(r.actionDistribution).toEqual({ method: 'exact', draws: 0 });
    // stored and listed
    const list = await t.call('GET', '/v1/experiments/obd/ope');
    expect(list.body.runs.map((x: { id: string }) => x.id)).toContain(run.id);
  });

  it('evaluates the 10,000 imported decisions with every estimator (a job: 202, progress, then the stored result)', async () => {
    const started = Date.now();
    const res = await t.call('POST', '/v1/experiments/obd/ope', {
      body: { policy: { type: 'random' }, logs: { variant: 'bts' } },
    });
    expect([200, 202]).toContain(res.status);
    if (res.status === 202) expect(res.headers.get('location')).toBe(`/v1/experiments/obd/ope/${res.body.id}`);
    let run = res.body;
    for (let i = 0; run.status === 'running' && i < 600; i++) {
      expect(run.progress).toBeGreaterThanOrEqual(0);
      expect(run.progress).toBeLessThan(1);
      await new Promise((r) => setTimeout(r, 100));
      run = (await t.call('GET', `/v1/experiments/obd/ope/${run.id}`)).body;
    }
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `OPE of 10,000 imported decisions, all estimators, through HTTP: ${seconds.toFixed(2)} s (status ${res.status})\n`,
    );
    expect(run.status).toBe('succeeded');
    expect(run.progress).toBe(1);
    expect(run.result.estimates.map((e: { estimator: string }) => e.estimator)).toEqual([
      'ips',
      'snips',
      'dm',
      'dr',
      'sndr',
      'switch-dr',
    ]);
    const g = golden.logs['bts-men'].estimates.uniform;
    close(run.result.estimates[0].value, g.ips.value);
    for (const e of run.result.estimates) {
      expect(e.ci.lower).toBeLessThanOrEqual(e.value);
      expect(e.ci.upper).toBeGreaterThanOrEqual(e.value);
    }
  });

  it('rejects bad input with 4xx and paths', async () => {
    const one = obdDecisions(0, 1)[0];
    const bad = async (decision: unknown) =>
      t.call('POST', '/v1/experiments/obd/decisions/import', { body: { decisions: [decision] } });
    let res = await bad({ ...one, decisionId: 'z', slots: [{ ...one.slots[0], propensity: 0 }] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: 'decisions[0].slots[0].propensity', message: 'must be in (0, 1]' }]);
    res = await bad({ ...one, decisionId: 'z', slots: [{ position: 1, itemId: '1', reward: 0 }] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('decisions[0].slots[0].propensity');
    res = await bad({
      ...one,
      decisionId: 'z',
      slots: [
        { position: 1, itemId: '1', propensity: 0.1 },
        { position: 1, itemId: '2', propensity: 0.1 },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'decisions[0].slots[1].position', message: 'position 1 appears twice in this decision' },
    ]);
    res = await bad({ ...one, decisionId: 'z', slots: [{ position: 1, itemId: 'nope', propensity: 0.1 }] });
    expect(res.body.errors).toEqual([
      { path: 'decisions[0].slots[0].itemId', message: '"nope" is not among the decision\'s candidates' },
    ]);

    const onnx = Buffer.from(loadFixtureModel('split').bytes).toString('base64');
    expect(
      (await t.call('POST', '/v1/models', { body: { name: 'other-schema', signature: FIXTURE_SPLIT_SIGNATURE, onnx } }))
        .status,
    ).toBe(201);
    res = await t.call('POST', '/v1/experiments/obd/ope', { body: { policy: { ranker: 'other-schema@1' } } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('policy.ranker');
    res = await t.call('POST', '/v1/experiments/obd/ope', {
      body: { policy: { type: 'random' }, logs: { variant: 'random' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: 'logs', message: 'no logged decisions of variant "random" in this window' },
    ]);
    res = await t.call('POST', '/v1/experiments/obd/ope', {
      body: { policy: { type: 'random' }, logs: { from: '2030-01-01T00:00:00Z' } },
    });
    expect(res.body.errors[0].path).toBe('logs');
    res = await t.call('POST', '/v1/experiments/obd/ope', { body: { policy: { variant: 'nope' } } });
    expect(res.body.errors[0].path).toBe('policy.variant');

    // Slotwise-assigned experiments log their own decisions.
    expect((await t.call('POST', '/v1/experiments', { body: rankingExperiment('hashed') })).status).toBe(201);
    res = await t.call('POST', '/v1/experiments/hashed/decisions/import', { body: { decisions: [one] } });
    expect(res.status).toBe(409);
  });
});
