import Fastify from 'fastify';
import { createRng } from '@slotwise/bandit';
import { FIXTURE_SPLIT_SIGNATURE, loadFixtureModel } from '@slotwise/ranker-fixtures';
import { createApp } from '../apps/api/src/app.factory';
import { loadConfig } from '../apps/api/src/config/app-config';
import { join } from 'node:path';
import { freshDatabase } from '../test/support/test-app';
import { runLoad, LoadResult } from './load';

/** Uniform draws in [0, 1) from the platform's seeded generator. */
const uniformStream = (seed: number): (() => number) => {
  const rng = createRng(seed);
  return () => rng.uniform();
};

const ADMIN = 'sw_bench_admin_key_0123456789abcdefghijklmnopqrstuv';
const CANDIDATES = 500;
const D = 16;

export interface RankBenchResult {
  shape: 'inline' | 'catalog';
  payloadBytes: number;
  slotwise: LoadResult;
  bare: LoadResult;
  ratio: number;
}

/** Where the catalog-shape gap goes: the same request against lighter policies, each against the same bare run. */
export interface RankBreakdownResult {
  policy: string;
  slotwise: LoadResult;
  ratio: number;
}

/** Experiments of the breakdown: the benchmark's policy with fewer re-draws, and the ranker's greedy order. */
const BREAKDOWN: Array<{ key: string; label: string; policy: Record<string, unknown> }> = [
  {
    key: 'bench-draws-100',
    label: 'thompson hybrid, 100 propensity draws',
    policy: { type: 'thompson', model: 'hybrid', propensityDraws: 100 },
  },
  {
    key: 'bench-deferred',
    label: 'thompson hybrid, 1,000 draws, propensities deferred',
    policy: { type: 'thompson', model: 'hybrid', propensityDraws: 1000, propensities: 'deferred' },
  },
  {
    key: 'bench-draws-0',
    label: 'thompson hybrid, no propensities',
    policy: { type: 'thompson', model: 'hybrid', propensityDraws: 0 },
  },
  { key: 'bench-ranker', label: 'ranker greedy (no posterior)', policy: { type: 'ranker' } },
];

/**
 * `rank` through HTTP (500 candidates × 16 item features, 16 context features, shortlist 50 by the fixture ONNX MLP,
 * 5 slots, hybrid Thompson sampling with 1,000 propensity draws) against a bare Fastify server that parses the same
 * payload and answers a slot list of the same size, in two shapes: features inline by name, and catalog ids only.
 */
