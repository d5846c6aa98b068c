import { ConfigError, loadConfig } from './app-config';

describe('CORS_ORIGINS', () => {
  it('refuses * (CORS is answered with credentials: any site could read the API as the signed-in user)', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.com,*' })).toThrow(
      /^Invalid configuration: CORS_ORIGINS may not be \*/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://*.example.com' })).toThrow(
      /CORS_ORIGINS must be a comma-separated list of http\(s\) origins/,
    );
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.com/path' })).toThrow(/CORS_ORIGINS must be/);
  });

  it('accepts a list of origins, and none by default', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example.com',
      'http://localhost:5173',
    ]);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});

describe('TRUST_PROXY', () => {
  it('is off by default; takes a hop count or a list of proxy addresses, CIDRs or proxy-addr names', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback, ::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
      '::1',
    ]);
  });

  it('refuses "trust everyone" and malformed values (X-Forwarded-For would let any client pick its address)', () => {
    for (const v of ['true', '*', '0', '11', 'proxy.internal', '10.0.0.0/8,nonsense']) {
      expect(() => loadConfig({ TRUST_PROXY: v })).toThrow(/^Invalid configuration: TRUST_PROXY must be a hop count/);
    }
  });
});

describe('WEBHOOK_ALLOW_PRIVATE', () => {
  it('is off by default (SSRF defence); takes on, off or a list of addresses / CIDRs', () => {
    expect(loadConfig({}).webhookAllowPrivate).toBe('off');
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: 'on' }).webhookAllowPrivate).toBe('on');
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE: '127.0.0.0/8, ::1, 10.1.2.3' }).webhookAllowPrivate).toEqual([
      '127.0.0.0/8',
      '::1',
      '10.1.2.3',
    ]);
  });

  it('refuses malformed values', () => {
    for (const v of ['yes', '127.0.0.0/33', 'fd00::/129', 'intranet.local', '10.0.0.0/8,nonsense']) {
      expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE: v })).toThrow(
        /^Invalid configuration: WEBHOOK_ALLOW_PRIVATE must be off, on, or a comma-separated list/,
      );
    }
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '50' })).toThrow(/WEBHOOK_TIMEOUT_MS must be between 100 and 60000/);
  });
});

describe('WORKERS', () => {
  it('defaults to one process; a PostgreSQL server may run 1–64 workers', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ WORKERS: '4', DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db' }).workers).toBe(4);
    expect(loadConfig({ WORKERS: '4', DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db' }).notes).toEqual([]);
  });

  it('refuses values outside 1–64 and non-integers', () => {
    for (const v of ['0', '65', '1.5', 'two', '-1'])
      expect(() => loadConfig({ WORKERS: v })).toThrow(/^Invalid configuration: WORKERS must be/);
  });

  it('the embedded database keeps one process, with a line saying so', () => {
    const c = loadConfig({ WORKERS: '3' });
    expect(c.workers).toBe(1);
    expect(c.notes).toEqual([
      'WORKERS=3 ignored: the embedded database serves one process (set DATABASE_URL to run several); starting 1',
    ]);
  });

  it('worker i > 1 is its own replica (<id>-w<i>); worker 1 keeps the id; only worker 1 runs the demo traffic', () => {
    const server = {
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
      WORKERS: '3',
      SLOTWISE_REPLICA_ID: 'api-a',
      SLOTWISE_DEMO: 'on',
    };
    expect(loadConfig({ ...server, SLOTWISE_WORKER_INDEX: '1' })).toMatchObject({
      replicaId: 'api-a',
      workerIndex: 1,
      demo: 'on',
    });
    expect(loadConfig({ ...server, SLOTWISE_WORKER_INDEX: '3' })).toMatchObject({
      replicaId: 'api-a-w3',
      workerIndex: 3,
      demo: 'off',
    });
    expect(loadConfig(server)).toMatchObject({ replicaId: 'api-a', workerIndex: undefined });
    expect(() => loadConfig({ ...server, SLOTWISE_WORKER_INDEX: '0' })).toThrow(
      /SLOTWISE_WORKER_INDEX must be between 1 and 64/,
    );
  });
});

describe('SLOTWISE_EVENT_RETENTION_DAYS', () => {
  it('keeps events forever by default; takes a whole number of days from 1 to 36,500', () => {
    expect(loadConfig({}).eventRetentionDays).toBeUndefined();
    expect(loadConfig({ SLOTWISE_EVENT_RETENTION_DAYS: '400' }).eventRetentionDays).toBe(400);
    for (const v of ['0', '36501', '7.5', '-1', 'forever']) {
      expect(() => loadConfig({ SLOTWISE_EVENT_RETENTION_DAYS: v })).toThrow(
        /^Invalid configuration: SLOTWISE_EVENT_RETENTION_DAYS must be/,
      );
    }
  });
});
