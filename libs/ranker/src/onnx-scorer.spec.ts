/** @jest-environment ./libs/ranker/testing/onnx-jest-environment.js */
import { readFileSync } from 'fs';
import { RankerInputError, RankerModelError } from './errors';
import {
  FIXTURE_CONCAT_SIGNATURE,
  FIXTURE_SPLIT_SIGNATURE,
  fixturePath,
  loadFixtureModel,
} from '@slotwise/ranker-fixtures';
import { mulberry32, OnnxScorer, validateModel } from './onnx-scorer';
import { ModelSignature } from './signature';
import { topN } from './topn';

interface Expected {
  contextDim: number;
  itemDim: number;
  embeddingDim: number;
  n: number;
  context: number[];
  items: number[];
  scores: number[];
  embeddings: number[];
  trueClickProbability: number[];
}

const expected: Expected = JSON.parse(readFileSync(fixturePath('news-mlp.expected.json'), 'utf8'));
const split = loadFixtureModel('split');
const concat = loadFixtureModel('concat');

function expectClose(actual: ArrayLike<number>, wanted: number[], tol = 1e-5): void {
  expect(actual.length).toBe(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    if (!(Math.abs(actual[i] - wanted[i]) <= tol))
      throw new Error(`index ${i}: ${actual[i]} vs PyTorch ${wanted[i]} (tol ${tol})`);
  }
}

async function createErrors(bytes: Uint8Array, sig: unknown): Promise<string[]> {
  try {
    const s = await OnnxScorer.create(bytes, sig as ModelSignature);
    await s.dispose();
  } catch (e) {
    if (e instanceof RankerModelError) return e.errors.map((x) => `${x.path}: ${x.message}`);
    throw e;
  }
  throw new Error('expected OnnxScorer.create to fail');
}

function randomInputs(seed: number, n: number, c = 16, d = 16) {
  const r = mulberry32(seed);
  return {
    context: Float32Array.from({ length: c }, () => r() * 4 - 2),
    items: Float32Array.from({ length: n * d }, () => r() * 4 - 2),
  };
}

describe('OnnxScorer on the PyTorch fixture (split signature)', () => {
  let scorer: OnnxScorer;
  beforeAll(async () => {
    scorer = await OnnxScorer.create(split.bytes, split.signature, { ref: 'news-mlp@1' });
  });
  afterAll(() => scorer.dispose());

  it('reports metadata from the model', () => {
    expect(scorer.metadata).toEqual({
      ref: 'news-mlp@1',
      name: 'news-mlp',
      version: 1,
      kind: 'split',
      contextDim: 16,
      itemDim: 16,
      embeddingDim: 8,
      historyLength: null,
    });
  });

  it('matches the PyTorch reference scores and embeddings to 1e-5', async () => {
    const r = await scorer.score(expected.context, Float32Array.from(expected.items), expected.n);
    expectClose(r.scores, expected.scores);
    expect(r.embeddingDim).toBe(expected.embeddingDim);
    expectClose(r.embeddings!, expected.embeddings);
  });

  it('ranks meaningfully: its top 2 of the reference items are the 2 most clickable ones', async () => {
    const r = await scorer.score(Float32Array.from(expected.context), Float32Array.from(expected.items), expected.n);
    expect(new Set(topN(r.scores, 2))).toEqual(new Set(topN(expected.trueClickProbability, 2)));
  });

  it('scores 2,000 candidates in one run, each row as if scored alone', async () => {
    const n = 2000;
    const { context, items } = randomInputs(3, n);
    const r = await scorer.score(context, items, n);
    expect(r.scores).toHaveLength(n);
    expect(r.embeddings).toHaveLength(n * 8);
    expect(r.scores.every(Number.isFinite)).toBe(true);
    for (const i of [0, 1, 977, 1999]) {
      const one = await scorer.score(context, items.slice(i * 16, (i + 1) * 16), 1);
      expect(Math.abs(one.scores[0] - r.scores[i])).toBeLessThan(1e-5);
      expectClose(one.embeddings!, Array.from(r.embeddings!.subarray(i * 8, (i + 1) * 8)));
    }
  });

  it('accepts items as a view into a larger buffer', async () => {
    const big = new Float32Array(16 + expected.items.length);
    big.set(expected.items, 16);
    const r = await scorer.score(expected.context, big.subarray(16), expected.n);
    expectClose(r.scores, expected.scores);
  });

  it('handles concurrent scorings on one session', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, () => scorer.score(expected.context, Float32Array.from(expected.items), expected.n)),
    );
    for (const r of results) expectClose(r.scores, expected.scores);
  });

  it('returns empty results for 0 candidates without running the model', async () => {
    const r = await scorer.score(expected.context, new Float32Array(0), 0);
    expect(r.scores).toHaveLength(0);
    expect(r.embeddings).toHaveLength(0);
    expect(r.embeddingDim).toBe(8);
  });

  it('rejects inputs of the wrong size with the offending field', async () => {
    await expect(scorer.score(new Float32Array(15), new Float32Array(16), 1)).rejects.toThrow(
      'context: has 15 values, model news-mlp@1 expects 16',
    );
    await expect(scorer.score(new Float32Array(16), new Float32Array(33), 2)).rejects.toThrow(
      'items: has 33 values, expected n × itemDim = 2 × 16 = 32',
    );
    await expect(scorer.score(new Float32Array(16), new Float32Array(0), -1)).rejects.toBeInstanceOf(RankerInputError);
    await expect(scorer.score(new Float32Array(16), new Float32Array(16), 1.5)).rejects.toThrow(
      'n: must be a non-negative integer',
    );
  });

  it('validate() passes on a well-formed model', async () => {
    expect(await scorer.validate()).toEqual([]);
  });
});

