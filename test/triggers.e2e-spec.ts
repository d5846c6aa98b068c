import { DataSource } from 'typeorm';
import { FeatureQueueWorker } from '../apps/api/src/modules/features';
import { startTestApp, TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

/* eslint-disable @typescript-eslint/no-explicit-any */
jest.setTimeout(180_000);

const ENV = {
  WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8,::1',
  WEBHOOK_POLL_MS: '100',
  WEBHOOK_RETRY_BASE_MS: '100',
  AUTOMATION_INTERVAL_MS: '86400000',
  MODEL_FLUSH_MS: '60000',
};

/** `unit.page_depth`: the value of the unit's latest `depth` event (a feature a unit can enter and leave at will). */
const pageDepth = {
  name: 'unit.page_depth',
  entity: 'unit',
  source: { type: 'event', metric: 'depth' },
  aggregation: 'last',
  window: { type: 'sliding', seconds: 3600 },
};
const views = {
  name: 'unit.views_1h',
  entity: 'unit',
  source: { type: 'event', metric: 'depth' },
  aggregation: 'count',
  window: { type: 'sliding', seconds: 3600 },
};
const itemShown = {
  name: 'item.shown_1h',
  entity: 'item',
  source: { type: 'impression' },
  aggregation: 'count',
  window: { type: 'sliding', seconds: 3600 },
};
const deep = { op: 'gte', attr: 'unit.page_depth', value: 3 };

const paths = (res: { body: any }) => (res.body.errors ?? []).map((e: { path: string }) => e.path).sort();

describe('behavioural triggers (issue 18 part 3) with a real local receiver', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  let clock = Date.now() - 120_000;

  /** One `depth` event for `unitId` with `value` (timestamps strictly increasing, so `last` is well defined). */
  const depth = async (unitId: string, value: number) => {
    clock += 10;
    const res = await t.call('POST', '/v1/events', {
      body: { events: [{ unitId, metric: 'depth', value, timestamp: new Date(clock).toISOString() }] },
    });
    expect(res.body.accepted).toBe(1);
  };
  const firedFor = (trigger: string, unitId: string) =>
    rx.processed.filter(
      (r) =>
        r.payload.type === 'trigger.fired' &&
        (r.payload.data as any).trigger.name === trigger &&
        r.payload.data.unitId === unitId,
    );
  const firings = async (id: string) => (await t.call('GET', `/v1/triggers/${id}/firings`)).body.firings as any[];

  beforeAll(async () => {
    rx = await new WebhookReceiver().start();
    t = await startTestApp({ env: ENV });
    const hook = await t.call('POST', '/v1/webhooks', { body: { url: rx.url, eventTypes: ['trigger.fired'] } });
    expect(hook.status).toBe(201);
    rx.secret = hook.body.secret;
    await t.call('POST', '/v1/events', { body: { events: [{ unitId: 'bootstrap', metric: 'depth', value: 0 }] } });
    for (const f of [pageDepth, views, itemShown])
      expect((await t.call('POST', '/v1/features', { body: f })).status).toBe(201);
  });
  afterAll(async () => {
    await t.close(true);
    await rx.stop();
  });

  it('refuses bad definitions with 400 and paths: unknown feature, item feature, bad rule, refused regex, cooldown < 0', async () => {
    const unknown = await t.call('POST', '/v1/triggers', {
      body: { name: 'bad', condition: { op: 'and', rules: [deep, { op: 'gt', attr: 'unit.nope', value: 1 }] } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(unknown.body.errors).toEqual([
      { path: 'condition.rules[1].attr', message: expect.stringContaining('unknown feature "unit.nope"') },
    ]);
    const item = await t.call('POST', '/v1/triggers', {
      body: { name: 'bad', condition: { op: 'gt', attr: 'item.shown_1h', value: 1 } },
    });
    expect(item.body.errors).toEqual([{ path: 'condition.attr', message: expect.stringContaining('item feature') }]);
    expect(
      paths(
        await t.call('POST', '/v1/triggers', {
          body: {
            name: 'bad',
            condition: { op: 'or', rules: [{ op: 'gt', attr: 'unit.page_depth', value: {} }, { op: 'near' }] },
          },
        }),
      ),
    ).toEqual(['condition.rules[0].value', 'condition.rules[1].op']);
    const redos = await t.call('POST', '/v1/triggers', {
      body: { name: 'bad', condition: { op: 'regex', attr: 'unit.page_depth', pattern: '^(a+)+\\1$' } },
    });
    expect(redos.body.errors).toEqual([
      { path: 'condition.pattern', message: expect.stringContaining('back-references') },
    ]);
    expect(
      paths(await t.call('POST', '/v1/triggers', { body: { name: 'bad', condition: deep, cooldownSeconds: -1 } })),
    ).toEqual(['cooldownSeconds']);
    expect(
      paths(await t.call('POST', '/v1/triggers', { body: { name: 'Bad name', cooldownSeconds: 'x', extra: 1 } })),
    ).toEqual(['condition', 'cooldownSeconds', 'extra', 'name']);
    expect((await t.call('GET', '/v1/triggers/not-a-uuid')).status).toBe(400);
    expect((await t.call('GET', '/v1/triggers/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const viewer = (await t.call('POST', '/v1/api-keys', { body: { name: 'viewer', role: 'viewer' } })).body.key;
    expect((await t.call('GET', '/v1/triggers', { key: viewer })).status).toBe(403);
    expect((await t.call('GET', '/v1/triggers')).body.triggers).toEqual([]);
  });

  it('fires once per entry (not while inside; again after leaving), respects its cooldown, and delivers the matched values signed', async () => {
    const every = await t.call('POST', '/v1/triggers', {
      body: { name: 'deep-reader', description: 'reads deep', condition: deep, cooldownSeconds: 0 },
    });
    expect(every.status).toBe(201);
    expect(every.body).toMatchObject({
      name: 'deep-reader',
      features: ['unit.page_depth'],
      cooldownSeconds: 0,
      enabled: true,
      version: 1,
    });
    const cooled = await t.call('POST', '/v1/triggers', {
      body: {
        name: 'deep-cooled',
        condition: { op: 'and', rules: [deep, { op: 'gte', attr: 'unit.views_1h', value: 1 }] },
        cooldownSeconds: 2,
      },
    });
    expect(cooled.status).toBe(201);

    await depth('u-1', 1); // outside
    await depth('u-1', 3); // enters: both fire
    await depth('u-1', 4); // inside: nothing
    await depth('u-1', 5); // inside: nothing
    await depth('u-1', 1); // leaves
    await depth('u-1', 6); // enters again: deep-reader fires; deep-cooled is within its 2 s cooldown (suppressed)
    await depth('u-1', 7); // inside: nothing
    await rx.until(() => firedFor('deep-reader', 'u-1').length >= 2);
    expect((await firings(every.body.id)).map((f) => f.values)).toEqual([
      { 'unit.page_depth': 6 },
      { 'unit.page_depth': 3 },
    ]);
    expect((await firings(cooled.body.id)).map((f) => f.values)).toEqual([
      { 'unit.page_depth': 3, 'unit.views_1h': 2 },
    ]);

    await new Promise((resolve) => setTimeout(resolve, 2100)); // the cooldown ends; staying inside still does not fire
    await depth('u-1', 8);
    expect(await firings(cooled.body.id)).toHaveLength(1);
    await depth('u-1', 0); // leaves
    await depth('u-1', 9); // enters after the cooldown: both fire
    await rx.until(() => firedFor('deep-cooled', 'u-1').length >= 2 && firedFor('deep-reader', 'u-1').length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 500)); // nothing more arrives
    expect(firedFor('deep-reader', 'u-1')).toHaveLength(3);
    expect(firedFor('deep-cooled', 'u-1')).toHaveLength(2);

    const d = firedFor('deep-cooled', 'u-1')[1];
    expect(d.verified).toBe(true);
    expect(d.payload.data).toEqual({
      firingId: expect.any(String),
      trigger: { id: cooled.body.id, name: 'deep-cooled', condition: cooled.body.condition, cooldownSeconds: 2 },
      unitId: 'u-1',
      firedAt: expect.any(String),
      values: { 'unit.page_depth': 9, 'unit.views_1h': 10 },
    });
    expect((await firings(cooled.body.id))[0]).toEqual({
      id: d.payload.data.firingId,
      unitId: 'u-1',
      firedAt: d.payload.data.firedAt,
      values: { 'unit.page_depth': 9, 'unit.views_1h': 10 },
    });
    // other units are evaluated on their own
    await depth('u-2', 3);
    await rx.until(() => firedFor('deep-reader', 'u-2').length === 1);
  });

  it('two concurrent events for one unit fire once', async () => {
    const base = (
      await firings((await t.call('GET', '/v1/triggers')).body.triggers.find((x: any) => x.name === 'deep-reader').id)
    ).length;
    // Timestamps a minute apart land in different buckets of the sliding window, i.e. different feature-state rows,
    // so the feature update's own row locks do not serialise these requests: only the trigger-state row lock does.
    // The unit is known and outside first (its state row exists: creating it would serialise them too).
    const at = Date.now() - 30 * 60_000;
    expect(
      (
        await t.call('POST', '/v1/events', {
          body: {
            events: [
              { unitId: 'u-concurrent', metric: 'depth', value: 1, timestamp: new Date(at - 61_000).toISOString() },
            ],
          },
        })
      ).body.accepted,
    ).toBe(1);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        t.call('POST', '/v1/events', {
          body: {
            events: [
              {
                unitId: 'u-concurrent',
                metric: 'depth',
                value: 5 + i,
                timestamp: new Date(at + i * 61_000).toISOString(),
              },
            ],
          },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    // Event features are applied (and the triggers evaluated) by the feature-queue worker after the 2xx: wait until
    // every queued write has been evaluated, then exactly one firing exists.
    await t.running.app.get(FeatureQueueWorker).drain();
    const id = (await t.call('GET', '/v1/triggers')).body.triggers.find((x: any) => x.name === 'deep-reader').id;
    expect((await firings(id)).filter((f) => f.unitId === 'u-concurrent')).toHaveLength(1);
    expect((await firings(id)).length).toBe(base + 1);
    await rx.until(() => firedFor('deep-reader', 'u-concurrent').length === 1);
  });

  it('writes applied in one queue batch are evaluated write by write, in receipt order (enter, leave, enter: two firings)', async () => {
    const id = (await t.call('GET', '/v1/triggers')).body.triggers.find((x: any) => x.name === 'deep-reader').id;
    // Four writes (as from another replica) queued in one statement, so one worker batch takes them all; receipt
    // order differs from the order the rows are stored in, and it is the receipt order that counts.
    const now = Date.now();
    const writes = [
      { value: 4, order: 3 },
      { value: 3, order: 1 },
      { value: 5, order: 4 },
      { value: 1, order: 2 },
    ];
    const db = t.running.app.get(DataSource);
    await db.query(
      `INSERT INTO feature_queue (unit_id, metric, value, ts, received_ms, write_id)
       SELECT 'u-batch', 'depth', v, to_timestamp(($2::int8 + o * 10) / 1000.0), $2::int8 + o * 10, 1000 + o FROM unnest($1::float8[], $3::int[]) AS w(v, o)`,
      [writes.map((w) => w.value), now - 1000, writes.map((w) => w.order)],
    );
    await t.running.app.get(FeatureQueueWorker).drain();
    expect((await firings(id)).filter((f) => f.unitId === 'u-batch').map((f) => f.values)).toEqual([
      { 'unit.page_depth': 4 },
      { 'unit.page_depth': 3 },
    ]);
  });

  it("is audited; a changed condition starts afresh; disabled triggers and deleted ones do not fire; erasure removes the unit's trigger state", async () => {
    const list = (await t.call('GET', '/v1/triggers')).body.triggers;
    const reader = list.find((x: any) => x.name === 'deep-reader');
    const patched = await t.call('PATCH', `/v1/triggers/${reader.id}`, {
      body: { condition: { op: 'gte', attr: 'unit.page_depth', value: 2 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ version: 2, condition: { op: 'gte', attr: 'unit.page_depth', value: 2 } });
    expect(
      paths(
        await t.call('PATCH', `/v1/triggers/${reader.id}`, {
          body: { condition: { op: 'gt', attr: 'unit.nope', value: 1 } },
        }),
      ),
    ).toEqual(['condition.attr']);
    expect(paths(await t.call('PATCH', `/v1/triggers/${reader.id}`, { body: { cooldownSeconds: -5 } }))).toEqual([
      'cooldownSeconds',
    ]);
    const before = (await firings(reader.id)).length;
    await depth('u-1', 9); // u-1 was inside; the new condition counts everyone as outside: it fires
    await t.running.app.get(FeatureQueueWorker).drain();
    expect((await firings(reader.id)).length).toBe(before + 1);

    expect((await t.call('PATCH', `/v1/triggers/${reader.id}`, { body: { enabled: false } })).body.enabled).toBe(false);
    await depth('u-3', 9);
    await t.running.app.get(FeatureQueueWorker).drain();
    expect((await firings(reader.id)).filter((f) => f.unitId === 'u-3')).toHaveLength(0);

    const erased = await t.call('DELETE', '/v1/units/u-1');
    expect(erased.status).toBe(200);
    expect(erased.body.erased.triggers).toBeGreaterThanOrEqual(2);
    expect((await firings(reader.id)).some((f) => f.unitId === 'u-1')).toBe(false);

    expect((await t.call('DELETE', `/v1/triggers/${reader.id}`)).status).toBe(204);
    expect((await t.call('GET', `/v1/triggers/${reader.id}/firings`)).status).toBe(404);
    const audit = (await t.call('GET', '/v1/audit?entityType=trigger&limit=100')).body.entries.map(
      (e: any) => e.action,
    );
    expect(audit.filter((a: string) => a === 'trigger.create')).toHaveLength(2);
    expect(audit.filter((a: string) => a === 'trigger.update')).toHaveLength(2);
    expect(audit.filter((a: string) => a === 'trigger.delete')).toHaveLength(1);
  });
});
