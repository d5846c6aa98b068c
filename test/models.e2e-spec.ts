import { FIXTURE_SPLIT_SIGNATURE, loadFixtureModel } from '@slotwise/ranker-fixtures';
import { startTestApp, TestApp } from './support/test-app';

const names = (prefix: string) => Array.from({ length: 16 }, (_, i) => `${prefix}${i}`);

describe('ONNX rankers: upload, experiments that use them, ranking with a shortlist and neural-linear', () => {
  let t: TestApp;
  const { bytes } = loadFixtureModel('split');
  const onnx = Buffer.from(bytes).toString('base64');

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close(true));

  it('uploads a model after a test inference and lists it; versions are immutable', async () => {
    const first = await t.call('POST', '/v1/models', {
      body: { name: 'news-mlp', signature: FIXTURE_SPLIT_SIGNATURE, onnx },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ ref: 'news-mlp@1', contextDim: 16, itemDim: 16, embeddingDim: 8 });
    expect(first.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    const second = await t.call('POST', '/v1/models', {
      body: { name: 'news-mlp', signature: FIXTURE_SPLIT_SIGNATURE, onnx },
    });
    expect(second.body.ref).toBe('news-mlp@2');
    const dup = await t.call('POST', '/v1/models', {
      body: { name: 'news-mlp', version: 1, signature: FIXTURE_SPLIT_SIGNATURE, onnx },
    });
    expect(dup.status).toBe(409);
    const list = await t.call('GET', '/v1/models');
    expect(list.body.models.map((m: { ref: string }) => m.ref)).toEqual(['news-mlp@1', 'news-mlp@2']);
    expect(list.text).not.toContain(onnx.slice(0, 40));
  });

  it('refuses a wrong signature and bytes that are not a model, with field paths', async () => {
    const wrong = await t.call('POST', '/v1/models', {
      body: { name: 'bad', signature: { ...FIXTURE_SPLIT_SIGNATURE, scoreOutput: 'nope' }, onnx },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].path).toBe('signature.scoreOutput');
    const garbage = await t.call('POST', '/v1/models', {
      body: {
        name: 'bad',
        signature: FIXTURE_SPLIT_SIGNATURE,
        onnx: Buffer.from('not an onnx file at all').toString('base64'),
      },
    });
    expect(garbage.status).toBe(400);
    expect(garbage.body.errors[0].path).toBe('onnx');
    const notBase64 = await t.call('POST', '/v1/models', {
      body: { name: 'bad', signature: FIXTURE_SPLIT_SIGNATURE, onnx: '!!!' },
    });
    expect(notBase64.status).toBe(400);
    expect(notBase64.body.errors[0].path).toBe('onnx');
  });

  it('checks that an experiment ranker exists and fits the feature schema', async () => {
    const base = {
      key: 'mlp-feed',
      name: 'MLP feed',
      kind: 'ranking',
      slots: 5,
      variants: [{ key: 'nl', policy: { type: 'thompson', model: 'neural-linear' } }],
      metrics: { primary: 'reward' },
    };
    const missing = await t.call('POST', '/v1/experiments', {
      body: { ...base, features: { context: names('c'), item: names('f') }, ranker: { model: 'nothing@1' } },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      { path: 'ranker.model', message: expect.stringContaining('no uploaded model nothing@1') },
      { path: 'variants[0].policy.model', message: 'neural-linear needs a ranker model with an embedding output' },
    ]);
    const dims = await t.call('POST', '/v1/experiments', {
      body: { ...base, features: { context: ['a'], item: names('f') }, ranker: { model: 'news-mlp@1' } },
    });
    expect(dims.status).toBe(400);
    expect(dims.body.errors[0].path).toBe('features.context');
    const noEmbedding = await t.call('POST', '/v1/experiments', {
      body: { ...base, features: { context: [], item: [] } },
    });
    expect(noEmbedding.status).toBe(400);
    expect(noEmbedding.body.errors[0].path).toBe('variants[0].policy.model');
  });

  it('ranks 500 candidates: the ONNX ranker scores all in one batch, the shortlist goes to neural-linear Thompson sampling', async () => {
    const created = await t.call('POST', '/v1/experiments', {
      body: {
        key: 'mlp-feed',
        name: 'MLP feed',
        kind: 'ranking',
        slots: 5,
        features: { context: names('c'), item: names('f') },
        ranker: { model: 'news-mlp@1', shortlist: 20 },
        variants: [
          { key: 'ranker', weight: 1, policy: { type: 'ranker' } },
          { key: 'nl', weight: 1, policy: { type: 'thompson', model: 'neural-linear', propensityDraws: 200 } },
        ],
        metrics: { primary: 'reward' },
      },
    });
    expect(created.status).toBe(201);
    await t.call('POST', '/v1/experiments/mlp-feed/start');
    const context = names('c').map((_, i) => ((i * 7) % 10) / 10);
    const candidates = Array.from({ length: 500 }, (_, i) => ({
      id: `n-${i}`,
      features: names('f').map((_, j) => ((i * 31 + j * 17) % 100) / 100),
    }));
    const seen = new Set<string>();
    for (let u = 0; u < 20 && seen.size < 2; u++) {
      const res = await t.call('POST', '/v1/rank', {
        body: { experiment: 'mlp-feed', unitId: `mlp-${u}`, context, candidates, explain: true },
      });
      expect(res.status).toBe(200);
      seen.add(res.body.variant);
      expect(res.body.modelVersion).toContain('news-mlp@1');
      expect(res.body.slots).toHaveLength(5);
      const scores = res.body.slots.map((s: { explanation: { rankerScore: number } }) => s.explanation.rankerScore);
      for (const s of scores) expect(typeof s).toBe('number');
      if (res.body.variant === 'ranker') {
        // Greedy by the ranker: descending ranker scores, propensity 1.
        expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores);
        expect(res.body.slots.every((s: { propensity: number }) => s.propensity === 1)).toBe(true);
      } else {
        expect(res.body.slots[0].explanation.contributions.length).toBeGreaterThan(0);
        const r = await t.call('POST', '/v1/rewards', {
          body: { rewards: [{ decisionId: res.body.decisionId, itemId: res.body.slots[0].itemId, value: 1 }] },
        });
        expect(r.body.accepted).toBe(1);
      }
    }
    expect([...seen].sort()).toEqual(['nl', 'ranker']);
  });
});
