import { createRng, Rng } from '@slotwise/bandit';
import { abExperiment, rankingExperiment, startTestApp, TestApp } from './support/test-app';

/**
 * Seeded fuzzing of every write endpoint through HTTP (issue 11): valid bodies with hostile mutations — wrong types,
 * huge and NaN-like numbers (as numbers and as strings), deep nesting, NUL bytes, lone surrogates, unicode, giant
 * arrays within the body limit, unknown and missing fields — plus raw bodies that are not JSON at all. Every answer
 * must be below 500, and every 4xx a problem+json body. Afterwards the fixtures' models and reports still answer.
 * FUZZ_SEED and FUZZ_REQUESTS change the run (the seed is printed with any failure to reproduce it).
 */
const SEED = process.env.FUZZ_SEED ?? 'slotwise-fuzz-1';
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 4;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Target {
  method: string;
  path: (r: Rng) => string;
  body: ((r: Rng) => Json) | null;
  /** relative frequency (slow endpoints, such as password hashing, are sent less often) */
  weight: number;
  key?: 'none';
}

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)];
const ISO_NOW = () => new Date().toISOString();

/** Values that have broken a server somewhere. */
function hostileValue(r: Rng, depth = 0): Json {
  switch (r.int(16)) {
    case 0:
      return pick(r, [
        1e308,
        -1e308,
        5e-324,
        1e155,
        -1e200,
        2 ** 53 + 1,
        -0,
        1e12 + 1,
        1e6 + 1,
        0.6,
        1.0000000000000002,
        123456789012345680000,
      ]);
    case 1:
      return pick(r, [
        'NaN',
        'Infinity',
        '-Infinity',
        '1e999',
        '-1e400',
        '0x10',
        '1_000',
        ' 1 ',
        '',
        '0',
        'true',
        'null',
        '[]',
        '{}',
      ]);
    case 2:
      return pick(r, ['\u0000', 'a\u0000b', 'id\u0000', '\u0000'.repeat(64)]);
    case 3:
      return pick(r, [
        '\ud800',
        'x\udfff',
        '\udc00\ud800',
        'ok\ud83d',
        '\ud83d\ude00',
        'e\u0301',
        '\u202etxt',
        '\uffff',
        '\ufeff',
        'ß',
        '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
        '中文键',
      ]);
    case 4:
      return pick(r, [null, true, false, 0, -1, 1, 2.5, [], {}]);
    case 5:
      return 'x'.repeat(pick(r, [65, 129, 257, 1025, 5000, 70_000]));
    case 6: {
      // deep nesting, sometimes past the parser's limit (5,000 deep: a raw body below; JSON.stringify would overflow here)
      const d = pick(r, [10, 63, 64, 65, 200]);
      let v: Json = pick(r, [1, 'a', null]);
      for (let i = 0; i < d; i++) v = r.uniform() < 0.5 ? [v] : { a: v };
      return v;
    }
    case 7:
      // a giant array within the body limit
      return Array.from({ length: pick(r, [2001, 10_001, 50_000]) }, (_, i) => (r.uniform() < 0.5 ? i : `v${i}`));
    case 8:
      return pick(r, [
        "' OR 1=1 --",
        '%s%n%x',
        '../../etc/passwd',
        '<script>alert(1)</script>',
        '${jndi:ldap://x}',
        '{{7*7}}',
        '\\',
        '"',
        "'",
      ]);
    case 9:
      return pick(r, [
        '9999-12-31T23:59:59Z',
        '0000-01-01T00:00:00Z',
        '2026-02-30T00:00:00Z',
        '+275760-09-13T00:00:00.000Z',
        '1970-01-01T00:00:00.000+23:59',
        ISO_NOW(),
        'yesterday',
      ]);
    case 10:
      return { __proto__: { admin: true } } as unknown as Json;
    case 11:
      return JSON.parse(
        pick(r, ['{"constructor":{"prototype":{"x":1}}}', '{"toString":1,"valueOf":2,"hasOwnProperty":3}']),
      ) as Json;
    case 12:
      return pick(r, [
        -2147483649,
        2147483648,
        Number.MAX_SAFE_INTEGER + 2,
        -Number.MAX_SAFE_INTEGER - 2,
        1e21,
        0.1 + 0.2,
      ]);
    case 13:
      return depth < 3
        ? { [pick(r, ['a', '', 'k\u0000', '\ud800', 'x'.repeat(100)])]: hostileValue(r, depth + 1) }
        : 'deep';
    case 14:
      return depth < 3 ? Array.from({ length: 1 + r.int(3) }, () => hostileValue(r, depth + 1)) : 'deep';
    default:
      return pick(r, [
        'a',
        'control',
        'ts',
        'feed',
        'fz-ab',
        'purchase',
        'item-1',
        '00000000-0000-0000-0000-000000000000',
      ]);
  }
}

