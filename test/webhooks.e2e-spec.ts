import { AutomationScheduler } from '../apps/api/src/modules/automation';
import { AutomationRepository } from '../apps/api/src/modules/automation/automation.repository';
import { ExperimentsService } from '../apps/api/src/modules/experiments/experiments.service';
import { abExperiment, startTestApp, TestApp } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

/* eslint-disable @typescript-eslint/no-explicit-any */
jest.setTimeout(180_000);

/** The API with loopback destinations allowed (the receiver is local) and short poll / retry intervals. */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8,::1',
  WEBHOOK_POLL_MS: '100',
  WEBHOOK_RETRY_BASE_MS: '100',
  WEBHOOK_TIMEOUT_MS: '2000',
  AUTOMATION_INTERVAL_MS: '86400000',
  MODEL_FLUSH_MS: '60000',
};

/** A delivery once the worker has recorded its outcome (the receiver sees the request before the record is written). */
async function settled(t: TestApp, hookId: string, id: string): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const d = (await t.call('GET', `/v1/webhooks/${hookId}/deliveries/${id}`)).body;
    if (d.status !== 'pending' || Date.now() > deadline) return d;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const paths = (res: { body: any }) => (res.body.errors ?? []).map((e: { path: string }) => e.path).sort();

describe('webhooks (real local receiver)', () => {
  let t: TestApp;
  let rx: WebhookReceiver;
  let hook: any;

  beforeAll(async () => {
    rx = await new WebhookReceiver().start();
    t = await startTestApp({ env: ENV });
    const types = (await t.call('GET', '/v1/webhooks')).body.eventTypes;
    expect(types).toEqual(
      expect.arrayContaining([
        'experiment.started',
        'experiment.auto_stopped',
        'experiment.guardrail_breached',
        'trigger.fired',
      ]),
    );
    const res = await t.call('POST', '/v1/webhooks', {
      body: { url: rx.url, eventTypes: types, description: 'all events' },
    });
    expect(res.status).toBe(201);
    hook = res.body;
    rx.secret = hook.secret;
  });
  afterAll(async () => {
    await t.close(true);
    await rx.stop();
  });

  describe('CRUD and validation', () => {
    it('creates with a generated whsec_ secret shown once, lists, reads, patches and deletes (admin only)', async () => {
      expect(hook.secret).toMatch(/^whsec_/);
      expect(hook).toMatchObject({ url: rx.url, enabled: true, description: 'all events' });
      const got = await t.call('GET', `/v1/webhooks/${hook.id}`);
      expect(got.status).toBe(200);
      expect(got.body.secret).toBeUndefined();
      expect(got.body.secretHint).toBe(`${hook.secret.slice(0, 10)}…`);
      const other = await t.call('POST', '/v1/webhooks', {
        body: { url: `${rx.url}?second`, eventTypes: ['experiment.shipped'] },
      });
      expect(other.status).toBe(201);
      const patched = await t.call('PATCH', `/v1/webhooks/${other.body.id}`, {
        body: { enabled: false, eventTypes: ['experiment.shipped', 'experiment.stopped'] },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ enabled: false, eventTypes: ['experiment.shipped', 'experiment.stopped'] });
      expect((await t.call('GET', '/v1/webhooks')).body.webhooks.map((w: any) => w.id)).toEqual(
        expect.arrayContaining([hook.id, other.body.id]),
      );
      expect((await t.call('DELETE', `/v1/webhooks/${other.body.id}`)).status).toBe(204);
      expect((await t.call('GET', `/v1/webhooks/${other.body.id}`)).status).toBe(404);
      const viewer = (await t.call('POST', '/v1/api-keys', { body: { name: 'viewer', role: 'viewer' } })).body.key;
      expect((await t.call('GET', '/v1/webhooks', { key: viewer })).status).toBe(403);
    });

    it('answers bad input with 400 problem+json naming the fields', async () => {
      const res = await t.call('POST', '/v1/webhooks', {
        body: { url: 'ftp://x', eventTypes: ['nope'], secret: 'plain' },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(paths(res)).toEqual(['eventTypes[0]', 'secret', 'url']);
      expect(paths(await t.call('POST', '/v1/webhooks', { body: { url: rx.url, eventTypes: [] } }))).toEqual([
        'eventTypes',
      ]);
      expect((await t.call('GET', '/v1/webhooks/not-a-uuid')).status).toBe(400);
      expect((await t.call('POST', `/v1/webhooks/${hook.id}/deliveries/msg_zz/redeliver`)).status).toBe(400);
    });

    it('refuses private, link-local and metadata destinations outside WEBHOOK_ALLOW_PRIVATE (SSRF)', async () => {
      for (const url of [
        'http://10.0.0.5/hook',
        'http://169.254.169.254/latest/meta-data',
        'http://[fd00::1]/x',
        'http://192.168.1.10:8080/',
      ]) {
        const res = await t.call('POST', '/v1/webhooks', { body: { url, eventTypes: ['experiment.started'] } });
        expect(res.status).toBe(400);
        expect(res.body.errors[0]).toMatchObject({
          path: 'url',
          message: expect.stringMatching(/WEBHOOK_ALLOW_PRIVATE/),
        });
      }
      expect((await t.call('PATCH', `/v1/webhooks/${hook.id}`, { body: { url: 'http://10.0.0.5/' } })).status).toBe(
        400,
      );
    });
  });

  describe('deliveries', () => {
    const key = 'wh-lifecycle';
    beforeAll(async () => {
      expect((await t.call('POST', '/v1/experiments', { body: abExperiment(key) })).status).toBe(201);
    });

    it('delivers a lifecycle change signed (Standard Webhooks headers verify) and shows it delivered', async () => {
      expect((await t.call('POST', `/v1/experiments/${key}/start`)).status).toBe(200);
      await rx.until(() => rx.processed.some((r) => r.payload.type === 'experiment.started'));
      const r = rx.ofType('experiment.started')[0];
      expect(r.verified).toBe(true);
      expect(r.id).toMatch(/^msg_[0-9a-f]{32}$/);
      expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.payload.data).toMatchObject({
        experiment: key,
        from: 'draft',
        to: 'running',
        actor: expect.any(String),
      });
      await settled(t, hook.id, r.id);
      const list = await t.call('GET', `/v1/webhooks/${hook.id}/deliveries`);
      expect(list.status).toBe(200);
      const d = list.body.deliveries.find((x: any) => x.id === r.id);
      expect(d).toMatchObject({
        eventType: 'experiment.started',
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 204,
        lastError: null,
      });
    });

    it('a receiver that fails twice gets the delivery on the third attempt, exactly once, with the same webhook-id', async () => {
      rx.respond = (r, nth) => (r.payload.type === 'experiment.paused' && nth <= 2 ? 503 : 204);
      try {
        expect((await t.call('POST', `/v1/experiments/${key}/pause`)).status).toBe(200);
        await rx.until(() => rx.processed.some((r) => r.payload.type === 'experiment.paused'));
        await new Promise((resolve) => setTimeout(resolve, 500)); // room for a wrong extra attempt
      } finally {
        rx.respond = () => 204;
      }
      const attempts = rx.ofType('experiment.paused');
      expect(attempts.map((a) => a.answered)).toEqual([503, 503, 204]);
      expect(new Set(attempts.map((a) => a.id)).size).toBe(1);
      expect(attempts.every((a) => a.verified)).toBe(true);
      expect(rx.processed.filter((r) => r.payload.type === 'experiment.paused')).toHaveLength(1);
      expect(await settled(t, hook.id, attempts[0].id)).toMatchObject({
        status: 'delivered',
        attempts: 3,
        lastStatusCode: 204,
      });
    });

    it('writes no delivery for a change that did not happen (refused transition)', async () => {
      const before = (await t.call('GET', `/v1/webhooks/${hook.id}/deliveries?limit=500`)).body.deliveries.length;
      expect((await t.call('POST', `/v1/experiments/${key}/pause`)).status).toBe(409);
      expect((await t.call('GET', `/v1/webhooks/${hook.id}/deliveries?limit=500`)).body.deliveries).toHaveLength(
        before,
      );
    });

    it('"send test" delivers webhook.test; redelivery sends the same delivery again with the same id', async () => {
      const test = await t.call('POST', `/v1/webhooks/${hook.id}/test`);
      expect(test.status).toBe(202);
      expect(test.body).toMatchObject({ eventType: 'webhook.test', status: 'pending' });
      await rx.until(() => rx.requests.some((r) => r.id === test.body.id));
      expect(await settled(t, hook.id, test.body.id)).toMatchObject({ status: 'delivered', attempts: 1 });
      const again = await t.call('POST', `/v1/webhooks/${hook.id}/deliveries/${test.body.id}/redeliver`);
      expect(again.status).toBe(202);
      await rx.until(() => rx.requests.filter((r) => r.id === test.body.id).length === 2);
      expect(rx.processed.filter((r) => r.id === test.body.id)).toHaveLength(1);
      expect(await settled(t, hook.id, test.body.id)).toMatchObject({ status: 'delivered', attempts: 2 });
      const audit = await t.call('GET', `/v1/audit?entityType=webhook&entityId=${hook.id}`);
      expect(audit.body.entries.map((e: any) => e.action)).toEqual(
        expect.arrayContaining(['webhook.create', 'webhook.redeliver']),
      );
    });

    it('shows a failing destination with its attempts and last error, retried with backoff', async () => {
      const dead = await t.call('POST', '/v1/webhooks', {
        body: { url: 'http://127.0.0.1:9/unreachable', eventTypes: ['experiment.shipped'] },
      });
      expect(dead.status).toBe(201);
      const test = (await t.call('POST', `/v1/webhooks/${dead.body.id}/test`)).body;
      const deadline = Date.now() + 15_000;
      let d: any;
      do {
        await new Promise((resolve) => setTimeout(resolve, 150));
        d = (await t.call('GET', `/v1/webhooks/${dead.body.id}/deliveries/${test.id}`)).body;
      } while (d.attempts < 2 && Date.now() < deadline);
      expect(d).toMatchObject({
        status: 'pending',
        lastStatusCode: null,
        lastError: expect.stringMatching(/ECONNREFUSED/),
      });
      expect(d.attempts).toBeGreaterThanOrEqual(2);
      expect(Date.parse(d.nextAttemptAt)).toBeGreaterThan(Date.parse(d.lastAttemptAt));
      expect((await t.call('DELETE', `/v1/webhooks/${dead.body.id}`)).status).toBe(204);
    });
  });

  describe('automatic guardrail stop', () => {
    const key = 'wh-autostop';
    const n = 300;

    beforeAll(async () => {
      expect(
        (
          await t.call('POST', '/v1/metrics', {
            body: { key: 'wh_revenue', name: 'Revenue', type: 'sum', direction: 'increase' },
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await t.call('POST', '/v1/metrics', {
            body: { key: 'wh_errors', name: 'Errors', type: 'sum', direction: 'decrease', guardrailMargin: 0.05 },
          })
        ).status,
      ).toBe(201);
      const body = abExperiment(key, {
        assignment: 'external',
        metrics: { primary: 'wh_revenue', guardrails: ['wh_errors'] },
        autoStop: { action: 'stop', on: ['guardrail'] },
      });
      const created = await t.call('POST', '/v1/experiments', { body });
      expect(created.status).toBe(201);
      expect(created.body.autoStop).toEqual({ action: 'stop', on: ['guardrail'] });
      expect((await t.call('POST', `/v1/experiments/${key}/start`)).status).toBe(200);
      const serving = (await t.call('POST', '/v1/api-keys', { body: { name: 'backend', role: 'serving' } })).body.key;
      const exposedAt = new Date(Date.now() - 3_600_000).toISOString();
      const eventAt = new Date(Date.now() - 1_800_000).toISOString();
      const exposures: unknown[] = [];
      const events: unknown[] = [];
      for (const variant of ['control', 'treatment']) {
        for (let i = 0; i < n; i++) {
          const unitId = `${variant}-${i}`;
          exposures.push({ experiment: key, unitId, variant, timestamp: exposedAt });
          events.push({
            unitId,
            metric: 'wh_revenue',
            value: 5 + (i % 7),
            timestamp: eventAt,
            eventId: `rev-${unitId}`,
          });
          // errors: 10 % of control units, 60 % of treatment units — far beyond a 5 % non-inferiority margin
          if (i % 10 < (variant === 'control' ? 1 : 6))
            events.push({ unitId, metric: 'wh_errors', value: 1, timestamp: eventAt, eventId: `err-${unitId}` });
        }
      }
      expect((await t.call('POST', '/v1/exposures', { key: serving, body: { exposures } })).body.rejected).toEqual([]);
      expect((await t.call('POST', '/v1/events', { key: serving, body: { events } })).status).toBe(200);
    });

    it('stops a seeded guardrail-harming experiment with its audit entry and evidence, announced by webhook once', async () => {
      const scheduler = t.running.app.get(AutomationScheduler);
      const pass = await scheduler.tick();
      expect(pass.stopped).toEqual([key]);
      const e = await t.call('GET', `/v1/experiments/${key}`);
      expect(e.body.status).toBe('stopped');

      const audit = (await t.call('GET', `/v1/audit?entityType=experiment&entityId=${key}`)).body.entries;
      const entry = audit.find((a: any) => a.action === 'experiment.auto_stop');
      expect(entry).toBeDefined();
      expect(entry.actor).toEqual({ keyId: null, name: 'system' });
      expect(entry.before).toEqual({ status: 'running' });
      expect(entry.after).toMatchObject({
        status: 'stopped',
        reason: expect.stringMatching(/guardrail "wh_errors" of "treatment"/),
      });
      const breach = entry.after.evidence.guardrailBreaches[0];
      expect(breach).toMatchObject({ variant: 'treatment', metric: 'wh_errors', direction: 'lower-is-better' });
      // the always-valid interval of (treatment − control) errors per unit lies entirely above +margin·|control mean|
      expect(breach.nonInferiorityMargin).toBeCloseTo(0.05 * 0.1, 12);
      expect(breach.ci.lower).toBeGreaterThan(breach.nonInferiorityMargin);
      expect(breach.estimate).toBeCloseTo(0.5, 12);

      await rx.until(() =>
        ['experiment.auto_stopped', 'experiment.guardrail_breached'].every((type) =>
          rx.processed.some((r) => r.payload.type === type && r.payload.data.experiment === key),
        ),
      );
      await rx.until(() =>
        rx.processed.some((r) => r.payload.type === 'experiment.stopped' && r.payload.data.experiment === key),
      );
      const stopped = rx.processed.find(
        (r) => r.payload.type === 'experiment.auto_stopped' && r.payload.data.experiment === key,
      )!;
      expect(stopped.payload.data).toMatchObject({
        action: 'stop',
        evidence: { basis: 'always-valid', guardrailBreaches: [expect.objectContaining({ metric: 'wh_errors' })] },
      });

      // a second pass finds nothing to do: the experiment is stopped and the breach was announced already
      expect(await scheduler.tick()).toMatchObject({ stopped: [] });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        rx.requests.filter(
          (r) => r.payload.type === 'experiment.guardrail_breached' && r.payload.data.experiment === key,
        ),
      ).toHaveLength(1);
    });

    it('concurrent evaluations (replicas) stop an experiment once: one winner under the advisory lock', async () => {
      const race = 'wh-autostop-race';
      expect(
        (
          await t.call('POST', '/v1/experiments', {
            body: abExperiment(race, { autoStop: { action: 'pause', on: ['srm'] } }),
          })
        ).status,
      ).toBe(201);
      expect((await t.call('POST', `/v1/experiments/${race}/start`)).status).toBe(200);
      const experiments = t.running.app.get(ExperimentsService);
      const repo = t.running.app.get(AutomationRepository);
      const id = (await t.call('GET', `/v1/experiments/${race}`)).body.id;
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          experiments.autoStop(race, 'pause', `race ${i}`, { replica: i }, (m) => repo.tryLock(m, id)),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await t.call('GET', `/v1/experiments/${race}`)).body.status).toBe('paused');
      const audit = (await t.call('GET', `/v1/audit?entityType=experiment&entityId=${race}`)).body.entries;
      expect(audit.filter((a: any) => a.action === 'experiment.auto_stop')).toHaveLength(1);
      await rx.until(() =>
        rx.processed.some((r) => r.payload.type === 'experiment.auto_stopped' && r.payload.data.experiment === race),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(
        rx.requests.filter((r) => r.payload.type === 'experiment.auto_stopped' && r.payload.data.experiment === race),
      ).toHaveLength(1);
      expect(
        rx.requests.filter((r) => r.payload.type === 'experiment.paused' && r.payload.data.experiment === race),
      ).toHaveLength(1);
    });
  });
});
