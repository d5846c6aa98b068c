import { abExperiment, startTestApp, TestApp } from './support/test-app';

/** Issue 16 part 6: targeting written as a GrowthBook-style condition, through HTTP (create, patch, assign, 400 paths). */
describe('targeting with GrowthBook-style conditions', () => {
  let t: TestApp;
  let serving: string;
  beforeAll(async () => {
    t = await startTestApp();
    serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'serving', role: 'serving' } })).body.key;
  });
  afterAll(() => t.close(true));

  const assigned = async (key: string, attributes: Record<string, unknown>) => {
    const res = await t.call('POST', '/v1/assign', {
      key: serving,
      body: { experiment: key, unitId: 'gb-1', attributes },
    });
    expect(res.status).toBe(200);
    if (!res.body.inExperiment)
      expect(res.body).toEqual({
        experiment: key,
        variant: null,
        config: null,
        inExperiment: false,
        reason: 'targeting',
      });
    return res.body.inExperiment as boolean;
  };

  it('creates an experiment with a condition, stores it as sent, and assigns by it', async () => {
    const targeting = {
      country: { $in: ['DE', 'FR'] },
      appVersion: { $gte: 412 },
      $or: [{ plan: 'pro' }, { 'account.seats': { $gt: 10 } }],
      email: { $not: { $regex: '@example\\.com$' } },
    };
    const created = await t.call('POST', '/v1/experiments', { body: abExperiment('gb-targeted', { targeting }) });
    expect(created.status).toBe(201);
    expect(created.body.targeting).toEqual(targeting);
    expect((await t.call('POST', '/v1/experiments/gb-targeted/start')).status).toBe(200);
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{ country: 'DE', appVersion: 500, plan: 'pro' }, true],
      [{ country: 'FR', appVersion: 412, 'account.seats': 11, email: 'a@b.com' }, true],
      [{ country: 'FR', appVersion: 412, 'account.seats': 10 }, false],
      [{ country: 'US', appVersion: 500, plan: 'pro' }, false],
      [{ country: 'DE', appVersion: 411, plan: 'pro' }, false],
      [{ country: 'DE', appVersion: '500', plan: 'pro' }, false], // no coercion
      [{ country: 'DE', appVersion: 500, plan: 'pro', email: 'x@example.com' }, false],
      [{}, false],
    ];
    for (const [attributes, inside] of cases)
      expect([attributes, await assigned('gb-targeted', attributes)]).toEqual([attributes, inside]);
  });

  it('PATCH replaces a rule-tree targeting with a condition (and back)', async () => {
    expect(
      (
        await t.call('POST', '/v1/experiments', {
          body: abExperiment('gb-patched', { targeting: { op: 'eq', attr: 'country', value: 'US' } }),
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/v1/experiments/gb-patched/start')).status).toBe(200);
    expect(await assigned('gb-patched', { country: 'US' })).toBe(true);
    const patched = await t.call('PATCH', '/v1/experiments/gb-patched', {
      body: { targeting: { country: { $nin: ['US'] }, age: { $exists: true } } },
    });
    expect(patched.status).toBe(200);
    expect(await assigned('gb-patched', { country: 'US', age: 30 })).toBe(false);
    expect(await assigned('gb-patched', { country: 'DE', age: 30 })).toBe(true);
    expect(await assigned('gb-patched', { country: 'DE' })).toBe(false);
  });

  it('answers 400 with paths into the condition', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ country: { $in: ['DE', { nested: 1 }] } }, ['targeting.country.$in[1]']],
      [{ $or: [{ age: { $gt: 'x', $lt: [1] } }] }, ['targeting.$or[0].age.$lt']],
      [{ ua: { $regex: '(?<!x)bot' } }, ['targeting.ua.$regex']],
      [{ tags: { $elemMatch: { $eq: 'a' } } }, ['targeting.tags.$elemMatch']],
      [{ $where: 'true' }, ['targeting.$where']],
    ];
    for (const [targeting, paths] of cases) {
      const res = await t.call('POST', '/v1/experiments', { body: abExperiment('gb-bad', { targeting }) });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(paths);
    }
    const patch = await t.call('PATCH', '/v1/experiments/gb-patched', {
      body: { targeting: { country: { $in: 'DE' } } },
    });
    expect(patch.status).toBe(400);
    expect(patch.body.errors.map((e: { path: string }) => e.path)).toEqual(['targeting.country.$in']);
  });
});
