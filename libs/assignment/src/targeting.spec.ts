import {
  compileRule,
  evaluateRule,
  parseRule,
  RULE_LIMITS,
  validateRule,
  type Attributes,
  type Rule,
} from './targeting';

const ok = (rule: Rule, attrs: Attributes) => evaluateRule(rule, attrs);

// Attribute values every operator is checked against.
const VALUES: Record<string, Attributes> = {
  missing: {},
  null: { x: null },
  str: { x: 'US' },
  strLower: { x: 'us' },
  num3: { x: 3 },
  num5: { x: 5 },
  numStr5: { x: '5' },
  true: { x: true },
  false: { x: false },
  arr: { x: ['US'] },
  obj: { x: { a: 1 } },
  nan: { x: NaN },
};

type Row = [rule: Rule, expected: Record<keyof typeof VALUES, boolean>];

const t = true;
const f = false;
//                                   missing null   str  strLower num3 num5 numStr5 true false arr  obj  nan
const row = (
  m: boolean,
  n: boolean,
  s: boolean,
  sl: boolean,
  n3: boolean,
  n5: boolean,
  ns5: boolean,
  tr: boolean,
  fa: boolean,
  ar: boolean,
  ob: boolean,
  na: boolean,
) => ({
  missing: m,
  null: n,
  str: s,
  strLower: sl,
  num3: n3,
  num5: n5,
  numStr5: ns5,
  true: tr,
  false: fa,
  arr: ar,
  obj: ob,
  nan: na,
});

const TABLE: Row[] = [
  [{ op: 'eq', attr: 'x', value: 'US' }, row(f, f, t, f, f, f, f, f, f, f, f, f)],
  [{ op: 'eq', attr: 'x', value: 5 }, row(f, f, f, f, f, t, f, f, f, f, f, f)],
  [{ op: 'eq', attr: 'x', value: true }, row(f, f, f, f, f, f, f, t, f, f, f, f)],
  [{ op: 'eq', attr: 'x', value: null }, row(f, t, f, f, f, f, f, f, f, f, f, f)],
  [{ op: 'neq', attr: 'x', value: 'US' }, row(t, t, f, t, t, t, t, t, t, t, t, t)],
  [{ op: 'neq', attr: 'x', value: 5 }, row(t, t, t, t, t, f, t, t, t, t, t, t)],
  [{ op: 'in', attr: 'x', value: ['US', 5, false] }, row(f, f, t, f, f, t, f, f, t, f, f, f)],
  [{ op: 'in', attr: 'x', value: [] }, row(f, f, f, f, f, f, f, f, f, f, f, f)],
  [{ op: 'in', attr: 'x', value: [null] }, row(f, t, f, f, f, f, f, f, f, f, f, f)],
  [{ op: 'nin', attr: 'x', value: ['US', 5, false] }, row(t, t, f, t, t, f, t, t, f, t, t, t)],
  [{ op: 'gt', attr: 'x', value: 3 }, row(f, f, f, f, f, t, f, f, f, f, f, f)],
  [{ op: 'gte', attr: 'x', value: 3 }, row(f, f, f, f, t, t, f, f, f, f, f, f)],
  [{ op: 'lt', attr: 'x', value: 5 }, row(f, f, f, f, t, f, f, f, f, f, f, f)],
  [{ op: 'lte', attr: 'x', value: 5 }, row(f, f, f, f, t, t, f, f, f, f, f, f)],
  // String order is UTF-16 code unit order: 'US' < 'V' < 'us'; '5' < 'V'.
  [{ op: 'gt', attr: 'x', value: 'V' }, row(f, f, f, t, f, f, f, f, f, f, f, f)],
  [{ op: 'lt', attr: 'x', value: 'V' }, row(f, f, t, f, f, f, t, f, f, f, f, f)],
  [{ op: 'gte', attr: 'x', value: 'US' }, row(f, f, t, t, f, f, f, f, f, f, f, f)],
  [{ op: 'lte', attr: 'x', value: 'US' }, row(f, f, t, f, f, f, t, f, f, f, f, f)],
  [{ op: 'exists', attr: 'x' }, row(f, f, t, t, t, t, t, t, t, t, t, t)],
  [{ op: 'regex', attr: 'x', pattern: '^us$' }, row(f, f, f, t, f, f, f, f, f, f, f, f)],
  [{ op: 'regex', attr: 'x', pattern: '^us$', flags: 'i' }, row(f, f, t, t, f, f, f, f, f, f, f, f)],
  [{ op: 'regex', attr: 'x', pattern: '\\d' }, row(f, f, f, f, f, f, t, f, f, f, f, f)],
];

