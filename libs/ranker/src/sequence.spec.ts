/** @jest-environment ./libs/ranker/testing/onnx-jest-environment.js */
import { loadSessionGru, SESSION_GRU_SIGNATURE, sessionGruExpected } from '../fixtures/session-gru';
import { RankerInputError, RankerModelError } from './errors';
import { OnnxScorer, validateModel } from './onnx-scorer';
import { parseModelSignature } from './signature';

const gru = loadSessionGru();
const expected = sessionGruExpected();

function expectClose(actual: ArrayLike<number>, wanted: number[], tol = 1e-5): void {
  expect(actual.length).toBe(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    if (!(Math.abs(actual[i] - wanted[i]) <= tol))
      throw new Error(`index ${i}: ${actual[i]} vs PyTorch ${wanted[i]} (tol ${tol})`);
  }
}

describe('sequence ranker: a history input in the split signature', () => {
  let scorer: OnnxScorer;
  beforeAll(async () => {
    scorer = await OnnxScorer.create(gru.bytes, gru.signature, { ref: 'session-gru@1' });
  });
  afterAll(() => scorer.dispose());

  it('loads the torch 1.13 opset-13 GRU export and reads K from the model', () => {
    expect(scorer.metadata).toMatchObject({
      kind: 'split',
      contextDim: 4,
      itemDim: 8,
      embeddingDim: null,
      historyLength: 5,
    });
  });

  it('matches PyTorch with a history and with none (zeros, or omitted)', async () => {
    const items = Float32Array.from(expected.items.flat());
    const withHistory = await scorer.score(expected.context, items, 5, Float32Array.from(expected.history.flat()));
    expectClose(withHistory.scores, expected.scores);
    expectClose(
      (await scorer.score(expected.context, items, 5, new Float32Array(40))).scores,
      expected.scoresEmptyHistory,
    );
    expectClose((await scorer.score(expected.context, items, 5)).scores, expected.scoresEmptyHistory);
    // The history changes the scores (the fixture's reason to exist).
    expect(Math.max(...expected.scores.map((s, i) => Math.abs(s - expected.scoresEmptyHistory[i])))).toBeGreaterThan(
      0.1,
    );
  });

  it('refuses a history of the wrong length', async () => {
    const items = Float32Array.from(expected.items.flat());
    await expect(scorer.score(expected.context, items, 5, new Float32Array(39))).rejects.toThrow(RankerInputError);
    await expect(scorer.score(expected.context, items, 5, new Float32Array(39))).rejects.toMatchObject({
      path: 'history',
    });
  });

  it('passes upload validation, which feeds the history too', async () => {
    const r = await validateModel(gru.bytes, SESSION_GRU_SIGNATURE);
    expect(r).toMatchObject({ ok: true, metadata: { historyLength: 5 } });
  });

  it('refuses a signature that leaves the history input unmapped, or misstates K', async () => {
    const errs = async (sig: unknown) => {
      try {
        await (await OnnxScorer.create(gru.bytes, sig as never)).dispose();
        return [];
      } catch (e) {
        return (e as RankerModelError).errors.map((x) => `${x.path}: ${x.message}`);
      }
    };
    expect(await errs({ kind: 'split', contextInput: 'context', itemsInput: 'items', scoreOutput: 'score' })).toEqual([
      'signature: model input "history" is not mapped by the signature (every input must be fed; mapped: context, items)',
    ]);
    expect(await errs({ ...SESSION_GRU_SIGNATURE, historyLength: 7 })).toEqual([
      'signature.historyLength: is 7 but the model\'s "history" input holds 5 items',
    ]);
  });

  it('checks the new fields structurally', () => {
    expect(parseModelSignature({ ...SESSION_GRU_SIGNATURE, historyInput: 'items' })).toEqual({
      ok: false,
      errors: [{ path: 'signature.historyInput', message: 'must differ from contextInput and itemsInput' }],
    });
    expect(parseModelSignature({ ...SESSION_GRU_SIGNATURE, historyLength: 51 })).toMatchObject({
      ok: false,
      errors: [{ path: 'signature.historyLength' }],
    });
    expect(
      parseModelSignature({ kind: 'concat', input: 'x', scoreOutput: 's', contextDim: 2, historyInput: 'h' }),
    ).toMatchObject({
      ok: false,
      errors: [{ path: 'signature.historyInput', message: 'unknown field for a "concat" signature' }],
    });
  });
});
