import { ADMIN_KEY, abExperiment, rankingExperiment, startTestApp, TestApp } from './support/test-app';

describe('Foundation over HTTP', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp();
    for (const role of ['editor', 'viewer', 'serving', 'admin'] as const) {
      const res = await t.call('POST', '/v1/api-keys', { body: { name: `${role} key`, role } });
      expect(res.status).toBe(201);
      expect(res.body.key).toMatch(/^sw_/);
      keys[role] = res.body.key;
    }
  });
  afterAll(() => t.close(true));

  describe('health, metrics, docs', () => {
    it('GET /health answers 200 with the database up', async () => {
      const res = await t.call('GET', '/health', { key: null });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ok', db: 'up' });
      expect(typeof res.body.version).toBe('string');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    });

    it('GET /metrics is Prometheus text with per-route counts and pool gauges', async () => {
      await t.call('GET', '/health', { key: null });
      const res = await t.call('GET', '/metrics', { key: null });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(res.text).toMatch(/slotwise_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/);
      expect(res.text).toContain('slotwise_http_request_duration_seconds_bucket');
      expect(res.text).toMatch(/slotwise_db_pool_connections \d+/);
    });

    it('serves the OpenAPI document and UI', async () => {
      const doc = await t.call('GET', '/docs/openapi.json', { key: null });
      expect(doc.status).toBe(200);
      // zod's JSON Schema 2020-12 output is OpenAPI 3.1's dialect (type arrays for null, numeric exclusiveMinimum)
      expect(doc.body.openapi).toBe('3.1.0');
      expect(Object.keys(doc.body.paths)).toEqual(
        expect.arrayContaining(['/v1/experiments', '/v1/items/{id}', '/v1/api-keys']),
      );
      const ui = await t.call('GET', '/docs', { key: null });
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger');
    });
  });

  describe('authentication', () => {
    it('401 without a key, with a malformed header and with a wrong key, as problem+json', async () => {
      for (const headers of [
        {},
        { authorization: 'Basic abc' },
        { authorization: 'Bearer sw_wrong_key_000000000000000000000000000000' },
      ]) {
        const res = await t.call('GET', '/v1/experiments', { key: null, headers: headers as Record<string, string> });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 401, title: 'Unauthorized' });
        expect(res.body.type).toMatch(/^https:\/\//);
        expect(res.body.detail).toBeTruthy();
      }
    });

    it('a revoked key stops working at once on this replica', async () => {
      const created = await t.call('POST', '/v1/api-keys', { body: { name: 'temp', role: 'viewer' } });
      expect((await t.call('GET', '/v1/experiments', { key: created.body.key })).status).toBe(200);
      expect((await t.call('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
      expect((await t.call('GET', '/v1/experiments', { key: created.body.key })).status).toBe(401);
      expect((await t.call('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(404);
    });

    it('lists keys without secrets or hashes', async () => {
      const res = await t.call('GET', '/v1/api-keys');
      expect(res.status).toBe(200);
      expect(res.body.keys.length).toBeGreaterThanOrEqual(5);
      for (const k of res.body.keys) {
        expect(Object.keys(k).sort()).toEqual(['createdAt', 'id', 'name', 'prefix', 'role']);
      }
      expect(res.text).not.toContain(keys.viewer);
    });

    it('refuses to revoke the last admin key', async () => {
      const list = (await t.call('GET', '/v1/api-keys')).body.keys as Array<{ id: string; role: string; name: string }>;
      const extraAdmin = list.find((k) => k.name === 'admin key')!;
      expect((await t.call('DELETE', `/v1/api-keys/${extraAdmin.id}`)).status).toBe(204);
      const bootstrap = list.find((k) => k.role === 'admin' && k.name !== 'admin key')!;
      const res = await t.call('DELETE', `/v1/api-keys/${bootstrap.id}`);
      expect(res.status).toBe(409);
    });
  });

  describe('authorization: each role is refused what it may not do', () => {
    // route, method, body factory, roles allowed
    const exp = (k: string) => rankingExperiment(k);
    const routes: Array<{ name: string; method: string; path: string; body?: () => unknown; allowed: string[] }> = [
      {
        name: 'create key',
        method: 'POST',
        path: '/v1/api-keys',
        body: () => ({ name: 'x', role: 'viewer' }),
        allowed: ['admin'],
      },
      { name: 'list keys', method: 'GET', path: '/v1/api-keys', allowed: ['admin'] },
      {
        name: 'revoke key',
        method: 'DELETE',
        path: '/v1/api-keys/00000000-0000-4000-8000-000000000000',
        allowed: ['admin'],
      },
      {
        name: 'create experiment',
        method: 'POST',
        path: '/v1/experiments',
        body: () => exp(`authz-${Math.random().toString(36).slice(2, 10)}`),
        allowed: ['admin', 'editor'],
      },
      { name: 'list experiments', method: 'GET', path: '/v1/experiments', allowed: ['admin', 'editor', 'viewer'] },
      {
        name: 'read experiment',
        method: 'GET',
        path: '/v1/experiments/authz-base',
        allowed: ['admin', 'editor', 'viewer'],
      },
      {
        name: 'patch experiment',
        method: 'PATCH',
        path: '/v1/experiments/authz-base',
        body: () => ({ hypothesis: 'changed' }),
        allowed: ['admin', 'editor'],
      },
      {
        name: 'start experiment',
        method: 'POST',
        path: '/v1/experiments/authz-none/start',
        allowed: ['admin', 'editor'],
      },
      {
        name: 'put item',
        method: 'PUT',
        path: '/v1/items/authz-item',
        body: () => ({ features: { price: 1 } }),
        allowed: ['admin', 'editor', 'serving'],
      },
      {
        name: 'batch items',
        method: 'POST',
        path: '/v1/items/batch',
        body: () => ({ items: [{ id: 'authz-b' }] }),
        allowed: ['admin', 'editor', 'serving'],
      },
      {
        name: 'read item',
        method: 'GET',
        path: '/v1/items/authz-item',
        allowed: ['admin', 'editor', 'viewer', 'serving'],
      },
      { name: 'read audit', method: 'GET', path: '/v1/audit', allowed: ['admin', 'editor'] },
    ];

    beforeAll(async () => {
      expect((await t.call('POST', '/v1/experiments', { body: exp('authz-base') })).status).toBe(201);
      expect((await t.call('PUT', '/v1/items/authz-item', { body: { features: { price: 1 } } })).status).toBeLessThan(
        300,
      );
    });

    for (const route of routes) {
      for (const role of ['admin', 'editor', 'viewer', 'serving']) {
        const allowed = route.allowed.includes(role);
        it(`${role} ${allowed ? 'may' : 'may not'} ${route.name}`, async () => {
          const key = role === 'admin' ? ADMIN_KEY : keys[role];
          const res = await t.call(route.method, route.path, { key, body: route.body?.() });
          if (allowed) {
            expect(res.status).not.toBe(403);
            expect(res.status).not.toBe(401);
          } else {
            expect(res.status).toBe(403);
            expect(res.body.detail).toContain(role);
          }
        });
      }
    }
  });

  describe('experiments', () => {
    it('creates a draft with defaults filled and reads it back', async () => {
      const res = await t.call('POST', '/v1/experiments', { body: rankingExperiment('home-feed') });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        key: 'home-feed',
        status: 'draft',
        kind: 'ranking',
        slots: 3,
        trafficPercent: 100,
        coldStartThreshold: 100,
        rewardWindowSeconds: 86400,
      });
      expect(res.body.variants[1].policy).toEqual({
        type: 'thompson',
        model: 'hybrid',
        lambda: 0.25,
        a0: 6,
        b0: 6,
        propensityDraws: 1000,
      });
      const read = await t.call('GET', '/v1/experiments/home-feed', { key: keys.viewer });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(res.body);
    });

    it('400 with field paths for a malformed experiment', async () => {
      const res = await t.call('POST', '/v1/experiments', {
        body: {
          key: 'Bad Key',
          name: 'x',
          kind: 'ranking',
          slots: 51,
          features: { context: ['age', 'age'], item: [] },
          variants: [
            { key: 'a', weight: 0, policy: { type: 'ranker' } },
            { key: 'b', policy: { type: 'bogus' } },
          ],
          surprise: true,
        },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const paths = res.body.errors.map((e: { path: string }) => e.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'key',
          'slots',
          'features.context[1]',
          'variants[0].weight',
          'variants[1].policy.type',
          'surprise',
        ]),
      );
      for (const e of res.body.errors) expect(e.message).toBeTruthy();
    });

    it('400 for duplicate variant keys, too few A/B variants and ranking without policies', async () => {
      const dup = await t.call('POST', '/v1/experiments', {
        body: abExperiment('dup-variants', { variants: [{ key: 'a' }, { key: 'a' }] }),
      });
      expect(dup.status).toBe(400);
      expect(dup.body.errors).toContainEqual({ path: 'variants[1].key', message: 'duplicate variant key "a"' });
      const one = await t.call('POST', '/v1/experiments', {
        body: abExperiment('one-variant', { variants: [{ key: 'a' }] }),
      });
      expect(one.status).toBe(400);
      expect(one.body.errors[0].path).toBe('variants');
      const nopolicy = await t.call('POST', '/v1/experiments', {
        body: rankingExperiment('no-policy', { variants: [{ key: 'a' }, { key: 'b' }] }),
      });
      expect(nopolicy.status).toBe(400);
      expect(nopolicy.body.errors.map((e: { path: string }) => e.path)).toEqual([
        'variants[0].policy',
        'variants[1].policy',
      ]);
    });

    it('400 for malformed JSON and non-object bodies, never 500', async () => {
      const bad = await t.call('POST', '/v1/experiments', { rawBody: '{"key": ' });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      const arr = await t.call('POST', '/v1/experiments', { body: [1, 2] });
      expect(arr.status).toBe(400);
      const nul = await t.call('POST', '/v1/experiments', { rawBody: 'null' });
      expect(nul.status).toBe(400);
    });

    it('409 for a duplicate key', async () => {
      await t.call('POST', '/v1/experiments', { body: abExperiment('checkout-color') });
      const res = await t.call('POST', '/v1/experiments', { body: abExperiment('checkout-color') });
      expect(res.status).toBe(409);
      expect(res.body.type).toContain('duplicate-key');
    });

    it('runs the lifecycle and refuses illegal transitions with 409', async () => {
      await t.call('POST', '/v1/experiments', { body: abExperiment('lifecycle') });
      expect((await t.call('POST', '/v1/experiments/lifecycle/pause')).status).toBe(409);
      expect((await t.call('POST', '/v1/experiments/lifecycle/stop')).status).toBe(409);
      const started = await t.call('POST', '/v1/experiments/lifecycle/start');
      expect(started.status).toBe(200);
      expect(started.body.status).toBe('running');
      expect(started.body.startedAt).toBeTruthy();
      expect((await t.call('POST', '/v1/experiments/lifecycle/start')).status).toBe(409);
      expect((await t.call('POST', '/v1/experiments/lifecycle/pause')).body.status).toBe('paused');
      expect((await t.call('POST', '/v1/experiments/lifecycle/start')).body.status).toBe('running');
      const stopped = await t.call('POST', '/v1/experiments/lifecycle/stop');
      expect(stopped.body.status).toBe('stopped');
      expect(stopped.body.stoppedAt).toBeTruthy();
      for (const action of ['start', 'pause', 'stop']) {
        const res = await t.call('POST', `/v1/experiments/lifecycle/${action}`);
        expect(res.status).toBe(409);
        expect(res.body.type).toContain('illegal-transition');
      }
      expect((await t.call('PATCH', '/v1/experiments/lifecycle', { body: { name: 'late' } })).status).toBe(409);
      expect((await t.call('POST', '/v1/experiments/nope-nope/start')).status).toBe(404);
    });

    it('patches with validation of the merged definition, freezes structure once live, and audits before/after', async () => {
      await t.call('POST', '/v1/experiments', { body: abExperiment('patchable') });
      const bad = await t.call('PATCH', '/v1/experiments/patchable', { body: { trafficPercent: 120 } });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('trafficPercent');
      expect((await t.call('PATCH', '/v1/experiments/patchable', { body: { key: 'renamed' } })).status).toBe(400);
      expect((await t.call('PATCH', '/v1/experiments/patchable', { body: {} })).status).toBe(400);
      const ok = await t.call('PATCH', '/v1/experiments/patchable', {
        key: keys.editor,
        body: { hypothesis: 'Green converts better', trafficPercent: 50 },
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ hypothesis: 'Green converts better', trafficPercent: 50, version: 2 });
      await t.call('POST', '/v1/experiments/patchable/start');
      const weights = await t.call('PATCH', '/v1/experiments/patchable', {
        body: {
          variants: [
            { key: 'control', weight: 3, config: { color: 'blue' } },
            { key: 'treatment', weight: 1, config: { color: 'green' } },
          ],
        },
      });
      expect(weights.status).toBe(200);
      const frozen = await t.call('PATCH', '/v1/experiments/patchable', { body: { assignment: 'external' } });
      expect(frozen.status).toBe(409);

      const audit = await t.call('GET', '/v1/audit?entityType=experiment&entityId=patchable', { key: keys.editor });
      expect(audit.status).toBe(200);
      const actions = audit.body.entries.map((e: { action: string }) => e.action);
      expect(actions).toEqual(['experiment.update', 'experiment.start', 'experiment.update', 'experiment.create']);
      const edit = audit.body.entries[3 - 1];
      expect(edit.actor.name).toBe('editor key (editor)');
      expect(edit.before.hypothesis).toBe('');
      expect(edit.after.hypothesis).toBe('Green converts better');
      expect(edit.before.trafficPercent).toBe(100);
      expect(edit.after.trafficPercent).toBe(50);
      expect(Date.parse(edit.at)).toBeGreaterThan(Date.now() - 60_000);
      expect(audit.body.entries[1].before).toEqual({ status: 'draft' });
      expect(audit.body.entries[1].after).toEqual({ status: 'running' });
    });

    it('lists with filters and search', async () => {
      const res = await t.call('GET', '/v1/experiments?kind=ab&q=patch');
      expect(res.status).toBe(200);
      expect(res.body.experiments.map((e: { key: string }) => e.key)).toEqual(['patchable']);
      const bad = await t.call('GET', '/v1/experiments?status=nope');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('query.status');
    });

    it('404 for an unknown experiment and a malformed key', async () => {
      expect((await t.call('GET', '/v1/experiments/does-not-exist')).status).toBe(404);
      const res = await t.call('GET', '/v1/experiments/NOT%20A%20KEY');
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('key');
    });
  });

  describe('catalog items', () => {
    it('PUT creates then replaces; GET reads; audit keeps before/after', async () => {
      const created = await t.call('PUT', '/v1/items/i-1', {
        key: keys.serving,
        body: { features: { price: 0.2, quality: 3 }, attributes: { brand: 'acme' } },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: 'i-1',
        features: { price: 0.2, quality: 3 },
        attributes: { brand: 'acme' },
      });
      const replaced = await t.call('PUT', '/v1/items/i-1', { body: { features: { price: 0.3 } } });
      expect(replaced.status).toBe(200);
      expect(replaced.body.features).toEqual({ price: 0.3 });
      const read = await t.call('GET', '/v1/items/i-1', { key: keys.viewer });
      expect(read.body.features).toEqual({ price: 0.3 });
      const audit = await t.call('GET', '/v1/audit?entityType=item&entityId=i-1');
      expect(audit.body.entries[0]).toMatchObject({
        action: 'item.update',
        before: { features: { price: 0.2, quality: 3 } },
        after: { features: { price: 0.3 } },
      });
    });

    it('the audit log can be filtered by every entity type it records (metric, layer, …)', async () => {
      expect(
        (await t.call('POST', '/v1/metrics', { body: { key: 'audit-metric', name: 'Audited', type: 'sum' } })).status,
      ).toBe(201);
      expect((await t.call('PUT', '/v1/layers/audit-layer', { body: { holdoutPercent: 5 } })).status).toBe(200);
      const metric = await t.call('GET', '/v1/audit?entityType=metric&entityId=audit-metric');
      expect(metric.status).toBe(200);
      expect(metric.body.entries[0]).toMatchObject({ action: 'metric.create', entityType: 'metric' });
      const layer = await t.call('GET', '/v1/audit?entityType=layer&entityId=audit-layer');
      expect(layer.status).toBe(200);
      expect(layer.body.entries[0]).toMatchObject({ entityType: 'layer', entityId: 'audit-layer' });
      const unknown = await t.call('GET', '/v1/audit?entityType=spaceship');
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors[0].path).toBe('query.entityType');
    });

    it('400 with paths for bad features; 404 for a missing item', async () => {
      const res = await t.call('PUT', '/v1/items/i-2', { body: { features: { price: 'cheap' }, colour: 'red' } });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['colour', 'features.price']);
      expect((await t.call('GET', '/v1/items/nope')).status).toBe(404);
    });

    it('batch upserts up to 10,000 items in one transaction', async () => {
      const items = Array.from({ length: 10_000 }, (_, i) => ({
        id: `b-${i}`,
        features: { price: i / 10_000, rank: i },
      }));
      const res = await t.call('POST', '/v1/items/batch', { body: { items } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ upserted: 10_000, created: 10_000, updated: 0 });
      expect((await t.call('GET', '/v1/items/b-9999')).body.features).toEqual({ price: 0.9999, rank: 9999 });
      const again = await t.call('POST', '/v1/items/batch', {
        body: { items: items.slice(0, 10).concat([{ id: 'b-new', features: { price: 1, rank: -1 } }]) },
      });
      expect(again.body).toEqual({ upserted: 11, created: 1, updated: 10 });
    });

    it('rejects 10,001 items and duplicate ids; a failing batch writes nothing', async () => {
      const tooMany = Array.from({ length: 10_001 }, (_, i) => ({ id: `x-${i}` }));
      const res = await t.call('POST', '/v1/items/batch', { body: { items: tooMany } });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('items');
      const dup = await t.call('POST', '/v1/items/batch', { body: { items: [{ id: 'd-1' }, { id: 'd-1' }] } });
      expect(dup.status).toBe(400);
      expect(dup.body.errors[0].path).toBe('items[1].id');
      expect((await t.call('GET', '/v1/items/d-1')).status).toBe(404);
    });
  });

  describe('HTTP surface', () => {
    it('413 as problem+json for a body over the limit', async () => {
      const limited = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
      try {
        const res = await limited.call('POST', '/v1/items/batch', {
          body: { items: Array.from({ length: 200 }, (_, i) => ({ id: `big-${i}` })) },
        });
        expect(res.status).toBe(413);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.body).toMatchObject({ status: 413, title: 'Payload Too Large' });
      } finally {
        await limited.close(true);
      }
    });

    it('404 problem+json for unknown routes', async () => {
      const res = await t.call('GET', '/v1/nothing-here');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });

    it('415 for a body that is not JSON', async () => {
      const res = await t.call('POST', '/v1/experiments', {
        rawBody: 'key=x',
        headers: { 'content-type': 'text/plain' },
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });
  });
});