describe('targeting truth tables, one row per operator and value', () => {
  it.each(TABLE.map(([rule, expected]) => [JSON.stringify(rule), rule, expected] as const))(
    '%s',
    (_name, rule, expected) => {
      const pred = compileRule(rule);
      const got = Object.fromEntries(Object.entries(VALUES).map(([k, attrs]) => [k, pred(attrs)]));
      expect(got).toEqual(expected);
    },
  );

  it('neq is not eq and nin is not in, for every value', () => {
    for (const value of ['US', 5, true, null] as const) {
      for (const attrs of Object.values(VALUES)) {
        expect(ok({ op: 'neq', attr: 'x', value }, attrs)).toBe(!ok({ op: 'eq', attr: 'x', value }, attrs));
        expect(ok({ op: 'nin', attr: 'x', value: [value] }, attrs)).toBe(
          !ok({ op: 'in', attr: 'x', value: [value] }, attrs),
        );
      }
    }
  });

  it('attributes are own properties only (no prototype lookups)', () => {
    expect(ok({ op: 'exists', attr: 'toString' }, {})).toBe(false);
    expect(ok({ op: 'exists', attr: '__proto__' }, {})).toBe(false);
  });

  it('regex does not test strings longer than the input cap', () => {
    const rule: Rule = { op: 'regex', attr: 'x', pattern: 'a' };
    expect(ok(rule, { x: 'a'.repeat(RULE_LIMITS.maxRegexInputLength) })).toBe(true);
    expect(ok(rule, { x: 'a'.repeat(RULE_LIMITS.maxRegexInputLength + 1) })).toBe(false);
  });
});

describe('combinators', () => {
  const A: Rule = { op: 'eq', attr: 'a', value: 1 };
  const B: Rule = { op: 'eq', attr: 'b', value: 1 };
  const cases: [number, number][] = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  it.each(cases)('a=%i b=%i: and, or, not, nested', (a, b) => {
    const attrs = { a, b };
    expect(ok({ op: 'and', rules: [A, B] }, attrs)).toBe(a === 1 && b === 1);
    expect(ok({ op: 'or', rules: [A, B] }, attrs)).toBe(a === 1 || b === 1);
    expect(ok({ op: 'not', rule: A }, attrs)).toBe(a !== 1);
    // xor = (a or b) and not (a and b)
    const xor: Rule = {
      op: 'and',
      rules: [
        { op: 'or', rules: [A, B] },
        { op: 'not', rule: { op: 'and', rules: [A, B] } },
      ],
    };
    expect(ok(xor, attrs)).toBe((a === 1) !== (b === 1));
    // De Morgan
    expect(ok({ op: 'not', rule: { op: 'or', rules: [A, B] } }, attrs)).toBe(
      ok(
        {
          op: 'and',
          rules: [
            { op: 'not', rule: A },
            { op: 'not', rule: B },
          ],
        },
        attrs,
      ),
    );
  });
  it('empty and is true, empty or is false', () => {
    expect(ok({ op: 'and', rules: [] }, {})).toBe(true);
    expect(ok({ op: 'or', rules: [] }, {})).toBe(false);
  });
});

