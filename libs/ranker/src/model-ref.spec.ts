import { formatModelRef, parseModelRef, parseRankerModel } from './model-ref';

describe('model references', () => {
  it.each(['news-mlp@3', 'a@1', 'x_y-z9@123456789', `${'a'.repeat(64)}@1`, '0model@10'])('accepts %s', (ref) => {
    const r = parseModelRef(ref);
    expect(r.ok).toBe(true);
  });

  it('splits name and version', () => {
    expect(parseModelRef('news-mlp@3')).toEqual({
      ok: true,
      value: { name: 'news-mlp', version: 3, ref: 'news-mlp@3' },
    });
  });

  it.each([
    'news-mlp',
    'news-mlp@',
    'news-mlp@0',
    'news-mlp@03',
    'News-mlp@3',
    '-news@3',
    '_news@3',
    'news mlp@3',
    'news@3@4',
    'news@1.5',
    'news@-1',
    `${'a'.repeat(65)}@1`,
    'news@1234567890',
    '',
    'none',
  ])('rejects %j', (ref) => {
    const r = parseModelRef(ref);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('expected name@version');
  });

  it('rejects non-strings', () => {
    expect(parseModelRef(3)).toEqual({ ok: false, message: 'must be a string "name@version"' });
  });

  it('parseRankerModel accepts "none" or a reference', () => {
    expect(parseRankerModel('none')).toEqual({ ok: true, value: { kind: 'none' } });
    expect(parseRankerModel('news-mlp@3')).toEqual({
      ok: true,
      value: { kind: 'onnx', name: 'news-mlp', version: 3, ref: 'news-mlp@3' },
    });
    const bad = parseRankerModel('auto');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/or "none"$/);
  });

  it('formatModelRef builds and checks', () => {
    expect(formatModelRef('news-mlp', 4)).toBe('news-mlp@4');
    expect(() => formatModelRef('News', 4)).toThrow(RangeError);
    expect(() => formatModelRef('news', 0)).toThrow(RangeError);
  });
});
