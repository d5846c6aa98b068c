import { RankerInputError } from './errors';
import { NoneScorer } from './scorer';
import { topN } from './topn';

describe('NoneScorer', () => {
  it('scores by position, so topN keeps the input order, with no embedding', async () => {
    const s = new NoneScorer();
    const r = await s.score([0.3], new Float32Array(10), 5);
    expect(Array.from(r.scores)).toEqual([5, 4, 3, 2, 1]);
    expect(r.embeddings).toBeUndefined();
    expect(topN(r.scores, 3)).toEqual([0, 1, 2]);
    expect(s.metadata).toEqual({
      ref: 'none',
      name: 'none',
      version: null,
      kind: 'none',
      contextDim: null,
      itemDim: null,
      embeddingDim: null,
      historyLength: null,
    });
    await s.dispose();
  });

  it('rejects a bad count', async () => {
    await expect(new NoneScorer(3).score([], new Float32Array(0), 4)).rejects.toBeInstanceOf(RankerInputError);
    await expect(new NoneScorer().score([], new Float32Array(0), -1)).rejects.toThrow(
      'n: must be a non-negative integer',
    );
  });
});
