import { parseModelSignature } from './signature';

describe('parseModelSignature', () => {
  it('accepts both forms and drops absent optional fields', () => {
    expect(parseModelSignature({ kind: 'split', contextInput: 'c', itemsInput: 'i', scoreOutput: 's' })).toEqual({
      ok: true,
      value: { kind: 'split', contextInput: 'c', itemsInput: 'i', scoreOutput: 's' },
    });
    expect(
      parseModelSignature({
        kind: 'concat',
        input: 'x',
        scoreOutput: 's',
        embeddingOutput: 'e',
        contextDim: 4,
        itemDim: 2,
      }),
    ).toEqual({
      ok: true,
      value: { kind: 'concat', input: 'x', scoreOutput: 's', embeddingOutput: 'e', contextDim: 4, itemDim: 2 },
    });
  });

  it('reports every problem with its path', () => {
    const r = parseModelSignature({
      kind: 'split',
      contextInput: 'a',
      itemsInput: 'a',
      scoreOutput: '',
      contextDim: 0,
      extra: 1,
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: 'signature.extra', message: 'unknown field for a "split" signature' },
        { path: 'signature.scoreOutput', message: 'must be a non-empty string (an input or output name of the model)' },
        { path: 'signature.contextDim', message: 'must be an integer from 1 to 65536' },
        { path: 'signature.itemsInput', message: 'must differ from contextInput' },
      ],
    });
  });

  it('requires contextDim for concat, and the fields of the chosen kind', () => {
    expect(parseModelSignature({ kind: 'concat', input: 'x', scoreOutput: 's' }, 'body.signature')).toEqual({
      ok: false,
      errors: [{ path: 'body.signature.contextDim', message: 'is required' }],
    });
    expect(parseModelSignature({ kind: 'split', input: 'x', scoreOutput: 's' })).toEqual({
      ok: false,
      errors: [
        { path: 'signature.input', message: 'unknown field for a "split" signature' },
        { path: 'signature.contextInput', message: 'is required' },
        { path: 'signature.itemsInput', message: 'is required' },
      ],
    });
  });

  it('rejects a score output reused as embedding, a bad kind, and non-objects', () => {
    expect(
      parseModelSignature({ kind: 'concat', input: 'x', scoreOutput: 's', embeddingOutput: 's', contextDim: 1 }),
    ).toEqual({
      ok: false,
      errors: [{ path: 'signature.embeddingOutput', message: 'must differ from scoreOutput' }],
    });
    expect(parseModelSignature({ kind: 'tower' })).toEqual({
      ok: false,
      errors: [{ path: 'signature.kind', message: 'must be "split" or "concat"' }],
    });
    expect(parseModelSignature(null)).toEqual({
      ok: false,
      errors: [{ path: 'signature', message: 'must be an object' }],
    });
    expect(parseModelSignature([])).toEqual({
      ok: false,
      errors: [{ path: 'signature', message: 'must be an object' }],
    });
  });
});