export async function benchRank(options: {
  durationMs: number;
  connections: number;
}): Promise<{ shapes: RankBenchResult[]; breakdown: RankBreakdownResult[] }> {
  const { bodies, setup } = rankWorkload();
  // A fresh database (a new database on the server, or a new embedded folder), dropped afterwards.
  const db = await freshDatabase();
  const running = await createApp(
    loadConfig({
      PORT: '0',
      LOG_LEVEL: 'error',
      SLOTWISE_ADMIN_KEY: ADMIN,
      SLOTWISE_DEMO: 'off',
      DATABASE_URL: db.url,
      SLOTWISE_DATA_DIR: join(db.dataDir, 'data'),
    }),
  );
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(running.app.getHttpServer().address() as { port: number }).port}`;
  const call: Call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  await setup(call, BREAKDOWN);
  // The bare server: parse the same JSON, answer five slots of the same shape.
  const bare = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  bare.post('/v1/rank', async (req) => {
    const body = req.body as { experiment: string; candidates: Array<{ id: string }> };
    return {
      decisionId: '00000000-0000-4000-8000-000000000000',
      experiment: body.experiment,
      variant: 'ts',
      modelVersion: 'bench-mlp@1+thompson:hybrid@0',
      slots: body.candidates.slice(0, 5).map((c, i) => ({
        position: i + 1,
        itemId: c.id,
        score: 0.123456789,
        propensity: 0.5,
        explored: false,
        coldStart: true,
      })),
    };
  });
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareBase = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;

  const shapes: RankBenchResult[] = [];
  const breakdown: RankBreakdownResult[] = [];
  const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const load = (url: string, b: string[]) =>
    runLoad({
      method: 'POST',
      bodies: b,
      connections: options.connections,
      warmupMs: 2000,
      durationMs: options.durationMs,
      url,
      headers,
    });
  try {
    for (const shape of ['catalog', 'inline'] as const) {
      const b = bodies(shape);
      const slotwise = await load(`${base}/v1/rank`, b);
      const bareResult = await load(`${bareBase}/v1/rank`, b);
      shapes.push({
        shape,
        payloadBytes: Buffer.byteLength(b[0]),
        slotwise,
        bare: bareResult,
        ratio: slotwise.requestsPerSecond / bareResult.requestsPerSecond,
      });
    }
    const bareCatalog = shapes[0].bare.requestsPerSecond;
    for (const b of BREAKDOWN) {
      const slotwise = await load(`${base}/v1/rank`, bodies('catalog', b.key));
      breakdown.push({ policy: b.label, slotwise, ratio: slotwise.requestsPerSecond / bareCatalog });
    }
  } finally {
    await bare.close();
    await running.close();
    await db.drop();
  }
  return { shapes, breakdown };
}

type Call = (method: string, path: string, body: unknown) => Promise<unknown>;

/**
 * The benchmark's data: 500 catalog items × 16 features, a 16-feature context, request bodies per shape, and `setup`
 * (through the API: the fixture ONNX ranker, the catalog, the experiment `bench` — thompson hybrid, 1,000 draws —
 * and `extra` experiments with other policies, all running).
 */
export function rankWorkload(): {
  bodies: (shape: 'inline' | 'catalog', experiment?: string) => string[];
  setup: (call: Call, extra?: Array<{ key: string; policy: Record<string, unknown> }>) => Promise<void>;
} {
  const rnd = uniformStream(7);
  const ctxNames = Array.from({ length: D }, (_, i) => `c${i}`);
  const itemNames = Array.from({ length: D }, (_, i) => `f${i}`);
  const items = Array.from({ length: CANDIDATES }, (_, i) => ({
    id: `item-${i}`,
    features: Object.fromEntries(itemNames.map((n) => [n, Math.round(rnd() * 1000) / 1000])),
  }));
  const context = Object.fromEntries(ctxNames.map((n) => [n, Math.round(rnd() * 1000) / 1000]));
  const bodies = (shape: 'inline' | 'catalog', experiment = 'bench') =>
    Array.from({ length: 64 }, (_, u) =>
      JSON.stringify({
        experiment,
        unitId: `unit-${u}`,
        context,
        candidates: shape === 'inline' ? items : items.map((it) => ({ id: it.id })),
        slots: 5,
      }),
    );

  const setup = async (
    call: Call,
    extra: Array<{ key: string; policy: Record<string, unknown> }> = [],
  ): Promise<void> => {
    const { bytes } = loadFixtureModel('split');
    const model = (await call('POST', '/v1/models', {
      name: 'bench-mlp',
      signature: FIXTURE_SPLIT_SIGNATURE,
      onnx: Buffer.from(bytes).toString('base64'),
    })) as { ref: string };
    await call('POST', '/v1/items/batch', { items });
    const experiment = async (key: string, policy: Record<string, unknown>) => {
      await call('POST', '/v1/experiments', {
        key,
        name: `Rank benchmark (${key})`,
        kind: 'ranking',
        slots: 5,
        features: { context: ctxNames, item: itemNames },
        ranker: { model: model.ref, shortlist: 50 },
        variants: [{ key: 'ts', weight: 1, policy }],
        metrics: { primary: 'reward' },
      });
      await call('POST', `/v1/experiments/${key}/start`, {});
    };
    await experiment('bench', { type: 'thompson', model: 'hybrid', propensityDraws: 1000 });
    for (const b of extra) await experiment(b.key, b.policy);
  };
  return { bodies, setup };
}
