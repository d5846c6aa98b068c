import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { apiEntry } from '../apps/simulator/src/server';
import { ADMIN_KEY, freshDatabase, TestDatabase } from './support/test-app';
import { WebhookReceiver } from './support/webhook-receiver';

/* eslint-disable @typescript-eslint/no-explicit-any */
jest.setTimeout(300_000);

/** The built API (npm run build) as a child process on `db`, which survives the child. */
async function startApi(db: TestDatabase, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [apiEntry()], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SLOTWISE_DATA_DIR: join(db.dataDir, 'data'),
      SLOTWISE_ADMIN_KEY: ADMIN_KEY,
      SLOTWISE_DEMO: 'off',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url ?? '',
      WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_BASE_MS: '100',
      AUTOMATION_INTERVAL_MS: '86400000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the API exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, url };
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('webhook outbox across a killed process (built API as a child process)', () => {
  let db: TestDatabase;
  let rx: WebhookReceiver;
  let api: { child: ChildProcess; url: string } | null = null;

  beforeAll(async () => {
    db = await freshDatabase();
    rx = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    if (api && api.child.exitCode === null) await kill9(api.child);
    await rx.stop();
    await db.drop();
  });

  it('a change committed before kill -9 is delivered after restart, exactly once, with the same webhook-id', async () => {
    // 1. No attempt before the kill: the worker polls once at start, then not for a minute.
    api = await startApi(db, { WEBHOOK_POLL_MS: '60000' });
    const hook = await call(api.url, 'POST', '/v1/webhooks', {
      url: rx.url,
      eventTypes: ['experiment.started', 'experiment.paused'],
    });
    expect(hook.status).toBe(201);
    rx.secret = hook.body.secret;
    const exp = {
      key: 'restart-exp',
      name: 'Restart',
      kind: 'ab',
      variants: [
        { key: 'control', weight: 1 },
        { key: 'treatment', weight: 1 },
      ],
      metrics: { primary: 'purchase' },
    };
    expect((await call(api.url, 'POST', '/v1/experiments', exp)).status).toBe(201);
    expect((await call(api.url, 'POST', '/v1/experiments/restart-exp/start')).status).toBe(200);
    await kill9(api.child);
    expect(rx.requests).toHaveLength(0);

    api = await startApi(db, { WEBHOOK_POLL_MS: '100' });
    await rx.until(() => rx.processed.some((r) => r.payload.type === 'experiment.started'), 60_000);

    // 2. Killed mid-attempt: the receiver got the request but had not answered.
    rx.respond = (r) =>
      r.payload.type === 'experiment.paused' && api!.child.exitCode === null && !killed ? 'hang' : 204;
    let killed = false;
    expect((await call(api.url, 'POST', '/v1/experiments/restart-exp/pause')).status).toBe(200);
    await rx.until(() => rx.ofType('experiment.paused').length === 1, 60_000);
    killed = true;
    await kill9(api.child);
    expect(rx.processed.filter((r) => r.payload.type === 'experiment.paused')).toHaveLength(0);

    api = await startApi(db, { WEBHOOK_POLL_MS: '100' });
    await rx.until(() => rx.processed.some((r) => r.payload.type === 'experiment.paused'), 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // room for a wrong extra attempt

    const started = rx.ofType('experiment.started');
    expect(started).toHaveLength(1);
    expect(started[0].verified).toBe(true);
    const paused = rx.ofType('experiment.paused');
    expect(paused.length).toBe(2);
    expect(paused[1].id).toBe(paused[0].id);
    expect(paused.every((p) => p.verified)).toBe(true);
    expect(rx.processed.map((r) => r.payload.type).sort()).toEqual(['experiment.paused', 'experiment.started']);
    const deliveries = (await call(api.url, 'GET', `/v1/webhooks/${hook.body.id}/deliveries`)).body.deliveries;
    expect(deliveries.map((d: any) => [d.eventType, d.status, d.attempts]).sort()).toEqual([
      ['experiment.paused', 'delivered', 2],
      ['experiment.started', 'delivered', 1],
    ]);
  });
});
