/**
 * GrowthBook-style (MongoDB-like) targeting conditions, translated into the rule tree of targeting.ts, so they are
 * validated (RE2 patterns, size limits) and evaluated by the same code as rules written as `{op, …}`.
 *
 *   {"country": {"$in": ["DE", "FR"]}, "age": {"$gte": 18}}
 *     → {op: "and", rules: [{op: "in", attr: "country", value: ["DE", "FR"]}, {op: "gte", attr: "age", value: 18}]}
 *
 * Accepted: field operators `$eq $ne $gt $gte $lt $lte $in $nin $exists $regex $not`, a bare value for equality,
 * several fields (implicit AND) and several operators on one field (AND), and the logical keys `$and $or $nor $not`.
 * A field name is the attribute's name as sent in the unit's attributes (they are flat: `"father.age"` names the
 * attribute "father.age", which is what GrowthBook's dotted path reads from nested attributes).
 *
 * Semantics follow GrowthBook's evaluator (packages/sdk-js/src/mongrule.ts) where the rule tree can express them:
 * an empty `$or` is true; `$eq: null` / a bare `null` and `$exists: false` match a missing or null attribute;
 * `$ne`/`$nin` match a missing attribute. Differences, from the rule tree's stricter typing: values are compared
 * without coercion (GrowthBook's bare `"1"` matches the number 1, here it does not), `$gt`… are false for a
 * missing attribute or one of another type (GrowthBook compares `null < 5` as true), `$regex` uses RE2 syntax and
 * tests strings only, and an invalid pattern or operand is a 4xx here where GrowthBook evaluates it as false.
 * Array operators (`$elemMatch $size $all`), `$type`, version and case-insensitive operators and saved groups are
 * not supported (4xx): unit attributes are scalars.
 */
import { isPlainObject, ValidationError } from './errors';
import { Rule, RULE_LIMITS, validateRule } from './targeting';

export const CONDITION_FIELD_OPS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$exists',
  '$regex',
  '$not',
] as const;
export const CONDITION_LOGICAL_OPS = ['$and', '$or', '$nor', '$not'] as const;

type Path = readonly (string | number)[];

/** `['targeting', 'country', '$in', 1]` → `targeting.country.$in[1]` (the API's error path style). */
export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A translation error: `parts` is the path as keys (a dotted attribute name stays one key). */
export interface ConditionError extends ValidationError {
  parts: (string | number)[];
}

/** True when `input` is written in the condition syntax (an object without the rule tree's `op`). */
export function isCondition(input: unknown): input is Record<string, unknown> {
  return isPlainObject(input) && !Object.prototype.hasOwnProperty.call(input, 'op');
}