/** Replace, delete or add one node somewhere in a valid body. */
function mutate(r: Rng, body: Json): Json {
  if (body === null || typeof body !== 'object' || r.uniform() < 0.15)
    return r.uniform() < 0.5 ? hostileValue(r) : body;
  const copy: Json = Array.isArray(body) ? [...body] : { ...body };
  const keys = Array.isArray(copy) ? copy.map((_, i) => i) : Object.keys(copy);
  const action = r.int(10);
  if (keys.length === 0 || action === 0) {
    if (Array.isArray(copy)) copy.push(hostileValue(r));
    else copy[pick(r, ['extra', 'unknownField', '__proto__', 'constructor', 'id', ''])] = hostileValue(r);
    return copy;
  }
  const k = pick<number | string>(r, keys) as never;
  if (action === 1) {
    if (Array.isArray(copy)) copy.splice(k, 1);
    else delete (copy as Record<string, Json>)[k];
  } else if (action <= 4) {
    (copy as Record<string, Json>)[k] = mutate(r, (copy as Record<string, Json>)[k]); // descend
  } else {
    (copy as Record<string, Json>)[k] = hostileValue(r);
  }
  return copy;
}

/** Raw bodies that are not (valid) JSON, or JSON that fights the parser. */
function rawBody(r: Rng, valid: Json): string {
  const text = JSON.stringify(valid) ?? 'null';
  switch (r.int(10)) {
    case 0:
      return text.slice(0, r.int(text.length + 1)); // truncated
    case 1:
      return '\ufeff' + text; // BOM
    case 2:
      return text.replace(/"([^"]*)"/, '"$1\\u0000"'); // an escaped NUL in the first string
    case 3:
      return text.replace(/"([^"]*)"/, '"$1\\ud800"'); // a lone surrogate in the first string
    case 4:
      return text.replace(/:(\s*)(-?\d+(\.\d+)?)/, ':1e400'); // JSON's Infinity
    case 5:
      return text.replace('{', '{"a":1,"a":2,'); // duplicate keys
    case 6:
      return '{"__proto__":{"polluted":1},' + text.slice(1);
    case 7:
      return text.replace(/:(\s*)(-?\d+(\.\d+)?)/, ':' + '9'.repeat(400));
    case 8:
      return text.replace(/:/, ':' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + ',"z":'); // 5,000-deep nesting
    default:
      return '[' + '['.repeat(100_000) + ']'.repeat(100_000) + ']';
  }
}