describe('validateRule', () => {
  it('accepts a realistic rule', () => {
    const rule = {
      op: 'and',
      rules: [
        { op: 'in', attr: 'country', value: ['US', 'CA'] },
        { op: 'gte', attr: 'appVersion', value: 412 },
        { op: 'not', rule: { op: 'regex', attr: 'email', pattern: '@example\\.com$', flags: 'i' } },
        {
          op: 'or',
          rules: [
            { op: 'exists', attr: 'beta' },
            { op: 'neq', attr: 'plan', value: 'free' },
          ],
        },
      ],
    };
    expect(validateRule(rule)).toEqual([]);
    expect(parseRule(rule)).toEqual({ ok: true, rule });
  });

  it('returns field-path errors for malformed rules', () => {
    const bad = {
      op: 'and',
      rules: [
        { op: 'eq', attr: '', value: { nested: 1 } },
        { op: 'in', attr: 'c', value: 'US' },
        { op: 'in', attr: 'c', value: ['US', [1]] },
        { op: 'gt', attr: 'n', value: Infinity },
        { op: 'not' },
        { op: 'or', rules: 'x' },
        { op: 'regex', attr: 'e', pattern: '(' },
        { op: 'regex', attr: 'e', pattern: 'a', flags: 'g' },
        { op: 'like', attr: 'x' },
        { op: 'exists', attr: 'x', value: 1 },
        7,
      ],
    };
    const r = parseRule(bad, 'experiment.targeting');
    expect(r.ok).toBe(false);
    expect(validateRule(bad, 'experiment.targeting').map((e) => e.path)).toEqual([
      'experiment.targeting.rules[0].attr',
      'experiment.targeting.rules[0].value',
      'experiment.targeting.rules[1].value',
      'experiment.targeting.rules[2].value[1]',
      'experiment.targeting.rules[3].value',
      'experiment.targeting.rules[4].rule',
      'experiment.targeting.rules[5].rules',
      'experiment.targeting.rules[6].pattern',
      'experiment.targeting.rules[7].flags',
      'experiment.targeting.rules[8].op',
      'experiment.targeting.rules[9].value',
      'experiment.targeting.rules[10]',
    ]);
    expect(validateRule(null)).toEqual([{ path: 'targeting', message: 'must be a rule object, got null' }]);
  });

  it('caps pattern length, depth and size', () => {
    expect(
      validateRule({ op: 'regex', attr: 'x', pattern: 'a'.repeat(RULE_LIMITS.maxPatternLength + 1) })[0].path,
    ).toBe('targeting.pattern');
    let deep: Rule = { op: 'exists', attr: 'x' };
    for (let i = 0; i < RULE_LIMITS.maxDepth + 1; i++) deep = { op: 'not', rule: deep };
    expect(validateRule(deep)[0].message).toMatch(/nest/);
    const wide = {
      op: 'or',
      rules: Array.from({ length: RULE_LIMITS.maxNodes + 5 }, () => ({ op: 'exists', attr: 'x' })),
    };
    expect(validateRule(wide)).toHaveLength(1);
    expect(() => compileRule(deep)).toThrow(RangeError);
  });

  it('matches in linear time: nested and stacked quantifiers are accepted and answer (RE2 semantics)', () => {
    // Issue 11.6: this passed the old backtracking heuristic, and V8's backtracking engine never finished on it.
    const stacked: Rule = { op: 'regex', attr: 'x', pattern: '^a*a*a*a*a*a*a*a*a*a*$' };
    expect(validateRule(stacked)).toEqual([]);
    const f = compileRule(stacked);
    expect(f({ x: 'a'.repeat(1000) + '!' })).toBe(false);
    expect(f({ x: 'a'.repeat(1000) })).toBe(true);
    // Classic exponential cases of backtracking engines (the old heuristic refused them): valid, and they answer.
    const cases: [string, string, boolean][] = [
      ['^(a+)+$', 'a'.repeat(1000) + '!', false],
      ['^(a*)*$', 'a'.repeat(1000) + '!', false],
      ['^(a|aa)+$', 'a'.repeat(1001), true],
      ['^(?:x*y?)+z$', 'xy'.repeat(500) + '!', false],
      ['^((ab)+)+$', 'ab'.repeat(500), true],
      ['^(\\w+\\s?)*$', 'word '.repeat(200) + '!', false],
    ];
    for (const [pattern, x, expected] of cases) {
      expect([pattern, validateRule({ op: 'regex', attr: 'x', pattern })]).toEqual([pattern, []]);
      expect([pattern, evaluateRule({ op: 'regex', attr: 'x', pattern }, { x })]).toEqual([pattern, expected]);
    }
  });

  it('refuses what RE2 does not support, with a clear message', () => {
    const message = (pattern: string) =>
      validateRule({ op: 'regex', attr: 'x', pattern }).map((e) => [e.path, e.message]);
    for (const p of ['(a)\\1', '(?<n>a)\\k<n>'])
      expect(message(p)).toEqual([['targeting.pattern', expect.stringMatching(/^back-references are not supported/)]]);
    for (const p of ['(?<=a)b', '(?<!a)b', 'a(?=b)', 'a(?!b)'])
      expect(message(p)).toEqual([
        ['targeting.pattern', expect.stringMatching(/^lookahead and lookbehind are not supported/)],
      ]);
    expect(message('(')).toEqual([
      ['targeting.pattern', expect.stringMatching(/^is not a valid RE2 regular expression: .*missing closing \)/)],
    ]);
    expect(message('((a{100}){100}){100}')).toEqual([
      ['targeting.pattern', expect.stringMatching(/invalid repeat count/)],
    ]);
    // A literal backslash before a digit is not a back-reference.
    expect(message('^\\\\1$')).toEqual([]);
    expect(evaluateRule({ op: 'regex', attr: 'x', pattern: '^\\\\1$' }, { x: '\\1' })).toBe(true);
  });

  it('flags i, m, s keep their meaning; u is accepted; matching is by code point', () => {
    const t = (pattern: string, flags: string, x: string) =>
      evaluateRule({ op: 'regex', attr: 'x', pattern, flags }, { x });
    expect([t('^abc$', '', 'ABC'), t('^abc$', 'i', 'ABC')]).toEqual([false, true]);
    expect([t('^b$', '', 'a\nb'), t('^b$', 'm', 'a\nb')]).toEqual([false, true]);
    expect([t('^a.b$', '', 'a\nb'), t('^a.b$', 's', 'a\nb')]).toEqual([false, true]);
    expect(t('^.$', 'u', '😀')).toBe(true);
    expect(t('^.$', '', '😀')).toBe(true);
    expect(t('^\\x{00e9}$', '', 'é')).toBe(true);
  });
});