const isOperatorObject = (v: unknown): v is Record<string, unknown> =>
  isPlainObject(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'));
const isScalar = (v: unknown) =>
  v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
const missing = (attr: string): Rule => ({ op: 'not', rule: { op: 'exists', attr } });

/**
 * Translates a condition into a rule tree, or returns the errors with paths into the condition object (`path` is
 * the prefix: `targeting`). Every leaf is checked by the rule tree's own validator (RE2 compile for `$regex`, list
 * sizes), and the whole tree against the depth and node limits.
 */
export function conditionToRule(
  input: unknown,
  path: Path = ['targeting'],
): { ok: true; rule: Rule } | { ok: false; errors: ConditionError[] } {
  const errors: ConditionError[] = [];
  const fail = (p: Path, message: string): null => {
    errors.push({ path: formatPath(p), parts: [...p], message });
    return null;
  };
  let nodes = 0;

  /** Checks a leaf with the rule tree's validator; its errors move to the operator's path in the condition. */
  const leaf = (rule: Rule, p: Path, attrPath: Path): Rule | null => {
    const probe = '\u0000';
    const found = validateRule(rule, probe);
    for (const e of found)
      fail(e.path.startsWith(`${probe}.attr`) ? attrPath : [...p, ...indexOf(e.path.slice(probe.length))], e.message);
    return found.length ? null : rule;
  };

  const field = (attr: string, v: unknown, p: Path): Rule | null => {
    if (attr.length > RULE_LIMITS.maxAttrLength)
      return fail(p, `attribute names are at most ${RULE_LIMITS.maxAttrLength} characters`);
    if (!isOperatorObject(v)) {
      if (v === null) return missing(attr);
      if (isScalar(v)) return leaf({ op: 'eq', attr, value: v as string | number | boolean }, p, p);
      return fail(
        p,
        'must be a string, number, boolean or null (equality) or an object of operators ($eq, $in, …); attributes are flat scalars, so arrays and nested objects never match',
      );
    }
    const parts: Rule[] = [];
    for (const [op, arg] of Object.entries(v)) {
      const r = operator(attr, op, arg, [...p, op], p);
      if (r) parts.push(r);
    }
    return parts.length === 1 ? parts[0] : { op: 'and', rules: parts };
  };

  const operator = (attr: string, op: string, arg: unknown, p: Path, attrPath: Path): Rule | null => {
    switch (op) {
      case '$eq':
      case '$ne':
        if (arg === null) return op === '$eq' ? missing(attr) : { op: 'exists', attr };
        if (!isScalar(arg)) return fail(p, 'must be a string, finite number, boolean or null');
        return leaf({ op: op === '$eq' ? 'eq' : 'neq', attr, value: arg as string | number | boolean }, p, attrPath);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return leaf({ op: op.slice(1) as 'gt', attr, value: arg as number }, p, attrPath);
      case '$in':
      case '$nin':
        return leaf({ op: op.slice(1) as 'in', attr, value: arg as string[] }, p, attrPath);
      case '$exists':
        if (typeof arg !== 'boolean') return fail(p, 'must be true or false');
        return arg ? { op: 'exists', attr } : missing(attr);
      case '$regex':
        if (typeof arg !== 'string') return fail(p, 'must be a string (an RE2 regular expression)');
        return leaf({ op: 'regex', attr, pattern: arg }, p, attrPath);
      case '$not': {
        const inner = field(attr, arg, p);
        return inner && { op: 'not', rule: inner };
      }
      default:
        return fail(p, `unknown operator; supported on a field: ${CONDITION_FIELD_OPS.join(', ')}`);
    }
  };

  const condition = (c: unknown, p: Path, depth: number): Rule | null => {
    if (++nodes > RULE_LIMITS.maxNodes)
      return nodes === RULE_LIMITS.maxNodes + 1
        ? fail(p, `a condition may have at most ${RULE_LIMITS.maxNodes} parts`)
        : null;
    if (depth > RULE_LIMITS.maxDepth) return fail(p, `conditions may nest at most ${RULE_LIMITS.maxDepth} deep`);
    if (!isPlainObject(c))
      return fail(p, `must be a condition object, got ${c === null ? 'null' : Array.isArray(c) ? 'array' : typeof c}`);
    const parts: Rule[] = [];
    for (const [k, v] of Object.entries(c)) {
      const q = [...p, k];
      let r: Rule | null;
      if (k === '$and' || k === '$or' || k === '$nor') {
        if (!Array.isArray(v)) {
          fail(q, 'must be an array of conditions');
          continue;
        }
        const subs = v.map((s, i) => condition(s, [...q, i], depth + 1));
        if (subs.some((s) => s === null)) continue;
        const rules = subs as Rule[];
        // GrowthBook: an empty $or is true (so an empty $nor is false); an empty $and is true.
        const any: Rule = rules.length === 0 ? { op: 'and', rules } : { op: 'or', rules };
        r = k === '$and' ? { op: 'and', rules } : k === '$or' ? any : { op: 'not', rule: any };
      } else if (k === '$not') {
        const inner = condition(v, q, depth + 1);
        r = inner && { op: 'not', rule: inner };
      } else if (k.startsWith('$')) {
        r = fail(
          q,
          `unknown operator; supported at the top of a condition: ${CONDITION_LOGICAL_OPS.join(', ')} (or an attribute name)`,
        );
      } else {
        r = field(k, v, q);
      }
      if (r) parts.push(r);
    }
    return parts.length === 1 ? parts[0] : { op: 'and', rules: parts };
  };

  const rule = condition(input, path, 0);
  if (errors.length || !rule) return { ok: false, errors };
  // The translated tree may nest deeper or have more nodes than the condition's own parts: one check of the whole.
  const whole = validateRule(rule, formatPath(path));
  if (whole.length)
    return { ok: false, errors: whole.map((e) => ({ path: formatPath(path), parts: [...path], message: e.message })) };
  return { ok: true, rule };
}

/** `.value[2]` → ['value', 2] → the operator's operand: ['value', 2] drops 'value'/'pattern' (the operand is the operator's value). */
function indexOf(rest: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of rest.matchAll(/\.([A-Za-z]+)|\[(\d+)\]/g)) {
    if (m[1] !== undefined) {
      if (m[1] !== 'value' && m[1] !== 'pattern' && m[1] !== 'flags') out.push(m[1]);
    } else out.push(Number(m[2]));
  }
  return out;
}

/**
 * Targeting in either syntax: the rule tree (`{op: …}`) as it is, or a condition translated. Errors carry paths
 * into what was sent (`targeting.rules[1].value`, `targeting.country.$in[1]`).
 */
export function parseTargeting(
  input: unknown,
  path = 'targeting',
): { ok: true; rule: Rule } | { ok: false; errors: ConditionError[] } {
  if (isCondition(input)) return conditionToRule(input, [path]);
  const errors = validateRule(input, path);
  return errors.length
    ? { ok: false, errors: errors.map((e) => ({ ...e, parts: splitPath(e.path) })) }
    : { ok: true, rule: input as Rule };
}

/** Field-path errors of targeting in either syntax; empty when valid. */
export function validateTargeting(input: unknown, path = 'targeting'): ConditionError[] {
  const r = parseTargeting(input, path);
  return r.ok ? [] : r.errors;
}

/** `targeting.rules[1].value[0]` → ['targeting', 'rules', 1, 'value', 0] (the rule tree's paths have no dotted keys). */
function splitPath(path: string): (string | number)[] {
  return path
    .split(/\.|(?=\[)/)
    .filter(Boolean)
    .map((p) => (/^\[\d+\]$/.test(p) ? Number(p.slice(1, -1)) : p));
}