describe('OnnxScorer with the concat signature', () => {
  it('gives the same scores as the split model (same weights) and the PyTorch reference', async () => {
    const scorer = await OnnxScorer.create(concat.bytes, concat.signature, { ref: 'news-mlp-concat@1' });
    try {
      expect(scorer.metadata).toMatchObject({ kind: 'concat', contextDim: 16, itemDim: 16, embeddingDim: null });
      const r = await scorer.score(expected.context, Float32Array.from(expected.items), expected.n);
      expectClose(r.scores, expected.scores);
      expect(r.embeddings).toBeUndefined();
      expect(await scorer.validate()).toEqual([]);

      const n = 2000;
      const { context, items } = randomInputs(11, n);
      const s = await OnnxScorer.create(split.bytes, split.signature);
      try {
        const a = await scorer.score(context, items, n);
        const b = await s.score(context, items, n);
        expectClose(a.scores, Array.from(b.scores));
      } finally {
        await s.dispose();
      }
    } finally {
      await scorer.dispose();
    }
  });
});

describe('signature errors name the field', () => {
  it('unknown score output', async () => {
    expect(await createErrors(split.bytes, { ...FIXTURE_SPLIT_SIGNATURE, scoreOutput: 'foo' })).toEqual([
      'signature.scoreOutput: output "foo" not in model (has: score, embedding)',
    ]);
  });

  it('unknown embedding output and unknown input; the unmapped model input is reported too', async () => {
    const errors = await createErrors(split.bytes, {
      ...FIXTURE_SPLIT_SIGNATURE,
      itemsInput: 'candidates',
      embeddingOutput: 'hidden',
    });
    expect(errors).toEqual(
      expect.arrayContaining([
        'signature.itemsInput: input "candidates" not in model (has: context, items)',
        'signature.embeddingOutput: output "hidden" not in model (has: score, embedding)',
        'signature: model input "items" is not mapped by the signature (every input must be fed; mapped: context, candidates)',
      ]),
    );
    expect(errors).toHaveLength(3);
  });

  it('split signature on a concat model', async () => {
    const errors = await createErrors(concat.bytes, FIXTURE_SPLIT_SIGNATURE);
    expect(errors).toContain('signature.contextInput: input "context" not in model (has: x)');
    expect(errors).toContain('signature.embeddingOutput: output "embedding" not in model (has: score)');
  });

  it('declared dimensions that contradict the model', async () => {
    expect(await createErrors(split.bytes, { ...FIXTURE_SPLIT_SIGNATURE, contextDim: 12 })).toEqual([
      'signature.contextDim: is 12 but the model\'s "context" input has 16 features',
    ]);
    expect(await createErrors(concat.bytes, { ...FIXTURE_CONCAT_SIGNATURE, contextDim: 32 })).toEqual([
      'signature.contextDim: is 32 but input "x" has only 32 features in all; it must leave at least one for the item',
    ]);
    expect(await createErrors(concat.bytes, { ...FIXTURE_CONCAT_SIGNATURE, itemDim: 10 })).toEqual([
      'signature.itemDim: contextDim + itemDim = 26 but input "x" has 32 features',
    ]);
  });

  it('a structurally invalid signature is rejected before loading', async () => {
    expect(await createErrors(split.bytes, { kind: 'concat', input: 'x', scoreOutput: 'score' })).toEqual([
      'signature.contextDim: is required',
    ]);
    expect(await createErrors(split.bytes, { kind: 'stacked' })).toEqual([
      'signature.kind: must be "split" or "concat"',
    ]);
  });

  it('validateModel returns the same errors instead of throwing, and metadata when fine', async () => {
    expect(await validateModel(split.bytes, { ...FIXTURE_SPLIT_SIGNATURE, scoreOutput: 'foo' })).toEqual({
      ok: false,
      errors: [{ path: 'signature.scoreOutput', message: 'output "foo" not in model (has: score, embedding)' }],
    });
    const ok = await validateModel(split.bytes, FIXTURE_SPLIT_SIGNATURE, { ref: 'news-mlp@2' });
    expect(ok).toMatchObject({
      ok: true,
      metadata: { ref: 'news-mlp@2', contextDim: 16, itemDim: 16, embeddingDim: 8 },
    });
  });
});

