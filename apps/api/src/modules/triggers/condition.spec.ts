import { compileRule, Rule } from '@slotwise/assignment';
import { conditionErrors, conditionFeatures, EdgeState, nextEdge } from './condition';

const features: Record<string, 'unit' | 'item'> = {
  'unit.views_1h': 'unit',
  'unit.compares_1h': 'unit',
  'item.clicks_1h': 'item',
};
const lookup = (name: string) => (features[name] ? { entity: features[name] } : null);

describe('trigger conditions (the targeting rule language over unit features)', () => {
  it('accepts a rule over unit features and lists the features it reads', () => {
    const rule: Rule = {
      op: 'and',
      rules: [
        { op: 'gte', attr: 'unit.views_1h', value: 5 },
        { op: 'not', rule: { op: 'lt', attr: 'unit.compares_1h', value: 2 } },
        { op: 'gt', attr: 'unit.views_1h', value: 0 },
      ],
    };
    expect(conditionErrors(rule, lookup)).toEqual([]);
    expect(conditionFeatures(rule)).toEqual(['unit.views_1h', 'unit.compares_1h']);
    expect(compileRule(rule)({ 'unit.views_1h': 5, 'unit.compares_1h': 2 })).toBe(true);
    expect(compileRule(rule)({ 'unit.views_1h': 5, 'unit.compares_1h': 1 })).toBe(false);
  });

  it('names the path of an unknown feature, an item feature, a bad rule and a refused regex', () => {
    expect(
      conditionErrors(
        {
          op: 'or',
          rules: [
            { op: 'gt', attr: 'unit.nope', value: 1 },
            { op: 'gt', attr: 'item.clicks_1h', value: 1 },
          ],
        },
        lookup,
      ),
    ).toEqual([
      { path: 'condition.rules[0].attr', message: expect.stringContaining('unknown feature "unit.nope"') },
      { path: 'condition.rules[1].attr', message: expect.stringContaining('item feature') },
    ]);
    expect(conditionErrors({ op: 'between', attr: 'unit.views_1h' }, lookup)).toEqual([
      { path: 'condition.op', message: expect.stringContaining('must be one of') },
    ]);
    expect(conditionErrors({ op: 'gt', attr: 'unit.views_1h', value: [1] }, lookup)[0].path).toBe('condition.value');
    // the ReDoS guard of the rule language: back-references are refused (RE2 semantics)
    expect(conditionErrors({ op: 'regex', attr: 'unit.views_1h', pattern: '(a)\\1' }, lookup)).toEqual([
      { path: 'condition.pattern', message: expect.stringContaining('back-references') },
    ]);
    expect(conditionErrors({ op: 'and', rules: [] }, lookup)).toEqual([
      { path: 'condition', message: 'must name at least one unit feature' },
    ]);
  });
});

describe('nextEdge (edge-triggered with a per-unit cooldown)', () => {
  const outside: EdgeState = { inside: false, lastFiredMs: null };
  const run = (matches: boolean[], times: number[], cooldownMs: number) => {
    let s = outside;
    return matches.map((m, i) => {
      const r = nextEdge(s, m, times[i], cooldownMs);
      s = r.state;
      return r.fire;
    });
  };

  it('fires on entry only, not while inside; leaving and re-entering fires again', () => {
    expect(run([false, true, true, true, false, true, true], [0, 1, 2, 3, 4, 5, 6], 0)).toEqual([
      false,
      true,
      false,
      false,
      false,
      true,
      false,
    ]);
  });

  it('suppresses an entry within the cooldown (and the stay that follows), fires on an entry after it', () => {
    // cooldown 10: fire at 1; leave at 2; re-enter at 5 (suppressed, inside); still inside at 12 (no fire);
    // leave at 13; enter at 14 (14 − 1 ≥ 10): fires
    expect(run([true, false, true, true, false, true], [1, 2, 5, 12, 13, 14], 10)).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect(nextEdge({ inside: false, lastFiredMs: 0 }, true, 10, 10)).toEqual({
      state: { inside: true, lastFiredMs: 10 },
      fire: true,
    });
    expect(nextEdge({ inside: false, lastFiredMs: 0 }, true, 9, 10)).toEqual({
      state: { inside: true, lastFiredMs: 0 },
      fire: false,
    });
  });
});
