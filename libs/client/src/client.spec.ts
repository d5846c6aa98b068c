import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, SlotwiseClient } from './index';

/** A real HTTP server that answers from a script and records what it received. */
async function serve(answers: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | 'drop'>) {
  const received: Array<{ method: string; url: string; body: unknown; auth?: string }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        body: text ? JSON.parse(text) : undefined,
        auth: req.headers.authorization,
      });
      const a = answers[Math.min(received.length - 1, answers.length - 1)];
      if (a === 'drop') return void req.socket.destroy();
      res.writeHead(a.status, {
        'content-type': a.status < 300 ? 'application/json' : 'application/problem+json',
        ...a.headers,
      });
      res.end(a.body === undefined ? '' : JSON.stringify(a.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const waits: number[] = [];
const options = (extra = {}) => ({
  apiKey: 'k',
  sleep: async (ms: number) => void waits.push(ms),
  random: () => 0.5,
  ...extra,
});
const ok = { accepted: 2, duplicates: 0, rejected: [] };

beforeEach(() => (waits.length = 0));

describe('SlotwiseClient retries', () => {
  it('retries rewards after 503 and a dropped connection with the same eventIds it filled in', async () => {
    const s = await serve([
      { status: 503, body: { detail: 'restarting' }, headers: { 'retry-after': '2' } },
      'drop',
      { status: 200, body: ok },
    ]);
    try {
      const api = new SlotwiseClient(s.url, options());
      const res = await api.rewards([
        { decisionId: '00000000-0000-4000-8000-000000000001', itemId: 'a', value: 1 },
        { decisionId: '00000000-0000-4000-8000-000000000001', itemId: 'b', value: 0, eventId: 'mine' },
      ]);
      expect(res).toEqual(ok);
      expect(s.received).toHaveLength(3);
      const ids = s.received.map((r) =>
        (r.body as { rewards: Array<{ eventId: string }> }).rewards.map((x) => x.eventId),
      );
      expect(ids[0][1]).toBe('mine');
      expect(ids[0][0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(ids[1]).toEqual(ids[0]);
      expect(ids[2]).toEqual(ids[0]);
      expect(s.received[0].auth).toBe('Bearer k');
      // Retry-After 2 s beats the jittered 50 ms; then full jitter 0.5 · min(5000, 100·2¹)
      expect(waits).toEqual([2000, 100]);
    } finally {
      await s.close();
    }
  });

  it('does not repeat a rank whose answer was lost (it could log a second decision), but does on 503', async () => {
    const s = await serve(['drop', { status: 200, body: {} }]);
    try {
      const api = new SlotwiseClient(s.url, options());
      const err = await api
        .rank({ experiment: 'exp', unitId: 'u', candidates: [{ id: 'a' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(0);
      expect(s.received).toHaveLength(1);
    } finally {
      await s.close();
    }
    const t = await serve([
      { status: 503, body: { detail: 'db down' } },
      { status: 200, body: { decisionId: null, experiment: 'exp', variant: null, modelVersion: null, slots: [] } },
    ]);
    try {
      const api = new SlotwiseClient(t.url, options());
      expect((await api.rank({ experiment: 'exp', unitId: 'u', candidates: [{ id: 'a' }] })).variant).toBeNull();
      expect(t.received).toHaveLength(2);
    } finally {
      await t.close();
    }
  });

  it('gives up after the configured retries and throws the problem with its field errors', async () => {
    const s = await serve([{ status: 503, body: { detail: 'down' } }]);
    try {
      const api = new SlotwiseClient(s.url, options({ retry: { retries: 2 } }));
      const err = (await api.report('exp').catch((e: unknown) => e)) as ApiError;
      expect(err.status).toBe(503);
      expect(err.detail).toBe('down');
      expect(s.received).toHaveLength(3);
    } finally {
      await s.close();
    }
    const v = await serve([
      { status: 400, body: { detail: 'Invalid', errors: [{ path: 'unitId', message: 'required' }] } },
    ]);
    try {
      const err = (await new SlotwiseClient(v.url, options())
        .assign({ experiment: 'exp', unitId: 'u' })
        .catch((e: unknown) => e)) as ApiError;
      expect(err.errors).toEqual([{ path: 'unitId', message: 'required' }]);
      expect(v.received).toHaveLength(1); // a 400 is never retried
    } finally {
      await v.close();
    }
  });

  it('with validate, refuses an answer that does not match its response schema', async () => {
    const s = await serve([{ status: 200, body: { accepted: '2', duplicates: 0, rejected: [] } }]);
    try {
      const api = new SlotwiseClient(s.url, options({ validate: true }));
      await expect(api.events([{ unitId: 'u', metric: 'm' }])).rejects.toThrow(/does not match POST \/v1\/events/);
    } finally {
      await s.close();
    }
  });
});