describe('corrupt model bytes', () => {
  it('garbage bytes give a "model" error, not a crash', async () => {
    const r = mulberry32(5);
    const garbage = Uint8Array.from({ length: 4096 }, () => Math.floor(r() * 256));
    const errors = await createErrors(garbage, FIXTURE_SPLIT_SIGNATURE);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^model: not a loadable ONNX model \(4096 bytes\): /);
  });

  it('a truncated model gives a "model" error', async () => {
    const errors = await createErrors(split.bytes.subarray(0, split.bytes.length >> 1), FIXTURE_SPLIT_SIGNATURE);
    expect(errors[0]).toMatch(/^model: not a loadable ONNX model/);
  });

  it('empty bytes', async () => {
    expect(await createErrors(new Uint8Array(0), FIXTURE_SPLIT_SIGNATURE)).toEqual([
      'model: is empty: expected the bytes of an ONNX model',
    ]);
    const r = await validateModel(new Uint8Array(0), FIXTURE_SPLIT_SIGNATURE);
    expect(r.ok).toBe(false);
  });

  it('the process still scores afterwards', async () => {
    const s = await OnnxScorer.create(split.bytes, split.signature);
    const r = await s.score(expected.context, Float32Array.from(expected.items), expected.n);
    expectClose(r.scores, expected.scores);
    await s.dispose();
  });
});

describe('lifecycle and options', () => {
  it('dispose waits for in-flight scorings, then refuses new ones', async () => {
    const s = await OnnxScorer.create(split.bytes, split.signature, { ref: 'news-mlp@9' });
    const { context, items } = randomInputs(2, 2000);
    const pending = s.score(context, items, 2000);
    const disposed = s.dispose();
    await expect(pending).resolves.toMatchObject({ embeddingDim: 8 });
    await disposed;
    await s.dispose();
    await expect(s.score(context, items, 2000)).rejects.toThrow('scorer news-mlp@9 is disposed');
  });

  it('maxItems caps a scoring', async () => {
    const s = await OnnxScorer.create(split.bytes, split.signature, { maxItems: 10 });
    await expect(s.score(new Float32Array(16), new Float32Array(11 * 16), 11)).rejects.toThrow(
      'n: 11 candidates exceed the limit of 10 per scoring',
    );
    await s.dispose();
  });

  it('thread counts are configurable and validated', async () => {
    const s = await OnnxScorer.create(split.bytes, split.signature, { intraOpNumThreads: 2 });
    expectClose((await s.score(expected.context, Float32Array.from(expected.items), 5)).scores, expected.scores);
    await s.dispose();
    await expect(OnnxScorer.create(split.bytes, split.signature, { intraOpNumThreads: 0 })).rejects.toThrow(RangeError);
  });
});

describe('models that load but must be refused at upload', () => {
  const bytesOf = (file: string) => new Uint8Array(readFileSync(fixturePath(file)));

  it('a frozen batch axis', async () => {
    expect(await createErrors(bytesOf('invalid-fixed-batch.onnx'), FIXTURE_SPLIT_SIGNATURE)).toEqual([
      'signature.itemsInput: input "items" has a fixed batch axis of 3; export it with a dynamic first axis (torch.onnx.export dynamic_axes={"items": {0: "N"}})',
    ]);
  });

  it('an int64 input', async () => {
    expect(
      await createErrors(bytesOf('invalid-int64-input.onnx'), {
        kind: 'concat',
        input: 'ids',
        scoreOutput: 'score',
        contextDim: 2,
      }),
    ).toEqual(['signature.input: input "ids" is int64, expected float32']);
  });

  it('a non-finite score on the test inputs (validate, not create)', async () => {
    const bytes = bytesOf('invalid-nonfinite.onnx');
    const sig: ModelSignature = { kind: 'concat', input: 'x', scoreOutput: 'score', contextDim: 1 };
    const s = await OnnxScorer.create(bytes, sig);
    expect(s.metadata).toMatchObject({ contextDim: 1, itemDim: 3 });
    expect(await s.validate()).toEqual([
      {
        path: 'signature.scoreOutput',
        message: 'output "score" is not finite (-Infinity at candidate 0) on the all-zeros input, 1 candidate',
      },
    ]);
    await s.dispose();
    expect(await validateModel(bytes, sig)).toMatchObject({ ok: false, errors: [{ path: 'signature.scoreOutput' }] });
  });
});
