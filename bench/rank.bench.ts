import Fastify from 'fastify';
import { createRng } from '@slotwise/bandit';
import { FIXTURE_SPLIT_SIGNATURE, loadFixtureModel } from '@slotwise/ranker';
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

/**
 * `rank` through HTTP (500 candidates × 16 item features, 16 context features, shortlist 50 by the fixture ONNX MLP,
 * 5 slots, hybrid Thompson sampling with 1,000 propensity draws) against a bare Fastify server that parses the same
 * payload and answers a slot list of the same size, in two shapes: features inline by name, and catalog ids only.
 */
export async function benchRank(options: { durationMs: number; connections: number }): Promise<RankBenchResult[]> {
  const rnd = uniformStream(7);
  const ctxNames = Array.from({ length: D }, (_, i) => `c${i}`);
  const itemNames = Array.from({ length: D }, (_, i) => `f${i}`);
  const items = Array.from({ length: CANDIDATES }, (_, i) => ({ id: `item-${i}`, features: Object.fromEntries(itemNames.map((n) => [n, Math.round(rnd() * 1000) / 1000])) }));
  const context = Object.fromEntries(ctxNames.map((n) => [n, Math.round(rnd() * 1000) / 1000]));
  const bodies = (shape: 'inline' | 'catalog') =>
    Array.from({ length: 64 }, (_, u) =>
      JSON.stringify({ experiment: 'bench', unitId: `unit-${u}`, context, candidates: shape === 'inline' ? items : items.map((it) => ({ id: it.id })), slots: 5 }),
    );

  // A fresh database (a new database on the server, or a new embedded folder), dropped afterwards.
  const db = await freshDatabase();
  const running = await createApp(
    loadConfig({ PORT: '0', LOG_LEVEL: 'error', SLOTWISE_ADMIN_KEY: ADMIN, SLOTWISE_DEMO: 'off', DATABASE_URL: db.url, SLOTWISE_DATA_DIR: join(db.dataDir, 'data') }),
  );
  await running.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(running.app.getHttpServer().address() as { port: number }).port}`;
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const { bytes } = loadFixtureModel('split');
  const model = (await call('POST', '/v1/models', { name: 'bench-mlp', signature: FIXTURE_SPLIT_SIGNATURE, onnx: Buffer.from(bytes).toString('base64') })) as { ref: string };
  await call('POST', '/v1/items/batch', { items });
  await call('POST', '/v1/experiments', {
    key: 'bench',
    name: 'Rank benchmark',
    kind: 'ranking',
    slots: 5,
    features: { context: ctxNames, item: itemNames },
    ranker: { model: model.ref, shortlist: 50 },
    variants: [{ key: 'ts', weight: 1, policy: { type: 'thompson', model: 'hybrid', propensityDraws: 1000 } }],
    metrics: { primary: 'reward' },
  });
  await call('POST', '/v1/experiments/bench/start', {});

  // The bare server: parse the same JSON, answer five slots of the same shape.
  const bare = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  bare.post('/v1/rank', async (req) => {
    const body = req.body as { experiment: string; candidates: Array<{ id: string }> };
    return {
      decisionId: '00000000-0000-4000-8000-000000000000',
      experiment: body.experiment,
      variant: 'ts',
      modelVersion: 'bench-mlp@1+thompson:hybrid@0',
      slots: body.candidates.slice(0, 5).map((c, i) => ({ position: i + 1, itemId: c.id, score: 0.123456789, propensity: 0.5, explored: false, coldStart: true })),
    };
  });
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareBase = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;

  const results: RankBenchResult[] = [];
  try {
    for (const shape of ['catalog', 'inline'] as const) {
      const b = bodies(shape);
      const spec = { method: 'POST' as const, bodies: b, connections: options.connections, warmupMs: 2000, durationMs: options.durationMs };
      const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
      const slotwise = await runLoad({ ...spec, url: `${base}/v1/rank`, headers });
      const bareResult = await runLoad({ ...spec, url: `${bareBase}/v1/rank`, headers });
      results.push({ shape, payloadBytes: Buffer.byteLength(b[0]), slotwise, bare: bareResult, ratio: slotwise.requestsPerSecond / bareResult.requestsPerSecond });
    }
  } finally {
    await bare.close();
    await running.close();
    await db.drop();
  }
  return results;
}
