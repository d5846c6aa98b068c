import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONDITION_FIELD_OPS,
  CONDITION_LOGICAL_OPS,
  conditionToRule,
  parseTargeting,
  validateTargeting,
} from './conditions';
import { compileRule, RULE_LIMITS } from './targeting';

type Case = [string, Record<string, unknown>, Record<string, unknown>, boolean];
const golden = JSON.parse(readFileSync(join(__dirname, '__golden__', 'growthbook-conditions.json'), 'utf8')) as {
  cases: Case[];
  rejected: [string, Record<string, unknown>, string][];
};

const evaluate = (condition: unknown, attributes: Record<string, unknown>) => {
  const r = parseTargeting(condition);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return compileRule(r.rule)(attributes);
};

describe('GrowthBook-style conditions (golden: GrowthBook SDK test vectors)', () => {
  it.each(golden.cases)('%s', (_name, condition, attributes, expected) => {
    expect(evaluate(condition, attributes)).toBe(expected);
  });

  it('covers every supported operator in the golden cases', () => {
    const text = JSON.stringify(golden.cases.map((c) => c[1]));
    for (const op of new Set([...CONDITION_FIELD_OPS, ...CONDITION_LOGICAL_OPS])) expect(text).toContain(`"${op}"`);
  });

  it.each(golden.rejected)('rejects %s with a path into the condition', (_name, condition, path) => {
    const errors = validateTargeting(condition);
    expect(errors.map((e) => e.path)).toContain(path);
  });
});

describe('condition translation', () => {
  it('translates to the rule tree: implicit AND of fields and of operators on a field', () => {
    const r = conditionToRule({ country: { $in: ['DE', 'FR'] }, age: { $gte: 18, $lt: 65 } });
    expect(r).toEqual({
      ok: true,
      rule: {
        op: 'and',
        rules: [
          { op: 'in', attr: 'country', value: ['DE', 'FR'] },
          {
            op: 'and',
            rules: [
              { op: 'gte', attr: 'age', value: 18 },
              { op: 'lt', attr: 'age', value: 65 },
            ],
          },
        ],
      },
    });
  });

  it('keeps GrowthBook null semantics: $eq null and a bare null match a missing attribute, $ne null needs one', () => {
    expect(evaluate({ plan: { $eq: null } }, {})).toBe(true);
    expect(evaluate({ plan: null }, { plan: null })).toBe(true);
    expect(evaluate({ plan: null }, { plan: 'pro' })).toBe(false);
    expect(evaluate({ plan: { $ne: null } }, { plan: 'pro' })).toBe(true);
    expect(evaluate({ plan: { $ne: null } }, {})).toBe(false);
    expect(evaluate({ $nor: [] }, {})).toBe(false); // GrowthBook: !evalOr([]) = !true
  });

  it('reports errors at the operand inside the condition (4xx paths)', () => {
    expect(validateTargeting({ country: { $in: ['DE', { x: 1 }] } })).toEqual([
      expect.objectContaining({ path: 'targeting.country.$in[1]', parts: ['targeting', 'country', '$in', 1] }),
    ]);
    expect(validateTargeting({ $or: [{ age: { $gt: [1] } }] })[0]).toMatchObject({ path: 'targeting.$or[0].age.$gt' });
    expect(validateTargeting({ 'father.age': { $gt: true } })[0]).toMatchObject({
      path: 'targeting.father.age.$gt',
      parts: ['targeting', 'father.age', '$gt'],
    });
    expect(validateTargeting({ $and: { a: 1 } })[0]).toMatchObject({
      path: 'targeting.$and',
      message: 'must be an array of conditions',
    });
    expect(validateTargeting({ $where: 'x' })[0]).toMatchObject({ path: 'targeting.$where' });
    expect(validateTargeting({ a: { $exists: 1 } })[0]).toMatchObject({ path: 'targeting.a.$exists' });
    expect(validateTargeting({ ['x'.repeat(RULE_LIMITS.maxAttrLength + 1)]: 1 })).toHaveLength(1);
  });

  it('keeps the ReDoS guard: $regex is RE2 (a back-reference is refused, a catastrophic pattern runs in linear time)', () => {
    expect(validateTargeting({ ua: { $regex: '(a)\\1' } })[0]).toMatchObject({
      path: 'targeting.ua.$regex',
      message: expect.stringContaining('back-references'),
    });
    expect(validateTargeting({ ua: { $regex: 'x'.repeat(RULE_LIMITS.maxPatternLength + 1) } })[0]).toMatchObject({
      path: 'targeting.ua.$regex',
    });
    const started = Date.now();
    expect(evaluate({ ua: { $regex: '^(a+)+$' } }, { ua: `${'a'.repeat(1000)}!` })).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('leaves the rule tree syntax as it was', () => {
    const rule = { op: 'in', attr: 'country', value: ['DE'] };
    expect(parseTargeting(rule)).toEqual({ ok: true, rule });
    expect(validateTargeting({ op: 'in', attr: 'country', value: 'DE' })).toEqual([
      expect.objectContaining({ path: 'targeting.value', message: 'must be an array' }),
    ]);
  });

  it('bounds nesting depth like the rule tree', () => {
    let c: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < RULE_LIMITS.maxDepth + 2; i++) c = { $not: c };
    expect(validateTargeting(c).length).toBeGreaterThan(0);
  });
});
