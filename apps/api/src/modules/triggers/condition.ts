import { Rule, validateRule } from '@slotwise/assignment';
import type { FieldError } from '../../common/http/problem';

/** What the feature store knows of a feature name (null: no such feature). */
export type FeatureLookup = (name: string) => { entity: 'unit' | 'item' } | null;

/**
 * Field-path errors of a trigger condition: the targeting rule language's own validation (operators, limits,
 * RE2-only regexes — libs/assignment `validateRule`), then each leaf's `attr` must name a defined **unit** feature
 * (a trigger watches one unit; item features are not per unit). Empty when valid. Paths start at `condition`.
 */
export function conditionErrors(condition: unknown, feature: FeatureLookup): FieldError[] {
  const errors = validateRule(condition, 'condition');
  if (errors.length) return errors;
  for (const { attr, path } of ruleAttributes(condition as Rule, 'condition')) {
    const f = feature(attr);
    if (!f)
      errors.push({ path: `${path}.attr`, message: `unknown feature "${attr}": define it under /v1/features first` });
    else if (f.entity !== 'unit')
      errors.push({
        path: `${path}.attr`,
        message: `"${attr}" is an item feature; a trigger's condition reads unit features (unit.*)`,
      });
  }
  if (!errors.length && !ruleAttributes(condition as Rule, 'condition').length)
    errors.push({ path: 'condition', message: 'must name at least one unit feature' });
  return errors;
}

/** Every leaf's attribute with the leaf's path (`condition.rules[1]`), depth first. */
export function ruleAttributes(rule: Rule, path: string): Array<{ attr: string; path: string }> {
  switch (rule.op) {
    case 'and':
    case 'or':
      return rule.rules.flatMap((r, i) => ruleAttributes(r, `${path}.rules[${i}]`));
    case 'not':
      return ruleAttributes(rule.rule, `${path}.rule`);
    default:
      return [{ attr: rule.attr, path }];
  }
}

/** The distinct feature names a (valid) condition reads, in first-use order. */
export function conditionFeatures(rule: Rule): string[] {
  return [...new Set(ruleAttributes(rule, '').map((a) => a.attr))];
}

/** Durable edge state of one (trigger, unit). */
export interface EdgeState {
  inside: boolean;
  /** ms since the epoch of the last firing, null when it never fired */
  lastFiredMs: number | null;
}

/**
 * The edge rule at one evaluation: a unit that satisfies the condition (`matches`) and was outside **enters**; an
 * entry fires unless the unit's last firing is less than `cooldownMs` before `atMs` (the entry is then suppressed:
 * the unit counts as inside and does not fire while it stays inside). A unit that no longer matches leaves, and may
 * fire again on its next entry. Staying inside never fires.
 */
export function nextEdge(
  state: EdgeState,
  matches: boolean,
  atMs: number,
  cooldownMs: number,
): { state: EdgeState; fire: boolean } {
  if (!matches) return { state: { inside: false, lastFiredMs: state.lastFiredMs }, fire: false };
  if (state.inside) return { state, fire: false };
  const cooled = state.lastFiredMs === null || atMs - state.lastFiredMs >= cooldownMs;
  return { state: { inside: true, lastFiredMs: cooled ? atMs : state.lastFiredMs }, fire: cooled };
}
