import { Client } from 'pg';
import { ADMIN_KEY, rankingExperiment, startTestApp, TestApp } from './support/test-app';

/** A tiny cookie-aware client for the console's session API. */
class Browser {
  cookie: string | null = null;
  csrf: string | null = null;
  constructor(private readonly t: TestApp) {}

  async call(method: string, path: string, body?: unknown, opts: { csrf?: boolean } = {}) {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (opts.csrf !== false && this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    const res = await this.t.call(method, path, { key: null, body, headers });
    const set = res.headers.get('set-cookie');
    if (set) {
      const value = /slotwise_session=([^;]*)/.exec(set)?.[1] ?? '';
      this.cookie = value ? `slotwise_session=${value}` : null;
    }
    if (res.body?.csrfToken !== undefined) this.csrf = res.body.csrfToken;
    return res;
  }
}

describe('console sign-in, sessions and users', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close(true);
  });

  it('first run: setup is required and needs an admin API key', async () => {
    const b = new Browser(t);
    const s = await b.call('GET', '/v1/console/session');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ user: null, setupRequired: true });
    const wrong = await b.call('POST', '/v1/console/setup', {
      email: 'ada@example.com',
      password: 'correct horse battery',
      apiKey: 'sw_not_a_key',
    });
    expect(wrong.status).toBe(403);
    const weak = await b.call('POST', '/v1/console/setup', {
      email: 'ada@example.com',
      password: 'short',
      apiKey: ADMIN_KEY,
    });
    expect(weak.status).toBe(400);
    expect(weak.body.errors[0].path).toBe('password');
  });

  it('setup creates the first admin with an argon2id hash and an HTTP-only SameSite session cookie', async () => {
    const b = new Browser(t);
    const res = await b.call('POST', '/v1/console/setup', {
      email: 'Ada@Example.com',
      name: 'Ada',
      password: 'correct horse battery',
      apiKey: ADMIN_KEY,
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/slotwise_session=[A-Za-z0-9_-]{40,}/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(res.body.user).toMatchObject({ email: 'Ada@Example.com', role: 'admin' });
    expect(res.body.csrfToken).toEqual(expect.any(String));
    const again = await new Browser(t).call('POST', '/v1/console/setup', {
      email: 'eve@example.com',
      password: 'correct horse battery',
      apiKey: ADMIN_KEY,
    });
    expect(again.status).toBe(409);

    const db = new Client({ connectionString: t.running.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT password_hash FROM console_users`);
      expect(rows).toHaveLength(1);
      expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$/);
      const sessions = await db.query(`SELECT token_hash FROM console_sessions`);
      expect(sessions.rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/); // only a hash of the token is stored
    } finally {
      await db.end();
    }
  });

  it('sign-in (e-mail case-insensitive), reads with the cookie, writes only with the CSRF token', async () => {
    const b = new Browser(t);
    expect(
      (await b.call('POST', '/v1/console/sign-in', { email: 'ada@example.com', password: 'wrong password!' })).status,
    ).toBe(401);
    const ok = await b.call('POST', '/v1/console/sign-in', {
      email: 'ada@example.com',
      password: 'correct horse battery',
    });
    expect(ok.status).toBe(200);
    expect((await b.call('GET', '/v1/experiments')).status).toBe(200);
    const noCsrf = await b.call('POST', '/v1/experiments', rankingExperiment('csrf-check'), { csrf: false });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.type).toContain('csrf');
    const created = await b.call('POST', '/v1/experiments', rankingExperiment('csrf-check'));
    expect(created.status).toBe(201);
    const audit = await t.call('GET', '/v1/audit?entityType=experiment&entityId=csrf-check');
    expect(audit.body.entries[0].actor.name).toBe('Ada@Example.com (admin)');
    // A Bearer header takes precedence and behaves exactly as before, cookie or not.
    const bearer = await t.call('GET', '/v1/experiments', { key: 'sw_wrong', headers: { cookie: b.cookie! } });
    expect(bearer.status).toBe(401);
  });

  it('admin manages users; a viewer reads but cannot write; the last admin is protected', async () => {
    const admin = new Browser(t);
    await admin.call('POST', '/v1/console/sign-in', { email: 'ada@example.com', password: 'correct horse battery' });
    const v = await admin.call('POST', '/v1/console/users', {
      email: 'vic@example.com',
      name: 'Vic',
      role: 'viewer',
      password: 'viewer password 1',
    });
    expect(v.status).toBe(201);
    expect(
      (
        await admin.call('POST', '/v1/console/users', {
          email: 'VIC@example.com',
          role: 'viewer',
          password: 'viewer password 1',
        })
      ).status,
    ).toBe(409);
    const list = await admin.call('GET', '/v1/console/users');
    expect(list.body.users.map((u: { email: string }) => u.email)).toEqual(['Ada@Example.com', 'vic@example.com']);
    const adaId = list.body.users[0].id;
    expect((await admin.call('PATCH', `/v1/console/users/${adaId}`, { role: 'viewer' })).status).toBe(409);
    expect((await admin.call('DELETE', `/v1/console/users/${adaId}`)).status).toBe(409);

    const viewer = new Browser(t);
    expect(
      (await viewer.call('POST', '/v1/console/sign-in', { email: 'vic@example.com', password: 'viewer password 1' }))
        .status,
    ).toBe(200);
    expect((await viewer.call('GET', '/v1/experiments/csrf-check')).status).toBe(200);
    const write = await viewer.call('POST', '/v1/experiments/csrf-check/start');
    expect(write.status).toBe(403);
    expect((await viewer.call('GET', '/v1/console/users')).status).toBe(403);
    expect((await viewer.call('GET', '/v1/api-keys')).status).toBe(403);

    // Disabling a user ends their sessions at once.
    expect((await admin.call('PATCH', `/v1/console/users/${v.body.id}`, { disabled: true })).status).toBe(200);
    expect((await viewer.call('GET', '/v1/experiments')).status).toBe(401);
    expect(
      (await viewer.call('POST', '/v1/console/sign-in', { email: 'vic@example.com', password: 'viewer password 1' }))
        .status,
    ).toBe(401);
    expect((await admin.call('DELETE', `/v1/console/users/${v.body.id}`)).status).toBe(204);
  });

  it('admin creates an API key through the session (shown once) and the key works', async () => {
    const admin = new Browser(t);
    await admin.call('POST', '/v1/console/sign-in', { email: 'ada@example.com', password: 'correct horse battery' });
    const key = await admin.call('POST', '/v1/api-keys', { name: 'feed service', role: 'serving' });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^sw_/);
    const listed = await admin.call('GET', '/v1/api-keys');
    expect(JSON.stringify(listed.body)).not.toContain(key.body.key);
    expect((await t.call('GET', '/v1/items/none', { key: key.body.key })).status).toBe(404);
  });

  it('sign-out ends the session; an expired session is refused', async () => {
    const b = new Browser(t);
    await b.call('POST', '/v1/console/sign-in', { email: 'ada@example.com', password: 'correct horse battery' });
    const cookie = b.cookie!;
    expect((await b.call('POST', '/v1/console/sign-out', undefined, { csrf: false })).status).toBe(403);
    const out = await b.call('POST', '/v1/console/sign-out');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await t.call('GET', '/v1/experiments', { key: null, headers: { cookie } })).status).toBe(401);

    const c = new Browser(t);
    await c.call('POST', '/v1/console/sign-in', { email: 'ada@example.com', password: 'correct horse battery' });
    expect((await c.call('GET', '/v1/console/session')).body.user.email).toBe('Ada@Example.com');
    const db = new Client({ connectionString: t.running.databaseUrl });
    await db.connect();
    await db.query(`UPDATE console_sessions SET expires_at = now() - interval '1 second'`);
    await db.end();
    expect((await c.call('GET', '/v1/experiments')).status).toBe(401);
    expect((await c.call('GET', '/v1/console/session')).body).toMatchObject({ user: null, setupRequired: false });
  });

  it('serves the console at / without taking over API 404s or leaking files', async () => {
    const home = await t.call('GET', '/', { key: null });
    expect([200, 503]).toContain(home.status);
    expect(home.headers.get('content-type')).toContain('text/html');
    if (home.status === 200) expect(home.text).toContain('<div id="root">');
    expect((await t.call('GET', '/experiments/some-key/results', { key: null })).headers.get('content-type')).toContain(
      'text/html',
    );
    const api404 = await t.call('GET', '/v1/nothing-here', { key: null });
    expect(api404.status).toBe(404);
    expect(api404.headers.get('content-type')).toContain('application/problem+json');
    expect((await t.call('GET', '/assets/..%2F..%2Fpackage.json', { key: null })).status).toBe(404);
  });
});

describe('console admin from the environment', () => {
  it('SLOTWISE_ADMIN_EMAIL / SLOTWISE_ADMIN_PASSWORD create the first admin at start', async () => {
    const t = await startTestApp({
      env: {
        SLOTWISE_ADMIN_EMAIL: 'ops@example.com',
        SLOTWISE_ADMIN_PASSWORD: 'an env password',
        SLOTWISE_SESSION_TTL_SECONDS: '120',
      },
    });
    try {
      const b = new Browser(t);
      expect((await b.call('GET', '/v1/console/session')).body.setupRequired).toBe(false);
      const res = await b.call('POST', '/v1/console/sign-in', {
        email: 'ops@example.com',
        password: 'an env password',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toContain('Max-Age=120');
      expect(res.body.user.role).toBe('admin');
    } finally {
      await t.close(true);
    }
  });
});