describe('fuzz: hostile bodies on every write endpoint (seeded)', () => {
  let t: TestApp;
  let decision: { decisionId: string; itemIds: string[] };

  beforeAll(async () => {
    t = await startTestApp({ env: { MODEL_FLUSH_MS: '500' } });
    const ok = (res: { status: number; text: string }) => expect(res.status < 300 ? 'ok' : res.text).toBe('ok');
    ok(
      await t.call('POST', '/v1/experiments', {
        body: rankingExperiment('fz-rank', {
          rewardWindowSeconds: 3600,
          variants: [
            { key: 'hyb', weight: 1, policy: { type: 'thompson', model: 'hybrid', propensityDraws: 50 } },
            { key: 'beta', weight: 1, policy: { type: 'thompson', model: 'beta', propensityDraws: 50 } },
            { key: 'lin', weight: 1, policy: { type: 'thompson', model: 'linear', propensityDraws: 50 } },
          ],
        }),
      }),
    );
    ok(await t.call('POST', '/v1/experiments/fz-rank/start'));
    ok(await t.call('POST', '/v1/experiments', { body: abExperiment('fz-ab') }));
    ok(await t.call('POST', '/v1/experiments/fz-ab/start'));
    ok(await t.call('POST', '/v1/experiments', { body: abExperiment('fz-ext', { assignment: 'external' }) }));
    ok(await t.call('POST', '/v1/experiments/fz-ext/start'));
    ok(await t.call('PUT', '/v1/items/item-1', { body: { features: { price: 0.5 }, attributes: { brand: 'x' } } }));
    const rank = await t.call('POST', '/v1/rank', {
      body: {
        experiment: 'fz-rank',
        unitId: 'fz-u',
        context: { age: 0.3 },
        candidates: [{ id: 'item-1' }, { id: 'item-2', features: { price: 0.1 } }, { id: 'item-3', features: [0.2] }],
      },
    });
    ok(rank);
    decision = { decisionId: rank.body.decisionId, itemIds: rank.body.slots.map((s: { itemId: string }) => s.itemId) };
  }, 180_000);
  afterAll(() => t?.close(true), 120_000);

  function targets(): Target[] {
    const reward = (r: Rng): Json => ({
      decisionId: decision.decisionId,
      itemId: pick(r, decision.itemIds),
      value: pick(r, [0, 0.5, 1, 2.5]),
      eventId: `fz-${r.int(50)}`,
    });
    const candidate = (r: Rng, i: number): Json =>
      r.uniform() < 0.5
        ? { id: `item-${i}`, features: { price: r.uniform() } }
        : { id: `item-${i}`, features: [r.uniform()] };
    return [
      {
        method: 'POST',
        path: () => '/v1/rank',
        weight: 8,
        body: (r) => ({
          experiment: 'fz-rank',
          unitId: `fz-${r.int(100)}`,
          attributes: { country: 'de' },
          context: { age: r.uniform() },
          candidates: Array.from({ length: 1 + r.int(6) }, (_, i) => candidate(r, i)),
          slots: 2,
          explain: r.uniform() < 0.3,
        }),
      },
      {
        method: 'POST',
        path: () => '/v1/rewards',
        weight: 8,
        body: (r) => ({ rewards: Array.from({ length: 1 + r.int(4) }, () => reward(r)) }),
      },
      {
        method: 'POST',
        path: () => '/v1/events',
        weight: 6,
        body: (r) => ({
          events: [
            {
              unitId: `fz-${r.int(100)}`,
              metric: 'purchase',
              value: r.uniform() * 10,
              eventId: `fze-${r.int(1000)}`,
              timestamp: ISO_NOW(),
            },
          ],
        }),
      },
      {
        method: 'POST',
        path: () => '/v1/exposures',
        weight: 4,
        body: (r) => ({
          exposures: [
            {
              experiment: 'fz-ext',
              unitId: `fz-${r.int(100)}`,
              variant: pick(r, ['control', 'treatment']),
              attributes: { country: 'de' },
            },
          ],
        }),
      },
      {
        method: 'POST',
        path: () => '/v1/assign',
        weight: 5,
        body: (r) => ({ experiment: 'fz-ab', unitId: `fz-${r.int(100)}`, attributes: { country: 'de', age: 30 } }),
      },
      {
        method: 'PUT',
        path: (r) => `/v1/items/${pick(r, ['item-1', 'item-9', '%00', '%F0%9F%98%80', 'a%2Fb', 'x'.repeat(300)])}`,
        weight: 4,
        body: (r) => ({ features: { price: r.uniform() }, attributes: { brand: 'x', tags: ['a'] } }),
      },
      {
        method: 'POST',
        path: () => '/v1/items/batch',
        weight: 3,
        body: (r) => ({ items: [{ id: `item-${r.int(20)}`, features: { price: r.uniform() } }] }),
      },
      {
        method: 'POST',
        path: () => '/v1/experiments',
        weight: 4,
        body: (r) =>
          (r.uniform() < 0.5
            ? rankingExperiment(`fz-new-${r.int(1e6)}`)
            : abExperiment(`fz-new-${r.int(1e6)}`, {
                targeting: { attribute: 'country', op: 'eq', value: 'de' },
              })) as Json,
      },
      {
        method: 'PATCH',
        path: () => '/v1/experiments/fz-ab',
        weight: 3,
        body: (r) => ({
          name: `renamed ${r.int(10)}`,
          variants: [
            { key: 'control', weight: 1 + r.int(3), config: { color: 'blue' } },
            { key: 'treatment', weight: 1, config: { color: 'green' } },
          ],
        }),
      },
      {
        method: 'POST',
        path: (r) =>
          `/v1/experiments/${pick(r, ['fz-new-1', 'nope', 'fz-ext', '%00'])}/${pick(r, ['start', 'pause', 'stop'])}`,
        weight: 1,
        body: () => ({}),
      },
      { method: 'POST', path: () => '/v1/experiments/fz-new-2/ship', weight: 1, body: () => ({ variant: 'control' }) },
      {
        method: 'POST',
        path: (r) => `/v1/experiments/${pick(r, ['fz-ab', 'fz-rank'])}/report/refresh`,
        weight: 2,
        body: () => ({ alpha: 0.05, cuped: 'true' }),
      },
      {
        method: 'POST',
        path: () => '/v1/stats/power',
        weight: 3,
        body: (r): Json =>
          r.uniform() < 0.5
            ? { baseline: { mean: 10, stdDev: 2 }, mde: 0.05 }
            : { baseline: { proportion: 0.1 }, nControl: 1000 },
      },
      {
        method: 'POST',
        path: () => '/v1/metrics',
        weight: 3,
        body: (r) => ({
          key: `fzm-${r.int(1e6)}`,
          name: 'Fuzz metric',
          type: pick(r, ['sum', 'mean', 'binary', 'ratio']),
          capping: { type: 'fixed', value: 10 },
        }),
      },
      {
        method: 'PATCH',
        path: () => '/v1/metrics/purchase',
        weight: 2,
        body: () => ({ name: 'Purchase', conversionWindowSeconds: 3600 }),
      },
      {
        method: 'PUT',
        path: (r) => `/v1/layers/${pick(r, ['fz-layer', 'L', '%00'])}`,
        weight: 2,
        body: (r) => ({ holdoutPercent: r.uniform() * 10, salt: 'fz' }),
      },
      {
        method: 'DELETE',
        path: (r) => `/v1/units/${pick(r, ['fz-1', 'fz-2', '%00', '%ED%A0%80', 'x'.repeat(300)])}`,
        weight: 1,
        body: null,
      },
      {
        method: 'POST',
        path: () => '/v1/api-keys',
        weight: 2,
        body: (r) => ({ name: `fz ${r.int(100)}`, role: pick(r, ['viewer', 'serving', 'root']) }),
      },
      {
        method: 'DELETE',
        path: (r) => `/v1/api-keys/${pick(r, ['00000000-0000-0000-0000-000000000000', 'nope', '%00'])}`,
        weight: 1,
        body: null,
      },
      {
        method: 'POST',
        path: () => '/v1/models',
        weight: 1,
        body: () => ({
          name: 'fz-model',
          signature: { inputs: {}, output: 'score' },
          onnx: Buffer.from('not onnx at all').toString('base64'),
        }),
      },
      {
        method: 'POST',
        path: () => '/v1/console/sign-in',
        weight: 1,
        key: 'none',
        body: () => ({ email: 'nobody@example.com', password: 'wrong password' }),
      },
      {
        method: 'POST',
        path: () => '/v1/console/setup',
        weight: 1,
        key: 'none',
        body: () => ({ email: 'fz@example.com', name: 'F', password: 'short', apiKey: 'wrong' }),
      },
      {
        method: 'POST',
        path: () => '/v1/console/users',
        weight: 1,
        body: (r) => ({ email: `fz${r.int(1e6)}@example.com`, name: 'F', role: 'viewer', password: 'x' }),
      },
      {
        method: 'PATCH',
        path: () => '/v1/console/users/00000000-0000-0000-0000-000000000000',
        weight: 1,
        body: () => ({ name: 'x' }),
      },
      {
        method: 'DELETE',
        path: (r) => `/v1/console/users/${pick(r, ['00000000-0000-0000-0000-000000000000', 'nope', '%00'])}`,
        weight: 1,
        body: null,
      },
      { method: 'POST', path: () => '/v1/console/sign-out', weight: 1, key: 'none', body: () => ({}) },
    ];
  }

  it(`${REQUESTS} hostile requests answer < 500, 4xx as problem+json (seed ${SEED})`, async () => {
    const rng = createRng(SEED);
    const list = targets();
    const totalWeight = list.reduce((a, x) => a + x.weight, 0);
    const chooseTarget = (): Target => {
      let u = rng.uniform() * totalWeight;
      for (const x of list) if ((u -= x.weight) < 0) return x;
      return list[list.length - 1];
    };
    // The requests are generated up front from the one seeded sequence, so a run is reproducible whatever the timing.
    const requests = Array.from({ length: REQUESTS }, (_, n) => {
      const target = chooseTarget();
      const path = target.path(rng);
      const valid = target.body ? target.body(rng) : null;
      let body: Json | undefined = valid ?? undefined;
      let raw: string | undefined;
      const mode = rng.uniform();
      if (valid !== null && mode < 0.12) raw = rawBody(rng, valid);
      else if (valid !== null && mode < 0.9) for (let m = 1 + rng.int(3); m > 0; m--) body = mutate(rng, body as Json);
      const contentType =
        rng.uniform() < 0.03
          ? pick(rng, [
              'text/plain',
              'application/json; charset=latin1',
              'application/x-www-form-urlencoded',
              'application/json-patch+json',
            ])
          : undefined;
      return { n, target, path, body, raw, contentType };
    });

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const q = requests[next++];
        const res = await t.call(q.target.method, q.path, {
          key: q.target.key === 'none' ? null : undefined,
          ...(q.raw !== undefined ? { rawBody: q.raw } : q.body !== undefined ? { body: q.body } : {}),
          ...(q.contentType ? { headers: { 'content-type': q.contentType } } : {}),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const shown = `#${q.n} ${q.target.method} ${q.path.slice(0, 80)} ${(q.raw ?? JSON.stringify(q.body) ?? '').slice(0, 200)} → ${res.status} ${res.text.slice(0, 300)}`;
        if (res.status >= 500) failures.push(shown);
        else if (res.status >= 400) {
          const b = res.body;
          const shapeOk =
            (res.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
            b &&
            typeof b.type === 'string' &&
            typeof b.title === 'string' &&
            b.status === res.status &&
            typeof b.detail === 'string' &&
            (b.errors === undefined ||
              (Array.isArray(b.errors) &&
                b.errors.every(
                  (e: { path: unknown; message: unknown }) =>
                    typeof e.path === 'string' && typeof e.message === 'string',
                )));
          if (!shapeOk) failures.push(`not problem+json: ${shown}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    console.log(
      `fuzz seed ${SEED}: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    expect(failures.slice(0, 15)).toEqual([]);

    // Nothing the fuzz wrote broke a model or a report: rank answers finite scores in every variant, reports answer.
    const variants = new Set<string>();
    for (let i = 0; i < 60 && variants.size < 3; i++) {
      const res = await t.call('POST', '/v1/rank', {
        body: {
          experiment: 'fz-rank',
          unitId: `after-${i}`,
          context: { age: 0.5 },
          candidates: [{ id: 'item-1' }, { id: 'item-2', features: { price: 0.3 } }],
        },
      });
      if (res.body.variant === null) break; // the fuzz may have stopped or shipped it: still a 200
      expect(res.status).toBe(200);
      variants.add(res.body.variant);
      for (const s of res.body.slots) expect(Number.isFinite(s.score)).toBe(true);
    }
    for (const key of ['fz-ab', 'fz-rank']) {
      expect((await t.call('GET', `/v1/experiments/${key}/report`)).status).toBe(200);
      expect((await t.call('GET', `/v1/experiments/${key}/report/timeseries`)).status).toBe(200);
    }
  }, 480_000);
});
