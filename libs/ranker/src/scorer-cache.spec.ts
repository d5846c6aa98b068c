/** @jest-environment ./libs/ranker/testing/onnx-jest-environment.js */
import { readFileSync } from 'fs';
import { RankerModelError } from './errors';
import { fixturePath, loadFixtureModel } from '@slotwise/ranker-fixtures';
import { NoneScorer } from './scorer';
import { ModelLoader, ScorerCache, StoredModel } from './scorer-cache';

const expected = JSON.parse(readFileSync(fixturePath('news-mlp.expected.json'), 'utf8')) as {
  context: number[];
  items: number[];
  scores: number[];
};

function countingLoader(models: Record<string, StoredModel>): { loader: ModelLoader; calls: string[] } {
  const calls: string[] = [];
  const loader: ModelLoader = async (name, version) => {
    calls.push(`${name}@${version}`);
    await new Promise((r) => setTimeout(r, 5));
    return models[`${name}@${version}`] ?? null;
  };
  return { loader, calls };
}

async function rejection(p: Promise<unknown>): Promise<RankerModelError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RankerModelError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('ScorerCache', () => {
  const split = loadFixtureModel('split');
  const concat = loadFixtureModel('concat');

  it('creates one session per name@version, shared by concurrent requests', async () => {
    const { loader, calls } = countingLoader({ 'news-mlp@3': split });
    const cache = new ScorerCache(loader);
    const [a, b, c] = await Promise.all([cache.get('news-mlp@3'), cache.get('news-mlp@3'), cache.get('news-mlp@3')]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await cache.get('news-mlp@3')).toBe(a);
    expect(calls).toEqual(['news-mlp@3']);
    expect(a.metadata).toMatchObject({ ref: 'news-mlp@3', name: 'news-mlp', version: 3, embeddingDim: 8 });
    const r = await a.score(expected.context, Float32Array.from(expected.items), 5);
    expect(Math.abs(r.scores[0] - expected.scores[0])).toBeLessThan(1e-5);
    await cache.clear();
    expect(cache.size).toBe(0);
  });

  it('"none" is the identity scorer and never calls the loader', async () => {
    const { loader, calls } = countingLoader({});
    const cache = new ScorerCache(loader);
    const none = await cache.get('none');
    expect(none).toBeInstanceOf(NoneScorer);
    expect((await none.score([], new Float32Array(0), 4)).scores).toEqual(Float32Array.from([4, 3, 2, 1]));
    expect(calls).toEqual([]);
  });

  it('invalid and unknown references fail with path ranker.model; failures are not cached', async () => {
    const models: Record<string, StoredModel> = {};
    const { loader, calls } = countingLoader(models);
    const cache = new ScorerCache(loader);
    expect((await rejection(cache.get('News@1'))).errors[0]).toMatchObject({ path: 'ranker.model' });
    expect((await rejection(cache.get('news-mlp@4'))).errors).toEqual([
      { path: 'ranker.model', message: 'model news-mlp@4 not found' },
    ]);
    expect(cache.has('news-mlp@4')).toBe(false);
    models['news-mlp@4'] = split; // uploaded afterwards: the next get loads it
    await expect(cache.get('news-mlp@4')).resolves.toBeDefined();
    expect(calls).toEqual(['news-mlp@4', 'news-mlp@4']);
    await cache.clear();
  });

  it('a stored model that no longer loads gives model / signature errors', async () => {
    const { loader } = countingLoader({
      'broken@1': { bytes: Uint8Array.from([1, 2, 3, 4]), signature: split.signature },
      'mismatch@1': { bytes: concat.bytes, signature: split.signature },
    });
    const cache = new ScorerCache(loader);
    expect((await rejection(cache.get('broken@1'))).errors[0].path).toBe('model');
    expect((await rejection(cache.get('mismatch@1'))).errors.map((e) => e.path)).toContain('signature.contextInput');
    expect(cache.size).toBe(0);
  });

  it('evicts the least recently used session beyond maxEntries and releases it', async () => {
    const { loader, calls } = countingLoader({ 'a@1': split, 'b@1': concat, 'c@1': split });
    const cache = new ScorerCache(loader, { maxEntries: 2 });
    const a = await cache.get('a@1');
    await cache.get('b@1');
    await cache.get('a@1'); // a is now the most recent
    await cache.get('c@1'); // evicts b
    expect(cache.has('a@1')).toBe(true);
    expect(cache.has('b@1')).toBe(false);
    expect(cache.has('c@1')).toBe(true);
    await cache.get('b@1');
    expect(calls).toEqual(['a@1', 'b@1', 'c@1', 'b@1']);
    await cache.evict('a@1');
    await expect(a.score(expected.context, Float32Array.from(expected.items), 5)).rejects.toThrow(
      'scorer a@1 is disposed',
    );
    await cache.clear();
  });
});
